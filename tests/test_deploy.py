"""`soothe deploy` against a fake board: a folder as its filesystem, mpremote's `fs`
commands applied to it, and `exec` scripts run by the MicroPython unix port inside it."""
import json
import os
import shutil
import subprocess

import pytest

from soothe import cli
from soothe.deploy import ARCH, DeployError, Deployer, doctor_report
from soothe.fw import micropython_binary


class FakeBoard:
    def __init__(self, root, corrupt=None):
        self.root = root
        self.corrupt = corrupt  # a file name whose copy lands damaged
        self.ops = []

    def __call__(self, argv):
        assert argv[:2] == ["connect", "/dev/fake0"]
        cmds, cur = [], []
        for a in argv[2:]:
            if a == "+":
                cmds.append(cur)
                cur = []
            else:
                cur.append(a)
        cmds.append(cur)
        out = ""
        for c in cmds:
            if c[0] == "exec":
                self.ops.append(("exec", c[1].split("print('")[1].split(" ")[0]))
                p = subprocess.run([micropython_binary(), "-c", c[1]], cwd=self.root, capture_output=True, text=True)
                if p.returncode:
                    return 1, p.stdout, p.stderr
                out += p.stdout
            elif c[:2] == ["fs", "cp"]:
                name = c[3].lstrip(":")
                self.ops.append(("cp", name))
                shutil.copy(c[2], os.path.join(self.root, name))
                if name == self.corrupt:
                    with open(os.path.join(self.root, name), "r+b") as f:
                        f.seek(10)
                        f.write(b"\xff")
            elif c[:2] == ["fs", "rm"]:
                self.ops.append(("rm", c[2].lstrip(":")))
                os.remove(os.path.join(self.root, c[2].lstrip(":")))
            elif c == ["soft-reset"]:
                self.ops.append(("soft-reset",))
            else:
                return 1, "", "unknown command %s" % c
        return 0, out, ""


@pytest.fixture
def board(tmp_path):
    root = tmp_path / "board"
    (root / "data" / "log").mkdir(parents=True)
    (root / "data" / "config.json").write_text('{"led_brightness_pct": 12}')
    (root / "data" / "log" / "00000001.seg").write_bytes(b"\xa5log")
    (root / "old_module.mpy").write_bytes(b"M\x06stale")
    (root / "boot.py").write_text("# the board's own boot.py stays")
    return root


def test_deploy_compiles_copies_verifies_and_keeps_the_wearers_files(board, tmp_path):
    fake = FakeBoard(str(board))
    d = Deployer("/dev/fake0", runner=fake, log=lambda m: None)
    res = d.deploy("xiao-esp32s3", sensor="max30102", led="ws2812", motor="drv2605", build_dir=tmp_path)
    names = sorted(res["files"])
    assert "main.py" in names and "board.txt" in names and "app.mpy" in names and "drivers.mpy" in names
    assert "motion.mpy" in names
    assert not any(n.startswith(("board_sim", "ppg_synth", "motion_synth", "csvsource", "replay", "bench_"))
                   for n in names)
    # the exact operations, in order
    assert fake.ops[0] == ("exec", "INVENTORY")
    assert fake.ops[1] == ("rm", "old_module.mpy")
    assert [op[1] for op in fake.ops if op[0] == "cp"] == names_in_copy_order(res)
    assert fake.ops[-2:] == [("exec", "INVENTORY"), ("soft-reset",)]
    # one mpremote call for all copies (chained with +), not one per file
    assert sum(1 for c in d.calls if "cp" in c) == 1
    # the .mpy files are MicroPython bytecode for the ESP32's architecture
    mpy = (board / "beats.mpy").read_bytes()
    assert mpy[0] == ord("M") and mpy[1] == 6 and (mpy[2] >> 2) == 10  # arch 10 = xtensawin (py/persistentcode.h)
    assert ARCH == "xtensawin"
    assert (board / "board.txt").read_text() == "xiao-esp32s3\nsensor=max30102\nled=ws2812\nmotor=drv2605\ncpu_mhz=160\n"
    # the wearer's config and log, and the board's boot.py, are untouched
    assert (board / "data" / "config.json").read_text() == '{"led_brightness_pct": 12}'
    assert (board / "data" / "log" / "00000001.seg").read_bytes() == b"\xa5log"
    assert (board / "boot.py").exists()
    # a second deploy copies nothing: every hash already matches
    fake.ops.clear()
    again = Deployer("/dev/fake0", runner=fake, log=lambda m: None).deploy("xiao-esp32s3", sensor="max30102",
                                                                           led="ws2812", motor="drv2605")
    assert again["copied"] == 0 and not [op for op in fake.ops if op[0] == "cp"]


def names_in_copy_order(res):
    order = sorted(n for n in res["files"] if n != "board.txt")
    return order + ["board.txt"]


def test_a_damaged_copy_fails_the_hash_check(board, tmp_path):
    d = Deployer("/dev/fake0", runner=FakeBoard(str(board), corrupt="hrv.mpy"), log=lambda m: None)
    with pytest.raises(DeployError, match="hash mismatch after copying hrv.mpy"):
        d.deploy("esp32-devkitc")


def test_deploy_cli_errors_are_one_line(capsys):
    assert cli.main(["deploy", "--port", "/dev/fake0", "--board", "esp8266"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--board esp8266: use one of esp32-devkitc, xiao-esp32s3" in err
    # light sleep with the analog sensor is refused before any board is opened
    assert cli.main(["deploy", "--port", "/dev/fake0", "--sleep", "light"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--sleep light needs --sensor max30102" in err


def test_deploy_writes_cpu_clock_and_sleep_into_board_txt(board, tmp_path):
    d = Deployer("/dev/fake0", runner=FakeBoard(str(board)), log=lambda m: None)
    d.deploy("xiao-esp32s3", sensor="max30102", led="ws2812", cpu_mhz=80, sleep="none", build_dir=tmp_path)
    assert (board / "board.txt").read_text() == (
        "xiao-esp32s3\nsensor=max30102\nled=ws2812\nmotor=pwm\ncpu_mhz=80\nsleep=none\n")


def test_doctor_report_reads_the_boards_answers():
    good = {"impl": [1, 24, 1], "machine": "ESP32S3 module", "flash_free": 1500000, "ram_free": 120000,
            "options": {"sensor": "max30102", "motor": "drv2605"}, "i2c": [0x57, 0x5A],
            "pattern": "red, green, blue, one buzz"}
    lines, problems = doctor_report(good)
    assert problems == 0 and lines[0].startswith("ok   MicroPython 1.24.1")
    bad = dict(good, i2c=[0x5A], flash_free=100000)
    lines, problems = doctor_report(bad)
    assert problems == 2 and any(ln.startswith("FIX  MAX30102") for ln in lines)
    analog = {"impl": [1, 24, 1], "flash_free": 10 ** 6, "ram_free": 10 ** 5, "options": {}, "adc_min": 0,
              "adc_max": 4095}
    assert doctor_report(analog)[1] == 1  # railed: check the wiring


def test_frozen_manifest_lists_exactly_the_device_image():
    """firmware/manifest.py (the frozen build) and `soothe deploy` ship the same modules:
    every firmware module but the host-only and simulator-only ones and main.py (which
    stays on the filesystem as the entry point)."""
    import re

    from soothe import fw

    listed = set(re.findall(r'^module\("([^"]+)"\)', (fw.FIRMWARE_DIR / "manifest.py").read_text(), re.M))
    image = {p.name for p in fw.FIRMWARE_DIR.glob("*.py")} - set(fw.HOST_ONLY) - set(fw.SIM_ONLY) - {"main.py", "manifest.py"}
    assert listed == image, (sorted(image - listed), sorted(listed - image))
