"""Zero allocation on the 32-bit MicroPython (small ints +-2**30, as on the ESP32) over a
simulated 24 h: per sample, per beat, per 5 s metrics step, per ui update and per pacer
step, with the real App methods and the real LED and motor drivers (PwmLED, Ws2812Led,
SimLED, Drv2605, PwmMotor) over peripherals that record into pre-allocated buffers.

The day itself is tools/probes/bench_device.py (shared with `soothe bench --only cost`): the
sense loop's per-beat lines are repeated there (App.sense is a coroutine awaiting the
sensor); everything else is the App's own code.  The device ticks start 2 h before their
2**30 wrap, so the day crosses it."""
import json

import pytest

from conftest import run_script


def _day(interpreter, hours, sample_min, **kw):
    """A day of `hours` through tools/probes/bench_device.py (tests/firmware/mp/bench_day.py)."""
    return run_script(interpreter, "bench_day.py", 0, hours, hours, sample_min, **kw)


def _check(r, hours):
    assert r["fails"] == {"sample": 0, "beat": 0, "metrics": 0, "ui": 0, "pace": 0}, r
    c = r["counts"]
    assert c["metrics"] >= hours * 720 - 1 and c["minutes"] >= hours * 60 - 1
    assert c["ui"] >= hours * 720 and c["pace"] > 0
    assert r["beat_calls"] > hours * 3600  # about 70 bpm, all day
    assert 4000 < r["hr"] < 12000
    assert c["record_steps"] >= hours * 6  # baseline saves, and the states the day showed
    assert c["record_steps"] < c["metrics"] // 10
    assert min(r["led_writes"]) > 0 and r["drv_writes"] > 6


def test_day_allocates_nothing_on_32_bit(mp32):
    r = json.loads(_day("mp32", 24, 10, timeout=1800).strip().splitlines()[-1])
    assert r["maxsize"] == 2 ** 31 - 1  # really the 32-bit object model
    _check(r, 24)


@pytest.mark.parametrize("interpreter", ["micropython"])
def test_day_allocates_nothing_on_64_bit(interpreter, tmp_path, monkeypatch):
    monkeypatch.setenv("SOOTHE_BENCH_DIR", str(tmp_path))
    out = _day(interpreter, 24, 180, timeout=600, heapsize="4m")
    _check(json.loads(out.strip().splitlines()[-1]), 24)
