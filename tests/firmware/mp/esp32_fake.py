"""Test helper (MicroPython): the ESP32 board code (soothe_fw.hw.esp32) on the fakes of
tests/fakes: `machine` (pins, PWM, ADC, timer, I2C bus, light sleep, all logged), the I2C
chips and a NeoPixel.  `from esp32_fake import esp32, fake_machine, fake_neopixel, log, bus`."""
import sys

import fake_machine
import fake_neopixel

sys.modules["machine"] = fake_machine
sys.modules["neopixel"] = fake_neopixel

from soothe_fw.hw import esp32  # noqa: E402, F401  (once the fakes are in; tests import it from here)

log = fake_machine.log
bus = fake_machine.bus
__all__ = ["esp32", "fake_machine", "fake_neopixel", "log", "bus"]
