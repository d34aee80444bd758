"""Port auto-detection by USB VID:PID (no hardware needed)."""
from types import SimpleNamespace

import pytest

from soothe import device


def test_find_port_picks_an_esp32_bridge(monkeypatch):
    ports = [SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None),
             SimpleNamespace(device="/dev/ttyACM0", vid=0x2341, pid=0x0043),  # an Arduino
             SimpleNamespace(device="/dev/ttyUSB0", vid=0x10C4, pid=0xEA60)]  # CP2102 on a DevKitC
    monkeypatch.setattr(device.serial.tools.list_ports, "comports", lambda: ports)
    assert device.find_port() == "/dev/ttyUSB0"


def test_find_port_without_a_device_says_what_to_do(monkeypatch):
    monkeypatch.setattr(device.serial.tools.list_ports, "comports", lambda: [])
    with pytest.raises(device.DeviceError, match="plug it in, or pass --port"):
        device.find_port()
