"""ESP32 boards: pin maps and the driver choice (the composition of hardware).

Pins live here and only here.  Options come from /board.txt (board.parse_board_txt):
  sensor = analog (PulseSensor on ADC1, default) | max30102 (I2C)
  led    = pwm-cathode (default) | pwm-anode | ws2812
  motor  = pwm (transistor + flyback diode, default) | drv2605 (I2C, ERM) | drv2605-lra
  cpu_mhz = 80 | 160 | 240 (default 160)
  sleep  = light (default with max30102) | none: light sleep between FIFO bursts (Napper)
  accel  = auto (default) | lis2dh12 | none: the wrist accelerometer on the I2C bus (lis2dh12.py).
           auto uses it when it answers on a bus the board already has (sensor=max30102 or
           motor=drv2605), else board.accel is None and motion comes from the pulse signal
           alone; lis2dh12 builds the bus even for the analog PulseSensor and refuses to start
           without the chip (OSError "check wiring").  The app reads its FIFO after each PPG block.
The analog sample timer callback only captures: it writes one ADC reading into a
pre-allocated ring and sets a ThreadSafeFlag; the sensor task does the work.
Register-level drivers, one chip per file: max30102.py, drv2605.py, ws2812.py and the LIS2DH12
accelerometer in lis2dh12.py, all tested against fake buses; this file is type-checked but not run in CI (no hardware).
"""
import sys
import asyncio
import time

import machine

from soothe_fw.clock import Clock
from soothe_fw.link.serial import StdioSerial
from soothe_fw.compat import zeros, const

# The chip drivers (max30102, drv2605, ws2812, lis2dh12) are imported where board.txt asks for
# them: a DevKitC with the default analog sensor and PWM LED and motor never holds their modules
# (9.2 KB less heap after building that board from source on the 64-bit unix port; their module
# objects alone are about 1.6 KB in a frozen build).

PINS = {
    # board: (pulse ADC pin, LED r, g, b, motor, button, I2C sda, scl, WS2812 data)
    "esp32-devkitc": (34, 25, 26, 27, 23, 0, 21, 22, 25),
    "xiao-esp32s3": (1, 2, 3, 4, 5, 6, 8, 9, 2),
}
SENSORS = ("analog", "max30102")
LEDS = ("pwm-cathode", "pwm-anode", "ws2812")
MOTORS = ("pwm", "drv2605", "drv2605-lra")
SLEEPS = ("light", "none")
ACCELS = ("auto", "lis2dh12", "none")
_RING = const(128)


class AnalogPulseSensor:
    adc_max = 4095
    flat_range = 8

    def __init__(self, pin, rate_hz=100, timer_id=0):
        self.adc = machine.ADC(machine.Pin(pin))
        self.adc.atten(machine.ADC.ATTN_11DB)  # full 0-3.3 V range
        self.rate_hz = rate_hz
        self.block = max(1, rate_hz // 4)
        self.ring = zeros("H", _RING)
        self.head = 0
        self.tail = 0
        self.flag = asyncio.ThreadSafeFlag()
        self._cb = self._capture  # bound once: no allocation in the callback
        self.timer = machine.Timer(timer_id)
        self.timer.init(freq=rate_hz, mode=machine.Timer.PERIODIC, callback=self._cb)

    def _capture(self, _t):
        self.ring[self.head] = self.adc.read_u16() >> 4
        self.head = (self.head + 1) % _RING
        if (self.head - self.tail) % _RING >= self.block:
            self.flag.set()

    async def read_block(self, buf):
        while (self.head - self.tail) % _RING < self.block:
            await self.flag.wait()
        return self.read(buf)

    # The sense loop's allocation-free path (App.sense): `await asyncio.sleep_ms(wait_ms())`
    # (asyncio's singleton: nothing allocated) then read(); an async read_block() call
    # allocates its generator every block.
    def wait_ms(self):
        """ms until a whole block is in the ring (0: it is)."""
        missing = self.block - (self.head - self.tail) % _RING
        return (missing * 1000 + self.rate_hz - 1) // self.rate_hz if missing > 0 else 0

    def read(self, buf):
        """A block from the ring into buf, or 0 when it is not there yet."""
        if (self.head - self.tail) % _RING < self.block:
            return 0
        for i in range(self.block):
            buf[i] = self.ring[self.tail]
            self.tail = (self.tail + 1) % _RING
        return self.block

    def deinit(self):
        self.timer.deinit()


class Napper:
    """Light sleep between MAX30102 FIFO bursts: the sensor keeps sampling into its
    32-deep FIFO (320 ms at 100 Hz) while the CPU is stopped.

    Only while nothing needs the CPU or its clocks: the motor is still, a PWM LED is
    dark (LEDC stops in light sleep; a WS2812 latches its colour), and neither a byte
    from a host nor a button press came in the last `awake_ms` (the UART and USB do
    not run in light sleep).  A press wakes the chip (level wake on the button pin),
    so a wearer who wants to sync presses once and the device stays awake for it.
    """

    def __init__(self, mach, ticks_ms, motor, led, serial, button, awake_ms=60000):
        self.machine = mach
        self.ticks_ms = ticks_ms
        self.motor = motor
        self.led = led
        self.pwm_led = isinstance(led, PwmLED)
        self.serial = serial
        self.button = button
        self.awake_ms = awake_ms
        self._seen_in = serial.bytes_in
        self._active = ticks_ms()  # awake for a while after boot, for a host to connect
        self.naps = 0
        button.pin.irq(handler=None, trigger=mach.Pin.IRQ_LOW_LEVEL, wake=mach.SLEEP)

    def nap(self, ms):
        """Light-sleeps `ms` and returns True, or returns False when it must stay awake."""
        now = self.ticks_ms()
        if self.serial.bytes_in != self._seen_in or self.button.pressed():
            self._seen_in = self.serial.bytes_in
            self._active = now
        if time.ticks_diff(now, self._active) < self.awake_ms:
            return False
        if self.motor.duty or (self.pwm_led and (self.led.rgb[0] or self.led.rgb[1] or self.led.rgb[2])):
            return False
        if self.button._flag is not None:  # the ui's edge IRQ replaced the wake: set it again
            self.button.pin.irq(handler=None, trigger=self.machine.Pin.IRQ_LOW_LEVEL, wake=self.machine.SLEEP)
        self.machine.lightsleep(ms)
        self.button.arm()
        self.naps += 1
        return True


class Max30102Sensor:
    """MAX30102 FIFO read in bursts: between them the CPU light-sleeps when `nap`
    allows (see Napper), else asyncio idles."""

    flat_range = 64

    def __init__(self, i2c, rate_hz=100):
        from soothe_fw.hw import max30102

        self.adc_max = max30102.ADC_MAX
        self.dev = max30102.Max30102(i2c, rate_hz)
        self.rate_hz = rate_hz
        self.block = max(1, rate_hz // 4)
        self._poll_ms = (self.block * 1000) // rate_hz // 2  # the 32-deep FIFO never fills
        self.nap = None  # set by the board: Napper.nap, or None to stay awake
        self._n = 0  # samples of the block read so far (they wait in the caller's buf)

    # App.sense's path, as the analog sensor's: `await asyncio.sleep_ms(wait_ms())` then
    # read(); no coroutine per burst (an async read_block() allocates its generator).
    def wait_ms(self):
        """ms to idle before the next FIFO burst: 0 after a light sleep (Napper), which
        has already slept them while the sensor kept sampling into its FIFO."""
        if self.nap is not None and self.nap(self._poll_ms):
            return 0  # the other tasks run between bursts
        return self._poll_ms

    def read(self, buf):
        """Appends the FIFO's waiting samples to the block in buf; returns the block's
        length once it is whole, else 0 (the samples stay in buf for the next burst)."""
        n = self._n + self.dev.read_fifo(buf, self._n)
        if n < self.block:
            self._n = n
            return 0
        self._n = 0
        return n

    async def read_block(self, buf):
        while True:
            await asyncio.sleep_ms(self.wait_ms())
            n = self.read(buf)
            if n:
                return n

    def deinit(self):
        self.dev.shutdown()


class PwmLED:
    """RGB LED on three LEDC channels.  set_rgb allocates nothing: the colour is kept in a
    3-item list updated in place, and only channels whose level changed are written."""

    def __init__(self, r, g, b, common_anode=False):
        self.pwms = [machine.PWM(machine.Pin(p), freq=1000, duty_u16=65535 if common_anode else 0)
                     for p in (r, g, b)]
        self.common_anode = common_anode
        self.rgb = [0, 0, 0]

    def set_rgb(self, r, g, b):
        rgb = self.rgb
        if r != rgb[0]:
            rgb[0] = r
            self._duty(0, r)
        if g != rgb[1]:
            rgb[1] = g
            self._duty(1, g)
        if b != rgb[2]:
            rgb[2] = b
            self._duty(2, b)

    def _duty(self, i, v):
        duty = v * 257
        self.pwms[i].duty_u16(65535 - duty if self.common_anode else duty)


class PwmMotor:
    def __init__(self, pin):
        self.pwm = machine.PWM(machine.Pin(pin), freq=200, duty_u16=0)
        self.duty = 0

    def set(self, duty_pct):
        self.duty = duty_pct
        self.pwm.duty_u16(duty_pct * 655)


class Button:
    def __init__(self, pin):
        self.pin = machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)
        self._flag = None
        self._edge = self._on_edge  # bound once, so the IRQ allocates nothing

    def pressed(self):
        return self.pin.value() == 0

    def _on_edge(self, pin):
        flag = self._flag
        if flag is not None:
            flag.set()

    def watch(self, flag):
        """Sets `flag` (an asyncio.ThreadSafeFlag) on every press and release: the ui
        sleeps until then instead of polling."""
        self._flag = flag
        self.arm()

    def arm(self):
        if self._flag is not None:
            self.pin.irq(handler=self._edge, trigger=machine.Pin.IRQ_FALLING | machine.Pin.IRQ_RISING)


class Esp32Board:
    data_dir = "/data"

    def __init__(self, name, options=None):
        if name not in PINS:
            raise ValueError("unknown board %r in /board.txt (use %s)" % (name, ", ".join(PINS)))
        o = options or {}
        sensor, led, motor = o.get("sensor", "analog"), o.get("led", "pwm-cathode"), o.get("motor", "pwm")
        sleep = o.get("sleep", "light" if sensor == "max30102" else "none")
        accel = o.get("accel", "auto")
        for key, value, allowed in (("sensor", sensor, SENSORS), ("led", led, LEDS), ("motor", motor, MOTORS),
                                    ("sleep", sleep, SLEEPS), ("accel", accel, ACCELS)):
            if value not in allowed:
                raise ValueError("board.txt %s=%s: use one of %s" % (key, value, ", ".join(allowed)))
        if sleep == "light" and sensor != "max30102":
            raise ValueError("board.txt sleep=light needs sensor=max30102 (the analog sensor's sample "
                             "timer stops in light sleep): use sleep=none")
        self.name = name
        adc, r, g, b, motor_pin, button, sda, scl, pixel = PINS[name]
        machine.freq(int(o.get("cpu_mhz", "160")) * 1000000)
        i2c = None
        if sensor == "max30102" or motor.startswith("drv2605") or accel == "lis2dh12":
            i2c = machine.I2C(0, sda=machine.Pin(sda), scl=machine.Pin(scl), freq=400000)
        self.i2c = i2c  # None unless a chip on board.txt needs the bus (the doctor's scan uses it)
        self.clock = Clock(time.ticks_ms)
        fifo = Max30102Sensor(i2c) if sensor == "max30102" else None
        self.sensor = fifo or AnalogPulseSensor(adc)
        self.accel_error = ""
        self.accel = self._accel(accel, i2c)
        self.led = self._led(led, r, g, b, pixel)
        self.motor = self._motor(motor, i2c, motor_pin)
        self.button = Button(button)
        self.serial = StdioSerial()
        self.napper = None
        if sleep == "light" and fifo is not None:
            self.napper = Napper(machine, time.ticks_ms, self.motor, self.led, self.serial, self.button)
            fifo.nap = self.napper.nap
        self.device_id = "".join("%02x" % b for b in machine.unique_id())
        self._wdt = None

    def _accel(self, kind, i2c):
        """The LIS2DH12 on the sensor's I2C bus, or None: the firmware then falls back to
        motion from the pulse signal alone (MotionMeter)."""
        if kind == "none" or i2c is None:
            return None
        from soothe_fw.hw import lis2dh12

        try:
            return lis2dh12.Lis2dh12(i2c)
        except OSError as e:
            if kind == "lis2dh12":
                raise  # declared present in board.txt: a wiring fault is not hidden
            self.accel_error = str(e)
            return None

    @staticmethod
    def _motor(kind, i2c, pin):
        if kind.startswith("drv2605"):
            from soothe_fw.hw.drv2605 import Drv2605

            return Drv2605(i2c, lra=kind.endswith("lra"))
        return PwmMotor(pin)

    @staticmethod
    def _led(kind, r, g, b, pixel):
        if kind == "ws2812":
            import neopixel
            from soothe_fw.hw.ws2812 import Ws2812Led

            return Ws2812Led(neopixel.NeoPixel(machine.Pin(pixel), 1))
        return PwmLED(r, g, b, common_anode=(kind == "pwm-anode"))

    def fs_mount(self):
        import os

        try:
            os.mkdir(self.data_dir)
        except OSError:
            pass

    def on_stop(self, fn):
        pass

    def wdt_feed(self):
        if self._wdt is None:  # armed at the first feed: safe mode and the REPL never see it
            self._wdt = machine.WDT(timeout=8000)
        self._wdt.feed()

    def report_error(self, name, exc):
        sys.print_exception(exc)

    def pacer_rate(self, rate_x10):
        pass  # a real wearer follows the pacer by themselves

    def deinit(self):
        self.sensor.deinit()
        if self.accel is not None:
            self.accel.deinit()
        self.led.set_rgb(0, 0, 0)
        self.motor.set(0)
