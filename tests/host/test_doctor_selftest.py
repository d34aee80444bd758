"""Issue 16 #6: `soothe doctor` runs the firmware's self-test (soothe_fw/hw/selftest.py), which
builds the board from board.txt exactly as the app does.  The real DOCTOR script runs under the
MicroPython unix port against the fake board (tests/fakes: machine, I2C chips, NeoPixel); the
test reads what reached the hardware and what the doctor told the user."""
import json
import os
import subprocess

import pytest

from conftest import FAKES, MP_TESTS
from soothe.deploy import Deployer, board_txt, doctor_report
from soothe.fw import FIRMWARE_DIR, micropython_binary

# tests/firmware/mp/doctor_run.py runs the doctor's own script on doctor_fake.py's board: the
# fakes, sensors that measure while the self-test waits, the named sets of chips on the bus.


def doctor(tmp_path, board_text, setup="none"):
    """Runs `soothe doctor`'s board script through Deployer, as mpremote would, on the fake board
    described by board_text with the chips doctor_fake.CHIPS[setup]; returns (findings, what
    reached the fake hardware)."""
    (tmp_path / "board.txt").write_text(board_text)
    seen = {}

    def runner(argv):
        assert argv[:3] == ["connect", "/dev/fake0", "exec"]
        (tmp_path / "doctor_script.py").write_text(argv[3])
        env = dict(os.environ, MICROPYPATH=".frozen:%s:%s:%s" % (FAKES, MP_TESTS, FIRMWARE_DIR))
        p = subprocess.run([micropython_binary(), str(MP_TESTS / "doctor_run.py"), setup,
                            str(tmp_path / "doctor_script.py")], cwd=str(tmp_path), capture_output=True, text=True,
                           env=env, timeout=120)
        for line in p.stdout.splitlines():
            if line.startswith("FAKELOG "):
                seen.update(json.loads(line[8:]))
        return p.returncode, p.stdout, p.stderr

    res = Deployer("/dev/fake0", runner=runner).doctor()
    return res, seen


def test_the_wearable_build_drives_the_pixel_and_the_drv2605_never_a_pwm(tmp_path):
    """The README's XIAO wearable: MAX30102, WS2812, DRV2605, LIS2DH12 on one I2C bus."""
    text = board_txt("xiao-esp32s3", "max30102", "ws2812", "drv2605")
    res, hw = doctor(tmp_path, text, "wearable")
    assert res["board"] == "xiao-esp32s3" and res["options"]["led"] == "ws2812"
    # the pixel on D1 (GPIO 2) showed red, green, blue, off; no PWM anywhere (not on the pixel's data pin,
    # not on GPIO 5 where a PWM motor would be)
    assert hw["pixels"] == [[2, [[[40, 0, 0]], [[0, 40, 0]], [[0, 0, 40]], [[0, 0, 0]]]]]
    assert [e for e in hw["hw"] if e[0] in ("pwm", "duty", "adc")] == []
    # the DRV2605 in real-time playback: 0 at start, one buzz at 60 % (153 of 255), then still
    assert hw["rtp"] == [0, 153, 0]
    assert ["i2c", 0, 8, 9, 400000] in hw["hw"] and ["freq", 160000000] in hw["hw"]
    assert res["i2c"] == [0x19, 0x57, 0x5A]
    assert res["fifo_samples"] == 100 and res["adc_min"] == 60000 and res["adc_max"] == 64500
    assert res["accel"] == {"addr": 0x19, "mg": [0, 0, 1000], "n": 7}
    lines, problems = doctor_report(res)
    assert problems == 0, lines
    assert "ok   MAX30102 FIFO: 100 samples in 1 s (none means check the sensor's supply)" in lines
    assert "ok   DRV2605L on I2C at 0x5A" in lines
    assert lines[-1] == "look: the WS2812 pixel should have shown red, green, blue, one buzz (DRV2605)"


def test_the_devkit_default_pwms_the_rgb_led_and_the_motor_and_reads_the_adc(tmp_path):
    res, hw = doctor(tmp_path, board_txt("esp32-devkitc"))
    duty = [e[1:] for e in hw["hw"] if e[0] == "duty"]
    # common cathode: the LED's r, g, b on GPIO 25, 26, 27 (level 40 -> duty 40 * 257), then the motor on
    # 23, and the board's deinit stops it once more
    assert duty == [[25, 40 * 257], [25, 0], [26, 40 * 257], [26, 0], [27, 40 * 257], [27, 0],
                    [23, 60 * 655], [23, 0], [23, 0]]
    assert hw["pixels"] == [] and hw["rtp"] == []
    assert ["adc", 34] in hw["hw"]
    assert ["i2c", 0, 21, 22, 0] in hw["hw"]  # no chip needs the bus: scanned anyway, for one not declared
    assert res["adc_min"] == 1800 and res["adc_max"] == 2760 and res["i2c"] == []
    lines, problems = doctor_report(res)
    assert problems == 0, lines
    assert any(ln.startswith("info no accelerometer answers (not used: this sensor and motor need no I2C bus")
               for ln in lines)
    assert lines[-1] == "look: the RGB LED should have shown red, green, blue, one buzz"


@pytest.mark.parametrize("board,setup,why", [
    (board_txt("esp32-devkitc", accel="lis2dh12"), "none", "OSError: LIS2DH12 accelerometer not answering"),
    (board_txt("xiao-esp32s3", "max30102", "ws2812", "drv2605"), "none", "MAX30102 not answering at 0x57"),
    ("esp32-devkitc\nled=rgbw\n", "none", "ValueError: board.txt led=rgbw: use one of"),
])
def test_a_board_that_would_not_start_is_one_fix_line(tmp_path, board, setup, why):
    res, hw = doctor(tmp_path, board, setup)
    lines, problems = doctor_report(res)
    assert problems == 1
    assert [ln for ln in lines if ln.startswith("FIX")][0].startswith("FIX  the board (")
    assert why in lines[-1]
