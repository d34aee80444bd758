"""Watchdog and safe mode on the simulated board (real firmware under MicroPython)."""
import re

from soothe.simulator import Simulator


def _wdt(line):
    return {k: int(v) for k, v in re.findall(r"(feeds|max_gap|fired)=(\d+)", line)}


def _run(tmp_path, name, **kw):
    sim = Simulator(tmp_path / (name + ".img"), seed=21, **kw)
    with sim:
        sim.wait_stopped(timeout=120)
        return sim.stats_line()


def test_watchdog_is_fed_while_every_task_runs(tmp_path):
    w = _wdt(_run(tmp_path, "ok", duration="10m"))
    assert w["fired"] == 0 and w["max_gap"] <= 2000
    assert w["feeds"] >= 500  # about once a second for 10 min


def test_a_hung_sensor_stops_the_feeding_and_the_watchdog_fires(tmp_path):
    w = _wdt(_run(tmp_path, "hang", duration="10m", hang_sense_at="5m"))
    assert w["fired"] >= 1 and w["max_gap"] > 8000
    assert 250 <= w["feeds"] <= 320  # fed for the first 5 min only


def test_button_held_at_boot_is_safe_mode(tmp_path):
    sim = Simulator(tmp_path / "safe.img", seed=22, presses=["0s:long"])
    sim.start()
    try:
        sim.proc.wait(30)  # without safe mode a sim with no --duration runs until killed
    finally:
        sim.stop()
    assert sim.proc.returncode == 0
    assert not any("sim: stopped" in ln for ln in sim.stderr_lines)
