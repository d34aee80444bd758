"""The per-sample and per-beat path, and the 5 s metrics, allocate nothing (MicroPython heap locked)."""
import json

from conftest import run_snippet

CODE = """
import json, micropython
from soothe_sim import ppg_synth
from soothe_fw.sense import beats
from soothe_fw.sense import hrv
from soothe_fw.log import records
from array import array
g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan('rest:60s,stress:40s'))
d = beats.BeatDetector(100)
h = hrv.RollingHRV()
m = records.MinuteBuilder()
blocks = []
for _ in range(400):
    b = array('i', [0] * 25)
    g.fill(b, 25)
    blocks.append(b)
def feed(bs):
    n = 0
    for b in bs:
        d.process(b, 25)
        while d.available():
            i = d.pop()
            rr = (d.beat_rr_us[i] + 500) // 1000
            h.add_beat(d.beat_n[i] * 10, rr, d.beat_flag[i] == 0)
            m.add(d.beat_n[i] % 60000, rr, d.beat_flag[i])
            n += 1
    return n
def locked(bs):
    result = [False, -1]
    micropython.heap_lock()
    try:
        result[1] = feed(bs)
        h.window(d.n * 10, 60000)
        h.window(d.n * 10, 300000)
        result[0] = h.coherence(d.n * 10)
    except MemoryError:
        pass
    micropython.heap_unlock()
    return result
feed(blocks[:120])      # 30 s warm-up: polarity, threshold, median learned
m.reset(0)
ok, n = locked(blocks[120:])
print(json.dumps([ok, n, h.beats]))
"""


def test_sample_and_beat_path_allocate_nothing():
    ok, n, hrv_beats = json.loads(run_snippet("micropython", CODE).strip().splitlines()[-1])
    assert ok, "the hot path allocated while the heap was locked"
    assert n > 70 and hrv_beats > 50


BIO = """
import json, micropython, bench_engine
blocks = bench_engine.make_blocks(240, 100)
e = bench_engine.Bio(100)
def run(bs):
    for b in bs:
        e.feed(b)
        if e.metrics_due():
            e.metrics()
run(blocks[:len(blocks) // 4])   # warm-up: thresholds learned, state settled
rest = blocks[len(blocks) // 4:]
ok = False
micropython.heap_lock()
try:
    run(rest)
    ok = True
except MemoryError:
    pass
micropython.heap_unlock()
print(json.dumps([ok, e.sm.state, e.det.beats]))
"""


def test_state_coach_pacer_and_ui_tick_allocate_nothing():
    # Engine + state machine + prompt coach every 5 s + the pacer stepped at each change
    # + the 20 ms ui tick, with the heap locked for 3 minutes of signal.
    ok, state, beats = json.loads(run_snippet("micropython", BIO).strip().splitlines()[-1])
    assert ok, "state/coach/pacer allocated while the heap was locked"
    assert beats > 200 and state != 0


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
