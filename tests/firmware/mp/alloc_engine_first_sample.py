"""Test script (MicroPython ports): the beat detector from the very first sample, on and off
the wrist, with the heap locked; prints JSON [ok, beats, OK beats, contact changes].
tests/firmware/test_alloc_engine_paths.py."""
import json

import micropython
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
