"""MicroPython-side cases of tests/firmware/test_offwrist.py: the beat detector on the
generator's off-wrist signals (lamp flicker, a dangling sensor, daylight drift, a knocked
table) and back on the wrist.  `FILE CASE ARGS` (mpcase)."""
from array import array

import mpcase
from soothe_fw.sense import beats
from soothe_sim import ppg_synth


def run(plan, seed, rate=100, keep=True):
    g = ppg_synth.SyntheticPPG(rate_hz=rate, plan=ppg_synth.parse_plan(plan), seed=seed)
    d = beats.BeatDetector(rate)
    buf = array("i", [0] * 25)
    total = g.total_ms * rate // 1000
    n = 0
    out = []
    counts = [0, 0]  # beats, OK beats
    changes = []
    c = False
    while n < total:
        g.fill(buf, 25)
        d.process(buf, 25)
        n += 25
        while d.available():
            i = d.pop()
            counts[0] += 1
            counts[1] += d.beat_flag[i] == beats.OK
            if keep:
                out.append([d.beat_n[i] / rate, d.beat_flag[i]])
        if d.contact != c:
            c = d.contact
            changes.append([n / rate, c])
    counts.append(d.unclaimed)
    return (out if keep else counts), changes, [t / 1e6 for t in g.beats_us]


def off_the_wrist(kind):
    res = []
    for seed in (3, 4):
        counts, changes, truth = run("%s:8m" % kind, seed, keep=False)
        res.append([counts[0] + counts[2], counts[1], changes])
    return res


def off_and_back(kind):
    out, changes, truth = run("rest:60s,%s:45s,rest:40s" % kind, 5)
    return [out, changes, truth]


def hours_of_daylight():
    counts, changes, truth = run("offwrist_daylight:160m", 31, keep=False)
    return [counts, changes]


def worn_then_off(kind, hr, seed, minutes):
    """A worn minute at `hr` bpm, then `minutes` off the wrist: OK beats after leaving."""
    out, changes, truth = run("rest=%d:60s,%s=%d:%dm" % (hr, kind, hr, minutes), seed)
    return [len([t for t, f in out if f == beats.OK and t > 60.5]), len(truth)]


mpcase.main(globals())
