"""The per-sample and per-beat path, and the 5 s metrics, allocate nothing (MicroPython heap locked)."""
import json

from conftest import run_snippet

CODE = """
import json, micropython, ppg_synth, beats, hrv, records
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
