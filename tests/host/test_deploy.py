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
            elif c[:2] == ["fs", "mkdir"]:
                self.ops.append(("mkdir", c[2].lstrip(":")))
                os.mkdir(os.path.join(self.root, c[2].lstrip(":")))  # fails if it exists, as on a board
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
    assert "main.py" in names and "board.txt" in names and "soothe_fw/app.mpy" in names
    assert "soothe_fw/hw/max30102.mpy" in names and "soothe_fw/hw/ws2812.mpy" in names and "soothe_fw/sense/motion.mpy" in names
    # the image is the device package and main.py: no simulator, no bench probe
    assert all(n.startswith("soothe_fw/") for n in names if n not in ("main.py", "board.txt")), names
    # the exact operations, in order
    assert fake.ops[0] == ("exec", "INVENTORY")
    assert fake.ops[1] == ("rm", "old_module.mpy")
    mk = [op[1] for op in fake.ops if op[0] == "mkdir"]
    assert mk[0] == "soothe_fw" and set(mk) == {"soothe_fw", "soothe_fw/sense", "soothe_fw/feedback",
                                               "soothe_fw/log", "soothe_fw/link", "soothe_fw/hw"} | set(mk[6:])
    assert [op[1] for op in fake.ops if op[0] == "cp"] == names_in_copy_order(res)
    assert fake.ops[-2:] == [("exec", "INVENTORY"), ("soft-reset",)]
    # one mpremote call for all copies (chained with +), not one per file
    assert sum(1 for c in d.calls if "cp" in c) == 1
    # the .mpy files are MicroPython bytecode for the ESP32's architecture
    mpy = (board / "soothe_fw" / "sense" / "beats.mpy").read_bytes()
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
    assert again["copied"] == 0 and not [op for op in fake.ops if op[0] in ("cp", "mkdir", "rm")]


def names_in_copy_order(res):
    order = ["main.py"] + sorted(n for n in res["files"] if n not in ("board.txt", "main.py"))
    return order + ["board.txt"]


def test_a_damaged_copy_fails_the_hash_check(board, tmp_path):
    d = Deployer("/dev/fake0", runner=FakeBoard(str(board), corrupt="soothe_fw/sense/hrv.mpy"), log=lambda m: None)
    with pytest.raises(DeployError, match="hash mismatch after copying soothe_fw/sense/hrv.mpy"):
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


def test_the_manifest_declares_the_device_package_and_deploy_ships_it():
    """firmware/manifest.py (the frozen build) declares the image as the soothe_fw package,
    with no list of names; `soothe deploy` builds from the same package (fw.image_sources)."""
    import re

    from soothe import fw

    text = (fw.FIRMWARE_DIR / "manifest.py").read_text()
    assert re.findall(r'^package\("([^"]+)"\)', text, re.M) == [fw.DEVICE_PACKAGE]
    assert not re.search(r"^module\(", text, re.M)
    shipped = {rel for rel, _ in fw.image_sources()}
    package = {p.relative_to(fw.FIRMWARE_DIR).as_posix() for p in (fw.FIRMWARE_DIR / "soothe_fw").rglob("*.py")}
    assert shipped == package | {"main.py"}
