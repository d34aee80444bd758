"""Test script (CPython, MicroPython 64 and 32 bit): MotionMeter.clean on a pulse plus an
artefact that follows the arm (1.3 and 2.1 Hz movement after 40 s of rest); prints JSON
[rest untouched, artefact slope rms before, after, rails].  tests/firmware/test_motion.py."""
import json, math
from soothe_fw.sense import motion
from array import array
m = motion.MotionMeter(25, 100, 8, 4095)
ab = array('h', [0] * 96)
b = array('i', [0] * 25)
rest_same = True
res = []
for blk in range(4 * 120):
    t0 = blk * 0.25
    moving = 40 <= t0 < 100
    n = 6 if blk % 4 else 7   # 25 Hz in blocks of 6-7 samples
    for j in range(n):
        t = t0 + (j + 1) * 0.25 / n
        ax = 400 * math.sin(6.283 * 1.3 * t) if moving else 0
        az = 250 * math.sin(6.283 * 2.1 * t + 1) if moving else 0
        ab[3 * j] = int(ax)
        ab[3 * j + 1] = 0
        ab[3 * j + 2] = 1000 + int(az)
    art = []
    for k in range(25):
        t = t0 + (k + 1) * 0.01
        pulse = 150 * math.sin(6.283 * 1.1 * t)   # the pulse: not in the accelerometer
        a = (1.5 * 400 * math.sin(6.283 * 1.3 * t) - 2.0 * 250 * math.sin(6.283 * 2.1 * t + 1)) if moving else 0
        art.append(a)
        b[k] = int(2048 + pulse + a)
    before = list(b)
    m.feed_accel(ab, n)
    m.clean(b, 25)
    if not moving and t0 < 40:
        rest_same = rest_same and list(b) == before
    if 80 <= t0 < 100:   # after 40 s of learning: what is left of the artefact
        for k in range(25):
            t = t0 + (k + 1) * 0.01
            res.append((b[k] - 2048 - 150 * math.sin(6.283 * 1.1 * t), art[k]))
# The detector times beats on the slope (20 ms differences): what is left of the
# artefact's slope, for arm movement at 1.3 and 2.1 Hz.  (The filter works on the
# axes and the PPG high-passed at 0.5 Hz, so slower movement stays in part: a
# wander the detector already rides.)
left = (sum((res[i + 2][0] - res[i][0]) ** 2 for i in range(len(res) - 2)) / len(res)) ** 0.5
was = (sum((res[i + 2][1] - res[i][1]) ** 2 for i in range(len(res) - 2)) / len(res)) ** 0.5
# Rails are left alone, so saturation stays visible to the detector.
b2 = array('i', [0, 1, 4094, 4095] + [2048] * 21)
m.clean(b2, 25)
print(json.dumps([rest_same, was, left, list(b2[:4])]))
