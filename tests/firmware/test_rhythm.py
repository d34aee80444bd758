"""RR classification (soothe_fw/sense/rhythm.py), fed RR values directly: extra, missed,
ectopic (PVC with a compensatory pause, PAC with a non-compensatory one, a mildly
premature beat), a new rhythm relearnt, ordinary sinus variability left OK.  CPython,
the 64-bit unix port and the 32-bit port (interp fixture)."""

FEED = """
import json
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
"""


def test_rr_artefacts_are_flagged(interp):
    code = FEED + """
for _ in range(10): beat(800)
beat(300); beat(500)          # extra beat splitting an 800 ms interval
for _ in range(4): beat(800)
beat(1600)                    # missed beat
for _ in range(4): beat(800)
beat(480); beat(1120)         # PVC: premature, then a compensatory pause (two cycles)
for _ in range(4): beat(800)
beat(600); beat(880)          # PAC: the sinus node reset, the pause only a little long
for _ in range(4): beat(800)
beat(640); beat(960)          # a mildly premature beat (20 %): over the 3/4 bar
beat(800)
print(json.dumps(out))
"""
    out = interp(code)
    flags = [["ok", "extra", "missed", "ectopic", "short", "noise"][f] for _, f, _ in out]
    # The first interval has no usual RR and nothing to agree with yet: not trusted.
    assert flags[:9] == ["noise"] + ["ok"] * 8
    assert flags[9:11] == ["ok", "extra"] and out[11][:2] == [800, 0]  # merged interval
    assert flags[16] == "missed"
    assert flags[21:23] == ["ectopic", "ectopic"]
    assert flags[27:29] == ["ectopic", "ectopic"], flags
    assert flags[33:35] == ["ectopic", "ectopic"], flags
    assert flags[-1] == "ok"
    assert flags.count("ok") == len(flags) - 9  # noise, extra, missed, 3 ectopic pairs
    # Every interval comes out once, in order, with its own beat position.
    assert [n for _, _, n in out] == sorted(n for _, _, n in out)
    assert len(out) == 36


def test_a_run_of_long_intervals_is_a_new_rhythm_not_missed_beats_forever(interp):
    """HR halves and stays there (or the median was learnt from doubled beats): six
    consistent long intervals relearn the median, as six short ones already did."""
    code = FEED + """
for _ in range(10): beat(500)
for _ in range(14): beat(1000 + 10 * (_ % 3))
print(json.dumps(names(out)))
"""
    flags = interp(code)
    assert flags[10] == "missed"  # one long interval is a missed beat
    assert flags[-6:] == ["ok"] * 6  # a run of them is the new rhythm


def test_sinus_variability_is_not_ectopic(interp):
    """Breathing (RSA, +-60 ms at 0.25 Hz) and beat-to-beat noise (RMSSD ~40 ms) at rest:
    ordinary sinus rhythm, every interval OK after the first."""
    code = FEED + """
import math
seed = [12345]
def noise():  # small LCG: the same on every interpreter
    seed[0] = (seed[0] * 1103515245 + 12345) & 0x7fffffff
    return (seed[0] % 2001 - 1000) / 1000.0
t = 0.0
for i in range(300):
    rr = 900 + 60 * math.sin(2 * math.pi * 0.25 * t) + 45 * noise()
    t += rr / 1000.0
    beat(int(rr))
print(json.dumps(names(out)))
"""
    flags = interp(code)
    assert len(flags) == 300
    assert flags[1:].count("ok") >= 297, [f for f in flags if f != "ok"]


def test_fast_rise_costs_one_interval_at_most(interp):
    """A startle: RR 900 -> 700 at once and staying there.  The first short interval may be
    doubted (flagged), the new rhythm is OK from the next one."""
    code = FEED + """
for _ in range(12): beat(900 + 10 * (_ % 2))
for _ in range(12): beat(700 + 10 * (_ % 2))
print(json.dumps(names(out)))
"""
    flags = interp(code)
    assert flags[13:] == ["ok"] * 11, flags


def test_unclean_and_out_of_range_intervals_are_noise(interp):
    code = FEED + """
for _ in range(8): beat(800)
beat(800, clean=False)
beat(200)
beat(2100)
beat(800)
print(json.dumps([names(out), r.median_rr_us()]))
"""
    flags, median = interp(code)
    assert flags[8:11] == ["noise", "noise", "noise"]
    assert flags[-1] == "ok"
    assert median == 800000


def test_a_waiting_short_interval_goes_out_on_flush(interp):
    code = FEED + """
for _ in range(8): beat(800)
beat(500)
waiting = r.waiting()
r.flush()
print(json.dumps([waiting, r.waiting(), names(out)[-1], out[-1][2]]))
"""
    assert interp(code) == [True, False, "short", 9]


def test_classifier_allocates_nothing(interp):
    """Per beat, under a locked heap on the MicroPython ports (CPython: runs the same)."""
    code = """
import json
from array import array
from soothe_fw.sense import rhythm
flags = array('i', [0] * 8)
class Sink:
    def __init__(self):
        self.i = 0
    def put(self, rr_us, flag, n, off32):
        flags[self.i & 7] = flag
        self.i += 1
        if flag == 0:
            r.accept(rr_us)
s = Sink()
r = rhythm.RhythmClassifier(s.put)
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
        r.feed(rrs[j], True, k * 16 + j, 0)
r.flush()
unlock()
print(json.dumps(s.i))
"""
    assert interp(code) >= 40 * 15 - 2
