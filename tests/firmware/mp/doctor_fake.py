"""Test helper (MicroPython): the board `soothe doctor`'s script meets in
tests/host/test_doctor_selftest.py.  Importing it installs the fakes (machine, neopixel, an
`os` with the board's uname and flash figures), makes the sensors measure while the
self-test waits (100 Hz PPG into a MAX30102's FIFO, a wrist at rest on any LIS2DH12), and
points selftest.run at that wait.  setup(name) puts one of the named sets of chips on the bus
(CHIPS); report() prints what reached the fake hardware."""
import json
import sys

from esp32_fake import bus, fake_machine, fake_neopixel
from fake_lis2dh12 import FakeLis2dh12


class FakeOs:
    """The unix port's os has no uname; a board's flash: 4 KB blocks, 500 free."""

    def uname(self):
        return type("Uname", (), {"machine": "ESP32S3 (fake board)"})()

    def statvfs(self, path):
        return (4096, 4096, 1000, 500, 500, 0, 0, 0, 0, 255)


sys.modules["os"] = FakeOs()
fake_machine.ADC.samples = [(1800 + (i % 25) * 40) << 4 for i in range(400)]  # a pulse, 1800..2760
slept = []


def sleep_ms(ms):
    """The sensors keep measuring while the self-test waits."""
    slept.append(ms)
    if 0x57 in bus.regs:
        bus.push([60000 + (i % 10) * 500 for i in range(ms // 10)])
    for chip in bus.chips.values():
        for _ in range(ms * 25 // 1000):
            chip.push(0, 0, 125 << 6)


from soothe_fw.hw import selftest  # noqa: E402

_run = selftest.run
selftest.run = lambda: _run(sleep_ms=sleep_ms)


def wearable():
    """The README's XIAO wearable: MAX30102, DRV2605 and a LIS2DH12 on one I2C bus."""
    bus.device(0x57, {0xFF: 0x15})
    bus.device(0x5A, {})
    bus.attach(FakeLis2dh12())


CHIPS = {"none": lambda: None, "wearable": wearable}


def setup(name):
    CHIPS[name]()


def report():
    print("FAKELOG " + json.dumps({
        "hw": [e for e in fake_machine.log if e[0] in ("pwm", "duty", "i2c", "adc", "freq")],
        "pixels": [[px.pin, px.writes] for px in fake_neopixel.made],
        "rtp": [e[3] for e in bus.log if e[0] == "w" and e[1] == 0x5A and e[2] == 0x02],
        "slept": sum(slept)}))
