"""MicroPython-side cases of tests/firmware/test_rhythm.py: RhythmClassifier fed RR values
directly (each case on a fresh classifier: one case runs per process).  `FILE CASE ARGS` (mpcase)."""
import math
from array import array

import mpcase
from soothe_fw.sense import rhythm

out = []


def sink(rr_us, flag, n, off32):
    out.append([rr_us // 1000, flag, n])
    if flag == rhythm.OK:
        r.accept(rr_us)  # as the detector does when an OK beat goes out


r = rhythm.RhythmClassifier(sink)
pos = [0]


def beat(ms, clean=True):
    pos[0] += 1
    r.feed(ms * 1000, clean, pos[0], 0)


NAMES = ["ok", "extra", "missed", "ectopic", "short", "noise"]


def names(rows):
    return [NAMES[f] for _, f, _ in rows]


def artefacts():
    for _ in range(10):
        beat(800)
    beat(300)
    beat(500)          # extra beat splitting an 800 ms interval
    for _ in range(4):
        beat(800)
    beat(1600)                    # missed beat
    for _ in range(4):
        beat(800)
    beat(480)
    beat(1120)         # PVC: premature, then a compensatory pause (two cycles)
    for _ in range(4):
        beat(800)
    beat(600)
    beat(880)          # PAC: the sinus node reset, the pause only a little long
    for _ in range(4):
        beat(800)
    beat(640)
    beat(960)          # a mildly premature beat (20 %): over the 3/4 bar
    beat(800)
    return out


def new_slow_rhythm():
    for _ in range(10):
        beat(500)
    for i in range(14):
        beat(1000 + 10 * (i % 3))
    return names(out)


def sinus_variability():
    seed = [12345]

    def noise():  # small LCG: the same on every interpreter
        seed[0] = (seed[0] * 1103515245 + 12345) & 0x7fffffff
        return (seed[0] % 2001 - 1000) / 1000.0
    t = 0.0
    for i in range(300):
        rr = 900 + 60 * math.sin(2 * math.pi * 0.25 * t) + 45 * noise()
        t += rr / 1000.0
        beat(int(rr))
    return names(out)


def fast_rise():
    for i in range(12):
        beat(900 + 10 * (i % 2))
    for i in range(12):
        beat(700 + 10 * (i % 2))
    return names(out)


def unclean_out_of_range():
    for _ in range(8):
        beat(800)
    beat(800, clean=False)
    beat(200)
    beat(2100)
    beat(800)
    return [names(out), r.median_rr_us()]


def flush_waiting():
    for _ in range(8):
        beat(800)
    beat(500)
    waiting = r.waiting()
    r.flush()
    return [waiting, r.waiting(), names(out)[-1], out[-1][2]]


class _Sink:
    # At module level, not inside the case: MicroPython allocates when calling a closure
    # with more than 5 arguments and closed-over names together.
    def __init__(self):
        self.i = 0
        self.flags = array('i', [0] * 8)
        self.classifier = None

    def put(self, rr_us, flag, n, off32):
        self.flags[self.i & 7] = flag
        self.i += 1
        if flag == 0:
            self.classifier.accept(rr_us)


def allocates_nothing():
    """Per beat, under a locked heap on the MicroPython ports (CPython: runs the same)."""
    s = _Sink()
    c = s.classifier = rhythm.RhythmClassifier(s.put)
    try:
        import micropython
        lock, unlock = micropython.heap_lock, micropython.heap_unlock
    except (ImportError, AttributeError):
        lock = unlock = lambda: None
    rrs = array('i', [800000, 810000, 790000, 800000, 805000, 480000, 1120000, 800000, 300000, 500000,
                      1600000, 800000, 640000, 960000, 800000])
    lock()
    for k in range(40):
        for j in range(len(rrs)):
            c.feed(rrs[j], True, k * 16 + j, 0)
    c.flush()
    unlock()
    return s.i


mpcase.main(globals())
