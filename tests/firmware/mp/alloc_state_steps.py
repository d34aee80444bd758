"""Test script (MicroPython ports): the 5 s state step through every evidence path, the
baseline learning and the coach, with the heap locked; prints JSON [ok, calm_n, state].
tests/firmware/test_firmware_alloc.py."""
import json

import micropython
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
