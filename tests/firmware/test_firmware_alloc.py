"""The per-sample and per-beat path, and the 5 s metrics, allocate nothing (MicroPython heap locked)."""
import json

from conftest import run_script

# The MicroPython-side code: tests/firmware/mp/alloc_pipeline.py, alloc_state_steps.py, bench_day.py.


def test_sample_and_beat_path_allocate_nothing():
    # The device's pipeline (detector, motion meter, contact gate, HRV ring, minute record,
    # the 60 s window and coherence every 5 s) with the heap locked for 70 s of signal.
    out = run_script("micropython", "alloc_pipeline.py")
    ok, n, metrics, hrv_beats, coh, contact, _ = json.loads(out.strip().splitlines()[-1])
    assert ok, "the hot path allocated while the heap was locked"
    assert n > 70 and metrics == 14 and hrv_beats > 50 and contact
    assert coh > 0  # the 64 s coherence window filled inside the locked span


# The real App (state machine, coach, ui's LED and motor, pacer) on allocation-free fake
# peripherals, its pipeline fed every block: tools/probes/bench_device.py, one hour
# (tests/firmware/mp/bench_day.py H0 H1 HOURS SAMPLE_MIN).


def test_the_apps_sense_state_coach_pacer_and_ui_allocate_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SOOTHE_BENCH_DIR", str(tmp_path))
    out = run_script("micropython", "bench_day.py", 0, 1, 1, 60, timeout=300, heapsize="4m")
    r = json.loads(out.strip().splitlines()[-1])
    assert r["fails"] == {"sample": 0, "beat": 0, "metrics": 0, "ui": 0, "pace": 0}, r
    c = r["counts"]
    assert c["sample"] == 14400 and c["metrics"] >= 719 and c["ui"] >= 720 and c["pace"] > 0
    assert r["beat_calls"] > 3600 and 4000 < r["hr"] < 12000
    assert r["state"] != 0  # a reading: the state machine ran on real evidence


def test_state_update_with_motion_and_learning_allocates_nothing():
    # The 5 s state step through every evidence path, the baseline learning a calm window
    # (histogram + quantiles) and the coach, with the heap locked.
    out = run_script("micropython", "alloc_state_steps.py")
    ok, calm_n, _ = json.loads(out.strip().splitlines()[-1])
    assert ok, "the 5 s state update allocated while the heap was locked"
    assert calm_n > 30
