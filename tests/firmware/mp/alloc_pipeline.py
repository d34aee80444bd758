"""Test script (MicroPython ports): the device's pipeline (detector, motion meter, contact
gate, HRV ring, minute record, the 60 s window and coherence every 5 s) fed 70 s of signal
with the heap locked; prints JSON [ok, beats, metrics steps, hrv beats, coherence, contact,
flag].  Module-level objects, as the app holds them.  tests/firmware/test_firmware_alloc.py."""
import json

import micropython
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
