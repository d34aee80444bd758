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


def test_sync_refuses_a_device_with_another_log_format_and_touches_nothing(tmp_path):
    import pytest

    from soothe.device import DeviceError
    from soothe.store import Store
    from soothe.sync import sync

    class OldDevice:
        calls = []

        def hello(self):
            self.calls.append("hello")
            return {"version": "0.1.0", "device_id": "old-1", "unix_ms": 0, "clock_set": True,
                    "oldest_seq": 1, "newest_seq": 50, "acked_seq": 0}

        def __getattr__(self, name):  # set_time, get, ack: must never be reached
            self.calls.append(name)
            raise AssertionError("sync went on to %s" % name)

    store = Store(tmp_path / "s.db")
    with pytest.raises(DeviceError, match="runs firmware 0.1.0, whose log format \\(0.1\\) this host does not read"):
        sync(OldDevice(), store)
    assert OldDevice.calls == ["hello"] and store.max_seq("old-1") == 0
