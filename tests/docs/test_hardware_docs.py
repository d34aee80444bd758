"""The Wokwi diagrams and the hardware README agree with the firmware's pin map."""
import json
import re

from conftest import ROOT

XIAO_D = {0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 43, 7: 44, 8: 7, 9: 8, 10: 9}  # Dn -> GPIO


def _pins():
    src = (ROOT / "firmware" / "soothe_fw" / "hw" / "esp32.py").read_text()
    return {m.group(1): tuple(int(x) for x in m.group(2).split(","))
            for m in re.finditer(r'"([a-z0-9-]+)": \(([\d, ]+)\)', src)}


def _gpio(board, end):
    part, pin = end.split(":")
    if board == "xiao-esp32s3":
        return XIAO_D[int(pin[1:])] if pin.startswith("D") else None
    return int(pin) if pin.isdigit() else None


def test_wokwi_diagrams_match_the_pin_map():
    pins = _pins()
    for board in ("esp32-devkitc", "xiao-esp32s3"):
        d = json.loads((ROOT / "hardware" / board / "diagram.json").read_text())
        adc, r, g, b, motor, button, sda, scl, pixel = pins[board]
        wires = {}
        for a, z, *_ in d["connections"]:
            wires.setdefault(a, []).append(z)
            wires.setdefault(z, []).append(a)

        def board_pin(end):
            return [_gpio(board, x) for x in wires.get(end, []) if x.split(":")[0] in ("esp", "xiao")]

        assert board_pin("pulse:SIG") == [adc]
        assert board_pin("btn:1.l") == [button]
        assert board_pin("rm:1") == [motor]
        if board == "esp32-devkitc":
            assert board_pin("rr:1") == [r] and board_pin("rg:1") == [g] and board_pin("rb:1") == [b]
        else:
            assert board_pin("pixel:DIN") == [pixel]
        # the accelerometer (an MPU6050 stands in: Wokwi has no LIS2DH12) on the sensor's I2C bus
        imu = [p for p in d["parts"] if p["id"] == "imu"]
        assert imu and imu[0]["type"] == "wokwi-mpu6050" and "LIS2DH12" in imu[0]["attrs"]["label"]
        assert board_pin("imu:SDA") == [sda] and board_pin("imu:SCL") == [scl]
        power = [x.split(":")[1] for x in wires["imu:VCC"] + wires["imu:GND"]]
        assert power[0] == "3V3" and power[1].startswith("GND")


def test_readme_pin_table_matches_the_pin_map():
    text = (ROOT / "hardware" / "README.md").read_text()
    pins = _pins()
    assert "GPIO%d (ADC1, 11 dB)" % pins["esp32-devkitc"][0] in text
    assert "GPIO%d / %d / %d" % pins["esp32-devkitc"][1:4] in text
    assert "GPIO%d / %d" % pins["xiao-esp32s3"][6:8] in text


def test_readme_documents_the_accelerometer():
    """BOM line, pin-map row on the I2C pins, wiring, power-budget line and the Wokwi stand-in."""
    text = (ROOT / "hardware" / "README.md").read_text()
    pins = _pins()
    row = [ln for ln in text.splitlines() if ln.startswith("| I2C SDA / SCL")]
    assert len(row) == 1 and "LIS2DH12" in row[0]
    assert "GPIO%d / %d" % pins["esp32-devkitc"][6:8] in row[0] and "GPIO%d / %d" % pins["xiao-esp32s3"][6:8] in row[0]
    bom = [ln for ln in text.splitlines() if ln.startswith("| accelerometer")]
    assert len(bom) == 1 and "LIS2DH12" in bom[0] and "$" in bom[0]
    budget = [ln for ln in text.splitlines() if ln.startswith("| LIS2DH12")]
    assert len(budget) == 1 and "µA" in budget[0]
    assert "wokwi-mpu6050" in text
    src = (ROOT / "firmware" / "soothe_fw" / "hw" / "esp32.py").read_text()
    accels = re.search(r'ACCELS = \(([^)]*)\)', src).group(1).replace('"', "").replace(" ", "").split(",")
    assert "accel=%s" % "|".join(accels) in text  # the board.txt choices, as the board takes them
