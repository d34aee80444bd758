"""ESP32 boards: pin maps and thin drivers (analog PulseSensor on ADC1, PWM LED and motor).

Pins live here and only here.  The sample timer callback only captures: it
writes one ADC reading into a pre-allocated ring and sets a ThreadSafeFlag;
the sensor task does the work.  Untested on hardware in this repository's CI.
"""
import sys
import asyncio
import time

import machine

from clock import Clock
from stdio_serial import StdioSerial
from compat import zeros, const

PINS = {
    # board: (pulse ADC pin, LED r, g, b, motor, button)
    "esp32-devkitc": (34, 25, 26, 27, 23, 0),
    "xiao-esp32s3": (1, 2, 3, 4, 5, 6),
}
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
        for i in range(self.block):
            buf[i] = self.ring[self.tail]
            self.tail = (self.tail + 1) % _RING
        return self.block

    def deinit(self):
        self.timer.deinit()


class PwmLED:
    def __init__(self, r, g, b, common_anode=False):
        self.pwms = [machine.PWM(machine.Pin(p), freq=1000, duty_u16=0) for p in (r, g, b)]
        self.common_anode = common_anode

    def set_rgb(self, r, g, b):
        for pwm, v in zip(self.pwms, (r, g, b)):
            duty = v * 257
            pwm.duty_u16(65535 - duty if self.common_anode else duty)


class PwmMotor:
    def __init__(self, pin):
        self.pwm = machine.PWM(machine.Pin(pin), freq=200, duty_u16=0)

    def set(self, duty_pct):
        self.pwm.duty_u16(duty_pct * 655)


class Button:
    def __init__(self, pin):
        self.pin = machine.Pin(pin, machine.Pin.IN, machine.Pin.PULL_UP)

    def pressed(self):
        return self.pin.value() == 0


class Esp32Board:
    data_dir = "/data"

    def __init__(self, name):
        if name not in PINS:
            raise ValueError("unknown board %r in /board.txt (use %s)" % (name, ", ".join(PINS)))
        self.name = name
        adc, r, g, b, motor, button = PINS[name]
        self.clock = Clock(time.ticks_ms)
        self.sensor = AnalogPulseSensor(adc)
        self.led = PwmLED(r, g, b)
        self.motor = PwmMotor(motor)
        self.button = Button(button)
        self.serial = StdioSerial()
        self.device_id = "".join("%02x" % b for b in machine.unique_id())

    def fs_mount(self):
        import os

        try:
            os.mkdir(self.data_dir)
        except OSError:
            pass

    def on_stop(self, fn):
        pass

    def report_error(self, name, exc):
        sys.print_exception(exc)

    def pacer_rate(self, rate_x10):
        pass  # a real wearer follows the pacer by themselves

    def deinit(self):
        self.sensor.deinit()
        self.led.set_rgb(0, 0, 0)
        self.motor.set(0)
