"""Test script (MicroPython): the ESP32 board with a MAX30102 light-sleeps between FIFO bursts
only when nothing needs the CPU; prints JSON of the naps per situation.
tests/firmware/test_drivers.py asserts on it."""
import asyncio
import json
from array import array

from esp32_fake import esp32 as board_esp32, fake_machine, log

fake_machine.bus.device(0x57, {0xFF: 0x15})
now = [0]


def burst(b):
    """One FIFO burst read by the sensor task; the light sleeps it took (ms)."""
    fake_machine.bus.push([50000 + i for i in range(25)])
    log.clear()
    asyncio.run(b.sensor.read_block(array("i", [0] * 25)))
    return [e[1] for e in log if e[0] == "lightsleep"]


b = board_esp32.Esp32Board("xiao-esp32s3", {"sensor": "max30102", "led": "pwm-cathode", "motor": "pwm"})
irq = [e for e in log if e[0] == "irq"]
b.napper.ticks_ms = lambda: now[0]
b.napper._active = 0
r = {"irq": irq, "boot": burst(b)}
now[0] = 61000
r["idle"] = burst(b)
b.motor.set(40)
r["motor"] = burst(b)
b.motor.set(0)
b.led.set_rgb(0, 40, 0)
r["led"] = burst(b)
b.led.set_rgb(0, 0, 0)
b.serial.bytes_in += 3
r["host"] = burst(b)
now[0] = 122000
r["host_quiet"] = burst(b)
b.button.pin.level = 0
r["press"] = burst(b)
b.button.pin.level = 1
now[0] = 150000
r["after_press"] = burst(b)
r["naps"] = b.napper.naps
errors = []
for opts in ({"sleep": "light"}, {"sensor": "max30102", "sleep": "deep"}):
    try:
        board_esp32.Esp32Board("esp32-devkitc", opts)
    except ValueError as e:
        errors.append(str(e))
r["errors"] = errors
r["analog_napper"] = board_esp32.Esp32Board("esp32-devkitc", {}).napper is None
print(json.dumps(r))
