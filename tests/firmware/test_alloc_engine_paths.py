"""The signal engine's newer paths allocate nothing either (MicroPython heap locked from
the very first sample): the rewind of the learning span, beats held while a pulse
builds and let go, the pulse evidence, and contact lost and regained off the wrist."""
import json

from conftest import run_snippet

CODE = """
import json, micropython
from soothe_sim import ppg_synth
from soothe_fw.sense import beats
from array import array
plan = 'rest:20s,offwrist_ambient:15s,rest:15s,offwrist_table:15s,stress:15s,offwrist_dangling:15s,rest:10s'
g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan(plan), seed=9)
d = beats.BeatDetector(100)
blocks = []
for _ in range(g.total_ms // 250):
    b = array('i', [0] * 25)
    g.fill(b, 25)
    blocks.append(b)
counts = array('i', [0, 0, 0])  # beats, OK beats, contact changes
def feed():
    c = False
    for b in blocks:
        d.process(b, 25)
        while d.available():
            i = d.pop()
            counts[0] += 1
            if d.beat_flag[i] == 0:
                counts[1] += 1
        if d.contact != c:
            c = d.contact
            counts[2] += 1
ok = False
micropython.heap_lock()
try:
    feed()
    ok = True
except MemoryError:
    pass
micropython.heap_unlock()
print(json.dumps([ok, counts[0], counts[1], counts[2]]))
"""


def test_engine_from_the_first_sample_and_off_the_wrist_allocates_nothing():
    ok, beats, ok_beats, changes = json.loads(run_snippet("micropython", CODE).strip().splitlines()[-1])
    assert ok, "the engine allocated while the heap was locked"
    assert ok_beats > 45 and beats > ok_beats  # 60 s on the wrist, in four stretches
    assert changes >= 6  # contact came and went with each off-wrist segment
