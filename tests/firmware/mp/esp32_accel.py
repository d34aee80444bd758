"""Test script (MicroPython): the ESP32 board builds the LIS2DH12 on the sensor's I2C bus (or
not: accel=auto|lis2dh12|none, with and without a chip answering); prints JSON of what it
built and read.  tests/firmware/test_accel_lis2dh12.py asserts on it."""
import json
from array import array

from esp32_fake import esp32 as board_esp32, log, bus
from fake_lis2dh12 import FakeLis2dh12

bus.device(0x57, {0xFF: 0x15})


def board(name, opts):
    try:
        b = board_esp32.Esp32Board(name, opts)
    except (OSError, ValueError) as e:
        return None, "%s: %s" % (type(e).__name__, e)
    return b, ""


out = {}
# wearable: MAX30102 and the LIS2DH12 share the I2C bus on D9/D10
chip = FakeLis2dh12()
bus.attach(chip)
log.clear()
b, err = board("xiao-esp32s3", {"sensor": "max30102"})
out["wearable"] = [type(b.accel).__name__, b.accel.rate_hz, b.accel.addr, err,
                   [e for e in log if e[0] == "i2c"]]
chip.push(0, 0, 125 << 6)
buf = array("h", [0] * 96)
out["read"] = [b.accel.read_fifo(buf), list(buf[:3])]
for i in range(6):  # 240 ms at 25 Hz: the FIFO level, then bursts of 4 and 2 samples
    chip.push(i << 6, 0, 125 << 6)
bus.log.clear()
out["six"] = [b.accel.read_fifo(buf), [buf[3 * i] for i in range(6)], [e[2:] for e in bus.log]]
b.deinit()
out["off"] = chip.regs[0x20]
# auto with no chip answering: no accelerometer, the reason kept for the doctor
del bus.chips[0x19]
b, err = board("xiao-esp32s3", {"sensor": "max30102"})
out["absent"] = [b.accel is None, b.accel_error]
# the analog PulseSensor on a DevKit: no I2C bus unless the accelerometer is declared
log.clear()
b, err = board("esp32-devkitc", {})
out["analog"] = [b.accel is None, [e for e in log if e[0] == "i2c"]]
b, err = board("esp32-devkitc", {"accel": "lis2dh12"})
out["declared_missing"] = err
bus.attach(FakeLis2dh12(addr=0x18))
log.clear()
b, err = board("esp32-devkitc", {"accel": "lis2dh12"})
out["declared"] = [b.accel.addr, [e for e in log if e[0] == "i2c"]]
b, err = board("xiao-esp32s3", {"sensor": "max30102", "accel": "none"})
out["none"] = b.accel is None
b, err = board("xiao-esp32s3", {"accel": "bma400"})
out["bad"] = err
print(json.dumps(out))
