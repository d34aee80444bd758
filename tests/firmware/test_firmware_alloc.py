"""The per-sample and per-beat path, and the 5 s metrics, allocate nothing (MicroPython heap locked)."""
import json

from conftest import run_snippet

CODE = """
import json, micropython
from soothe_sim import ppg_synth
from soothe_fw.sense.pipeline import Pipeline
from soothe_fw.log import records
from soothe_fw.compat import ticks_add
from array import array
g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan('rest:60s,stress:40s'))
p = Pipeline(100)  # as a DevKit runs it: movement from the PPG, contact gate, 60 s window
m = records.MinuteBuilder()
blocks = []
for _ in range(400):
    b = array('i', [0] * 25)
    g.fill(b, 25)
    blocks.append(b)
clock = [ticks_add(0, -40000), 0]  # device ticks (crossing their wrap), minute start
p.start(clock[0])
clock[1] = clock[0]
def feed(bs, result):
    n = 0
    metrics = 0
    for b in bs:
        clock[0] = ticks_add(clock[0], 250)
        p.feed(b, 25, clock[0])
        while p.next_beat():
            if not p.to_minute(m, clock[1]):
                m.reset(0)  # the app closes the minute here (its record write is not this path)
                clock[1] = p.t_ms
                p.to_minute(m, clock[1])
            n += 1
        if p.metrics_due(clock[0]):
            p.metrics(clock[0])
            metrics += 1
    result[1] = n  # (a returned tuple would be an allocation of the harness)
    result[2] = metrics
def locked(bs):
    result = [False, -1, -1]
    micropython.heap_lock()
    try:
        feed(bs, result)
        result[0] = True
    except MemoryError:
        pass
    micropython.heap_unlock()
    return result
feed(blocks[:120], [0, 0, 0])      # 30 s warm-up: polarity, threshold, median learned
m.reset(0)
clock[1] = clock[0]
ok, n, metrics = locked(blocks[120:])
print(json.dumps([ok, n, metrics, p.hrv.beats, p.hrv.coherence_x100, p.contact, p.flag]))
"""


def test_sample_and_beat_path_allocate_nothing():
    # The device's pipeline (detector, motion meter, contact gate, HRV ring, minute record,
    # the 60 s window and coherence every 5 s) with the heap locked for 70 s of signal.
    ok, n, metrics, hrv_beats, coh, contact, _ = json.loads(run_snippet("micropython", CODE).strip().splitlines()[-1])
    assert ok, "the hot path allocated while the heap was locked"
    assert n > 70 and metrics == 14 and hrv_beats > 50 and contact
    assert coh > 0  # the 64 s coherence window filled inside the locked span


# The real App (state machine, coach, ui's LED and motor, pacer) on allocation-free fake
# peripherals, its pipeline fed every block: tools/probes/bench_device.py, one hour.
APP_HOUR = "import bench_device as d\nd.run_hours(0, 1, 1, 60)\nd.report()\n"


def test_the_apps_sense_state_coach_pacer_and_ui_allocate_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SOOTHE_BENCH_DIR", str(tmp_path))
    r = json.loads(run_snippet("micropython", APP_HOUR, timeout=300, heapsize="4m").strip().splitlines()[-1])
    assert r["fails"] == {"sample": 0, "beat": 0, "metrics": 0, "ui": 0, "pace": 0}, r
    c = r["counts"]
    assert c["sample"] == 14400 and c["metrics"] >= 719 and c["ui"] >= 720 and c["pace"] > 0
    assert r["beat_calls"] > 3600 and 4000 < r["hr"] < 12000
    assert r["state"] != 0  # a reading: the state machine ran on real evidence


STATE_STEPS = """
import json, micropython
from soothe_fw.log import settings
from soothe_fw.feedback import state
from soothe_fw.feedback import coach
s = settings.Settings()
b = state.Baseline()
m = state.StateMachine(s, b)
c = coach.Coach(s)
steps = ((6400, 380, 40, 0, 0), (9600, 90, 30, 0, 0), (10000, 90, 30, 70, 0), (8800, 100, 30, 0, 0),
         (6200, 520, 220, 0, 95), (8500, 300, 40, 0, 0))
def run(n):
    t = 0
    for k in range(n):
        hr, rm, coh, mot, res = steps[(k // 30) % len(steps)]
        m.update(5000, True, 64, 1, hr, rm, coh, mot, res)
        t += 5000
        c.update(t, 5000, m.state, m.activity or m.recovering, 12, False)
run(40)   # warm-up: every attribute exists
ok = False
micropython.heap_lock()
try:
    run(400)   # threat, drive, recovery, soothe, learning (histogram and quantiles) and halving-free
    ok = True
except MemoryError:
    pass
micropython.heap_unlock()
print(json.dumps([ok, b.calm_n, m.state]))
"""


def test_state_update_with_motion_and_learning_allocates_nothing():
    # The 5 s state step through every evidence path, the baseline learning a calm window
    # (histogram + quantiles) and the coach, with the heap locked.
    ok, calm_n, _ = json.loads(run_snippet("micropython", STATE_STEPS).strip().splitlines()[-1])
    assert ok, "the 5 s state update allocated while the heap was locked"
    assert calm_n > 30
