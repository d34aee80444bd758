"""The simulated device (real firmware under MicroPython) and the real `soothe` CLI over a pty."""
import os
import sqlite3
import stat
import subprocess
import time

import pytest

from soothe.device import Device, open_port
from soothe.simulator import Simulator
from soothe.store import Store
from soothe.sync import sync
from soothe_fw.log import records
from conftest import sim_sync


def _start_sim_cli(soothe_cmd, tmp_path, *extra):
    proc = subprocess.Popen(soothe_cmd + ["sim", "--flash", str(tmp_path / "flash.img"), "--fast"] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port_line = proc.stdout.readline().strip()
    assert port_line.startswith("port: /dev/pts/"), port_line
    stopped = proc.stdout.readline().strip()
    assert stopped.startswith("sim: stopped at t="), stopped
    return proc, port_line.split(" ", 1)[1]


def test_sim_and_sync_through_the_cli(soothe_cmd, tmp_path):
    proc, port = _start_sim_cli(soothe_cmd, tmp_path, "--duration", "5m", "--seed", "4")
    try:
        db = tmp_path / "data" / "s.db"
        out = subprocess.run(soothe_cmd + ["sync", "--port", port, "--db", str(db)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "device sim-0004, firmware %s" % records.FIRMWARE_VERSION in out.stdout
        assert "device clock set; it was 5 min ahead" in out.stdout  # sim starts now, ran 5 min
        # boot, contact back, 2 states (unclassified, then learning ~20 s later), 5 minutes
        assert "synced 9 new record(s) from sim-0004" in out.stdout
        assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
        con = sqlite3.connect(db)
        kinds = [r[0] for r in con.execute("SELECT kind FROM events ORDER BY seq")]
        assert kinds[:3] == ["boot", "contact_back", "state"] and "time_set" not in kinds
        minutes = con.execute("SELECT COUNT(*), MIN(hr_bpm), MAX(hr_bpm) FROM minutes").fetchone()
        assert minutes[0] == 5 and 55 < minutes[1] <= minutes[2] < 75
        # A second sync resumes: nothing new (the clock-set event waits in RAM for the
        # next flush, and the virtual clock has stopped).
        out2 = subprocess.run(soothe_cmd + ["sync", "--port", port, "--db", str(db)],
                              capture_output=True, text=True, timeout=60)
        assert "synced 0 new record(s)" in out2.stdout, out2.stdout
    finally:
        proc.terminate()
        proc.wait(10)


def _records_of(tmp_path, name, **kw):  # noqa: D401 - returns (SyncResult, rows)
    result = sim_sync(tmp_path / (name + ".img"), tmp_path / (name + ".db"), timeout=120, **kw)
    con = sqlite3.connect(tmp_path / (name + ".db"))
    rows = con.execute("SELECT seq, type, payload FROM records ORDER BY seq").fetchall()
    con.close()
    return result, rows


def test_same_seed_same_log_byte_for_byte(tmp_path):
    _, a = _records_of(tmp_path, "a", seed=9, duration="4m")
    _, b = _records_of(tmp_path, "b", seed=9, duration="4m")
    _, c = _records_of(tmp_path, "c", seed=10, duration="4m")
    assert len(a) >= 6
    assert a == b
    assert a != c


def test_flash_survives_a_restart_and_seq_continues(tmp_path):
    flash = tmp_path / "keep.img"
    r1, rows1 = _records_of(tmp_path, "keep", seed=2, duration="2m")
    sim = Simulator(flash, seed=2, duration="2m")
    with sim:
        sim.wait_stopped(timeout=120)
        dev = Device(open_port(sim.port))
        hello = dev.hello()
        dev.close()
    # Everything from the first run was acknowledged, so the log resumes after it.
    assert hello["acked_seq"] == rows1[-1][0]
    assert hello["oldest_seq"] == rows1[-1][0] + 1
    assert hello["newest_seq"] > rows1[-1][0] + 2


def test_garbage_on_the_line_gets_an_error_and_the_device_keeps_going(tmp_path):
    sim = Simulator(tmp_path / "g.img", seed=3, duration="1m")
    with sim:
        sim.wait_stopped(timeout=120)
        ser = open_port(sim.port)
        ser.write(b"\x03\x03hello\x00\x11\x22\x00" + bytes(range(1, 200)) + b"\x00")
        time.sleep(0.3)
        junk_answers = ser.read(4096)
        assert b"\x00" in junk_answers  # ERR frames, not silence forever
        dev = Device(ser)
        hello = dev.hello()
        assert hello["device_id"] == "sim-0003"
        assert sim.alive()
        dev.close()


def test_cli_errors_are_one_line_with_exit_2(soothe_cmd, tmp_path):
    r = subprocess.run(soothe_cmd + ["sim", "--ppg", str(tmp_path / "missing.csv")], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["soothe: error: PPG file %s not found" % (tmp_path / "missing.csv")]
    r = subprocess.run(soothe_cmd + ["sim", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "unrecognized arguments: --bogus" in r.stderr
    r = subprocess.run(soothe_cmd + ["sim", "--duration", "ten"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("soothe: error: bad duration")
    r = subprocess.run(soothe_cmd + ["sync", "--port", str(tmp_path / "nope")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("soothe: error: cannot open")


def test_help_lists_commands(soothe_cmd):
    r = subprocess.run(soothe_cmd + ["--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for name in ("sim", "sync", "demo"):
        assert "\n    %s " % name in r.stdout


def test_button_presses_led_and_motor_are_recorded(tmp_path):
    trace = tmp_path / "trace.txt"
    result, rows = _records_of(tmp_path, "ui", seed=5, duration="3m", trace=trace,
                               presses=["30s:long", "90s:long"], plan="rest:2m,nocontact:1m")
    lines = [ln.split() for ln in trace.read_text().splitlines()]
    motor = [(int(t), int(v[0])) for t, dev, *v in lines if dev == "motor"]
    # A press with nothing to do (a long press after the finder's boot window) is
    # acknowledged by an 80 ms buzz after release and debounce.
    assert motor == [(31520, 60), (31600, 0), (91520, 60), (91600, 0)]
    leds = [(int(t), tuple(map(int, v))) for t, dev, *v in lines if dev == "led"]
    # Dim white blinks only while there is no reading: at start-up and after contact is lost.
    # Start-up takes about 8 s: 4 s to learn polarity and level, then two intervals that
    # agree before the first is trusted.
    blink_times = [t for t, rgb in leds if rgb == (20, 20, 20)]
    assert blink_times and all(t <= 8000 or t > 120000 for t in blink_times)
    # With a reading and the baseline still young the LED is a steady soft violet (learning).
    assert all(rgb in ((20, 20, 20), (0, 0, 0), (7, 0, 12)) for _, rgb in leds)
    assert [t for t, rgb in leds if rgb == (7, 0, 12)][0] <= 30000
    store = Store(tmp_path / "ui.db")
    presses = [bytes(r[0]) for r in store.db.execute("SELECT data FROM events WHERE kind='button' ORDER BY seq")]
    lost = store.db.execute("SELECT unix_ms FROM events WHERE kind='contact_lost'").fetchall()
    store.close()
    assert presses == [b"long", b"long"]
    assert len(lost) == 1 and lost[0][0] - 1767600000 * 1000 - 120000 <= 3000


def test_sim_plays_a_ppg_csv_recording(tmp_path):
    from soothe_sim import ppg_synth

    g = ppg_synth.SyntheticPPG(50, ppg_synth.parse_plan("rest=75:3m"), seed=11, inverted=True)
    buf = [0] * (50 * 180)
    g.fill(buf, len(buf))
    # An inverted 50 Hz recording, as raw reflective sensors often give.
    values = tmp_path / "values.csv"
    values.write_text("ppg\n" + "".join("%d\n" % v for v in buf))
    result, rows = _records_of(tmp_path, "csv", ppg=values, rate=50, duration="3m")
    store = Store(tmp_path / "csv.db")
    hr = [r[0] for r in store.db.execute("SELECT hr_bpm FROM minutes ORDER BY seq")]
    store.close()
    assert len(hr) == 3
    assert all(abs(h - 75) < 4 for h in hr[1:]), hr
