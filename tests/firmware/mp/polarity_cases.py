"""MicroPython-side case of tests/firmware/test_polarity_motion_first.py: 8 s of sharp movement
artefacts of the opposite skew, then clean pulses, through the beat detector.
`FILE CASE ARGS` (mpcase)."""
import math
from array import array

import mpcase
from soothe_fw.sense import beats
from soothe_sim import ppg_synth


def movement_first(inverted):
    res = []
    for seed in (0, 3):
        g = ppg_synth.SyntheticPPG(rate_hz=100, plan=ppg_synth.parse_plan("rest:40s"), seed=seed, inverted=inverted)
        total = 4000
        sig = array("i", [0] * total)
        g.fill(sig, total)
        sign = -1 if inverted else 1
        for i in range(800):  # the sensor pressed and released, 3x the pulse, 1.3 Hz
            t = i / 100.0
            ph = (t * 1.3 + 0.1 * seed) % 1.0
            art = -1800 * math.exp(-((ph - 0.5) / 0.06) ** 2) + 400 * math.sin(6.28 * 0.4 * t)
            sig[i] += int(sign * art)
        d = beats.BeatDetector(100)
        buf = array("i", [0] * 25)
        out = []
        pol_6s = 0
        for k in range(0, total, 25):
            for j in range(25):
                buf[j] = sig[k + j]
            d.process(buf, 25)
            if k == 600:
                pol_6s = d.polarity
            while d.available():
                i = d.pop()
                out.append([d.beat_n[i] / 100, d.beat_flag[i]])
        res.append([pol_6s, d.polarity, out, [t / 1e6 for t in g.beats_us]])
    return res


mpcase.main(globals())
