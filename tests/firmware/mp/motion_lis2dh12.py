"""Test script (CPython, MicroPython 64 and 32 bit): the simulated wrist's movement pushed into
the LIS2DH12 model as raw counts, read by the real driver after each PPG block, measured by
MotionMeter; prints JSON [samples, still blocks moving, walking blocks moving, level %]."""
import json
from soothe_sim import ppg_synth
from soothe_fw.sense import motion
from soothe_fw.hw import lis2dh12
from array import array
from fake_lis2dh12 import FakeLis2dh12
g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan('rest:30s,rest/walking:30s'), seed=12)
chip = FakeLis2dh12()
a = lis2dh12.Lis2dh12(chip)   # 25 Hz, +-4 g: 8 mg a digit, left-justified by 6 bits
m = motion.MotionMeter(a.rate_hz, 100)
b = array('i', [0] * 25)
src = array('h', [0] * 96)
buf = array('h', [0] * 96)
moved = []
for blk in range(240):
    g.fill(b, 25)
    for j in range(g.read_accel(src)):   # the chip samples what the wrist does
        chip.push(*[((src[3 * j + i] // 8) << 6) & 0xFFFF for i in range(3)])
    n = a.read_fifo(buf)
    m.feed_accel(buf, n)
    moved.append(m._n - m._last_move < n)
print(json.dumps([m._n, sum(moved[:116]), sum(moved[124:]), m.level_pct]))
