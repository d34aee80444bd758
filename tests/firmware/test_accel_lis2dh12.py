"""The LIS2DH12 accelerometer driver (firmware/soothe_fw/hw/lis2dh12.py) against a datasheet model of the
chip (tests/fakes/fake_lis2dh12.py), under CPython and the MicroPython unix port: the chip-ID
check, the register writes, FIFO reads scaled to mg with the right sign, allocation-free
reads, the setters' errors, and the board and doctor paths that build it."""
import json

from conftest import run_case, run_script

# The MicroPython-side code: tests/firmware/mp/accel_cases.py (one function a case).
CASES = "accel_cases.py"


def test_missing_or_wrong_chip_is_a_clear_error(interp):
    r = interp.case(CASES, "missing_or_wrong")
    assert r[0] == ["err", "LIS2DH12 accelerometer not answering at 0x19 or 0x18: check wiring (SDA, SCL, 3V3, GND)"]
    assert r[1] == ["err", "0x19 answers WHO_AM_I 0x68, not a LIS2DH12/LIS3DH (0x33): check wiring and the part"]
    assert r[2] == ["ok", 0x18]  # SA0 low: found at the second address
    assert r[3] == ["err", "LIS2DH12 accelerometer not answering at 0x18: check wiring (SDA, SCL, 3V3, GND)"]


def test_init_writes_the_datasheet_sequence(interp):
    r = interp.case(CASES, "init_writes")
    assert r[0] == [
        [0x20, 0x00],  # CTRL_REG1: power-down while configuring
        [0x21, 0x00],  # CTRL_REG2: no high-pass filter
        [0x22, 0x00],  # CTRL_REG3: nothing on INT1
        [0x23, 0x90],  # CTRL_REG4: BDU, FS=01 (4 g), HR=0 (normal mode)
        [0x25, 0x00],  # CTRL_REG6
        [0x1F, 0x00],  # TEMP_CFG_REG: temperature sensor off
        [0x2E, 0x00],  # FIFO_CTRL_REG: bypass (empties the FIFO)
        [0x24, 0x40],  # CTRL_REG5: FIFO_EN
        [0x2E, 0x80],  # FIFO_CTRL_REG: stream mode
        [0x20, 0x37],  # CTRL_REG1: ODR=0011 (25 Hz), LPen=0, X/Y/Z on
    ]
    assert r[1][3] == [0x23, 0xB0] and r[1][-1] == [0x20, 0x47]  # 16 g; 50 Hz
    assert r[2] == [0x20, 0x00]  # deinit: power-down


def _counts(mg, mg_per_digit):
    """What the chip puts in OUT_x for an acceleration: 10 bits, left-justified, two's complement."""
    return ((mg // mg_per_digit) << 6) & 0xFFFF


def test_fifo_reads_scale_to_mg_with_the_right_sign(interp):
    samples = [(0, 0, 1000), (-1000, 8, -16), (2040, -2048, 504)]  # mg, multiples of 8 (4 g range)
    raw = [[_counts(v, 8) for v in s] for s in samples]
    r = interp.case(CASES, "fifo_scaled", raw)
    assert r["empty"] == 0 and r["again"] == 0 and r["left"] == 0
    assert r["n"] == 3
    assert r["got"] == [v for s in samples for v in s]
    assert r["n16"] == 1 and r["g16"] == [-48, 960, -512 * 48]


def test_a_full_fifo_gives_32_newest_samples_and_counts_the_overrun(interp):
    r = interp.case(CASES, "full_fifo")
    assert r["n31"] == 31 and r["overruns"] == 1
    assert r["n"] == 32 and r["x0"] == 8 * 8 and r["x31"] == 39 * 8  # 4 g: 8 mg a digit
    assert r["k"] == 10 and r["left"] == 2
    assert r["glitch"] == [0, 1, 2]


def test_read_allocates_nothing_under_heap_lock():
    """micropython.heap_lock() makes any allocation raise MemoryError; the fake chip's reads
    allocate nothing themselves, so this catches the driver's own allocations."""
    r = run_case("micropython", CASES, "read_allocates_nothing")
    assert r["total"] == 6 + 12 + 18 + 24 + 30
    assert r["last"] == [0, -8, 2048]


def test_setters_reject_out_of_range_values_and_restart_the_fifo(interp):
    r = interp.case(CASES, "setters")
    assert r["errs"][0] == "LIS2DH12 rate 30 Hz: use one of 1, 10, 25, 50, 100, 200, 400"
    assert r["errs"][1] == "LIS2DH12 range 3 g: use one of 2, 4, 8, 16"
    assert r["errs"][2].startswith("LIS2DH12 rate 0 Hz") and r["errs"][3].startswith("LIS2DH12 rate 1600 Hz")
    assert r["errs"][4] == "LIS2DH12 range 32 g: use one of 2, 4, 8, 16"
    assert r["rate"] == 100 and r["range"] == 4 and r["waiting"] == 0
    assert r["ctrl1"] == [0x00, 0x57]  # power-down, then 100 Hz


def test_doctor_check_reads_the_wrist_at_rest(interp):
    r = interp.case(CASES, "doctor_check")
    assert r[0] == {"addr": 0x18, "mg": [0, 3, 1000], "n": 7}  # y: 0, 8, 0, 8, 0, 8, 0 mg -> 24 // 7
    assert "not answering at 0x19 or 0x18" in r[1]["error"]
    assert r[2] == 0  # powered down again afterwards


def test_esp32_board_builds_the_accelerometer_on_the_sensor_bus():
    out = run_script("micropython", "esp32_accel.py")
    r = json.loads(out.strip().splitlines()[-1])
    assert r["wearable"] == ["Lis2dh12", 25, 0x19, "", [["i2c", 0, 8, 9, 400000]]]
    assert r["read"] == [1, [0, 0, 1000]]
    assert r["six"] == [6, [0, 8, 16, 24, 32, 40], [[0x2F, 1], [0xA8, 24], [0xA8, 12]]]
    assert r["off"] == 0  # deinit powers the accelerometer down
    assert r["absent"] == [True, "LIS2DH12 accelerometer not answering at 0x19 or 0x18: check wiring "
                                 "(SDA, SCL, 3V3, GND)"]
    assert r["analog"] == [True, []]
    assert r["declared_missing"] == ("OSError: LIS2DH12 accelerometer not answering at 0x19 or 0x18: check wiring "
                                     "(SDA, SCL, 3V3, GND)")
    assert r["declared"] == [0x18, [["i2c", 0, 21, 22, 400000]]]
    assert r["none"] is True
    assert r["bad"] == "ValueError: board.txt accel=bma400: use one of auto, lis2dh12, none"


def test_doctor_reports_whether_the_accelerometer_answers():
    from soothe.deploy import board_txt, doctor_report

    base = {"impl": [1, 24, 1], "machine": "ESP32S3 module", "flash_free": 1500000, "ram_free": 120000,
            "i2c": [0x19, 0x57], "pattern": "red, green, blue, one buzz"}
    mx = {"sensor": "max30102"}
    lines, problems = doctor_report(dict(base, options=mx, accel={"addr": 0x19, "mg": [30, -40, 990], "n": 7}))
    acc = [ln for ln in lines if "accelerometer" in ln]
    assert problems == 0 and acc == ["ok   LIS2DH12 accelerometer at 0x19: 7 samples, at rest |a| = 991 mg "
                                     "(x 30, y -40, z 990; expect about 1000: still, no samples or far off means "
                                     "check the wiring)"]
    # answers but reads nothing, or far from 1 g: a fault
    assert doctor_report(dict(base, options=mx, accel={"addr": 0x19, "mg": [0, 0, 0], "n": 0}))[1] == 1
    assert doctor_report(dict(base, options=mx, accel={"addr": 0x18, "mg": [0, 0, 2000], "n": 7}))[1] == 1
    # absent: a fault only when board.txt declares it
    missing = {"error": "LIS2DH12 accelerometer not answering at 0x19 or 0x18: check wiring (SDA, SCL, 3V3, GND)"}
    lines, problems = doctor_report(dict(base, options=mx, accel=missing))
    assert problems == 0 and any(ln.startswith("info no accelerometer answers (LIS2DH12") for ln in lines)
    lines, problems = doctor_report(dict(base, options=dict(mx, accel="lis2dh12"), accel=missing))
    assert problems == 1 and any(ln.startswith("FIX  accelerometer: LIS2DH12 accelerometer not answering")
                                 for ln in lines)
    lines, problems = doctor_report(dict(base, options=dict(mx, accel="none")))
    assert problems == 0 and "info no accelerometer (board.txt accel=none): motion from the pulse signal only" in lines
    # deploy writes the choice into board.txt only when given
    assert board_txt("xiao-esp32s3", "max30102", accel="lis2dh12").endswith("cpu_mhz=160\naccel=lis2dh12\n")
    assert "accel" not in board_txt("xiao-esp32s3", "max30102")


def test_deploy_cli_takes_accel(capsys):
    import pytest

    from soothe import cli

    with pytest.raises(SystemExit) as e:
        cli.main(["deploy", "--port", "/dev/fake0", "--accel", "bma400"])
    assert e.value.code == 2
    assert "argument --accel: invalid choice: 'bma400' (choose from" in capsys.readouterr().err
