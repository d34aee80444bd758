"""A fake `machine` module (installed as sys.modules['machine'] by the test) that
records what the ESP32 board code asks of the hardware."""
from fake_i2c import FakeI2C

log = []


SLEEP = 2


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 2
    IRQ_LOW_LEVEL = 4
    IRQ_FALLING = 8
    IRQ_RISING = 16

    def __init__(self, n, mode=None, pull=None):
        self.n = n
        self.level = 1
        log.append(("pin", n, mode, pull))

    def value(self):
        return self.level

    def irq(self, handler=None, trigger=0, wake=None):
        log.append(("irq", self.n, trigger, wake))


class PWM:
    def __init__(self, pin, freq=0, duty_u16=0):
        self.pin = pin
        log.append(("pwm", pin.n, freq, duty_u16))

    def duty_u16(self, d):
        log.append(("duty", self.pin.n, d))


class ADC:
    ATTN_11DB = 3
    samples = []

    def __init__(self, pin):
        self.pin = pin
        log.append(("adc", pin.n))

    def atten(self, a):
        log.append(("atten", self.pin.n, a))

    def read_u16(self):
        return ADC.samples.pop(0) if ADC.samples else 0


class Timer:
    PERIODIC = 1
    last = None

    def __init__(self, tid):
        Timer.last = self

    def init(self, freq=0, mode=0, callback=None):
        self.callback = callback
        log.append(("timer", freq, mode))

    def deinit(self):
        log.append(("timer_off",))


class WDT:
    def __init__(self, timeout=0):
        log.append(("wdt", timeout))

    def feed(self):
        log.append(("feed",))


bus = FakeI2C()


def I2C(n, sda=None, scl=None, freq=0):
    log.append(("i2c", n, sda.n, scl.n, freq))
    return bus


def freq(hz):
    log.append(("freq", hz))


def unique_id():
    return b"\x24\x0a\xc4\x12\x34\x56"


def lightsleep(ms):
    log.append(("lightsleep", ms))
