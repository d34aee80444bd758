"""Ectopic beats (issue 13 item 7): the generator's premature beats, and what the engine does
with them.  Both run under CPython and MicroPython (interp fixture).

The premature beat and the interval after it (the pause) are not normal-to-normal intervals:
they must never be flagged ok, or they reach HRV (Lipponen & Tarvainen 2019).
"""
import pytest

GEN = """
import json
from soothe_sim import ppg_synth
from array import array
def gen(kind, per_min, plan='rest:3m', seed=41):
    g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan(plan), seed=seed, ectopic_per_min=per_min, ectopic=kind)
    n = g.total_ms * 100 // 1000
    buf = array('i', [0] * n)
    g.fill(buf, n)
    return g, buf
"""

PHYSIOLOGY = GEN + """
res = {}
g0, b0 = gen('pvc', 0)
g1 = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan('rest:3m'), seed=41)
b1 = array('i', [0] * len(b0))
g1.fill(b1, len(b1))
res['same_when_off'] = list(b0) == list(b1) and g0.beats_us == g1.beats_us
for kind in ('pvc', 'pac'):
    g, buf = gen(kind, 6)
    t = g.beats_us
    rows = []
    for onset, k in g.ectopics:
        j = t.index(onset)
        if j < 2 or j + 2 >= len(t):
            continue
        # Pulse height: the template peaks 16 % into the pulse; compare with the beat before.
        def peak(a, b):
            lo = min(buf[i] for i in range(a * 100 // 1000000, b * 100 // 1000000))
            return max(buf[i] for i in range(a * 100 // 1000000, b * 100 // 1000000)) - lo
        rows.append([t[j - 1] - t[j - 2], t[j] - t[j - 1], t[j + 1] - t[j],
                     peak(t[j], t[j + 1]), peak(t[j - 1], t[j]), k])
    res[kind] = rows
print(json.dumps(res))
"""


def test_generator_ectopic_timing_and_pulse(interp):
    res = interp(PHYSIOLOGY)
    assert res["same_when_off"], "ectopic_per_min=0 must leave the signal byte-identical"
    for kind in ("pvc", "pac"):
        rows = res[kind]
        assert 8 <= len(rows) <= 30, (kind, len(rows))  # ~6/min over 3 min
        for before, coupling, pause, h_prem, h_prev, k in rows:
            assert k == kind
            # Premature by 20-40 % of the RR (sinus RR drifts a little beat to beat).
            assert 0.5 * before < coupling < 0.85 * before, (kind, before, coupling)
            if kind == "pvc":
                # Compensatory: premature + pause = two sinus cycles.
                assert 1.8 * before < coupling + pause < 2.2 * before, (before, coupling, pause)
            else:
                # Non-compensatory: the pause is about one cycle, slightly longer.
                assert 0.95 * before < pause < 1.3 * before, (before, pause)
                assert coupling + pause < 2.05 * before, (before, coupling, pause)
            # Less filling time, a smaller pulse.
            assert h_prem < 0.85 * h_prev, (kind, h_prem, h_prev)
        total = sum((r[1] + r[2]) / r[0] for r in rows) / len(rows)
        if kind == "pvc":
            assert 1.95 < total < 2.05, total  # premature + pause = two cycles on average
        else:
            assert total < 1.95, total  # the sinus node was reset: less than two cycles


ENGINE = GEN + """
from soothe_fw.sense import beats
g, buf = gen(KIND, 6, PLAN, SEED)
d = beats.BeatDetector(100)
n = len(buf)
blk = array('i', [0] * 25)
out = []
i = 0
while i < n:
    k = min(25, n - i)
    for j in range(k):
        blk[j] = buf[i + j]
    d.process(blk, k)
    i += k
    while d.available():
        h = d.pop()
        out.append([((d.beat_n[h] * 32 + d.beat_off32[h]) * 1000000) // 3200, d.beat_flag[h]])
print(json.dumps({'truth': g.beats_us, 'ect': [t for t, _ in g.ectopics], 'beats': out,
                  'names': list(beats.FLAG_NAMES)}))
"""


def _engine(interp, kind, plan, seed):
    code = ENGINE.replace("KIND", repr(kind)).replace("PLAN", repr(plan)).replace("SEED", str(seed))
    res = interp(code, timeout=300)
    names = res["names"]
    beats = res["beats"]
    # The detector's fiducial (the tangent foot) sits a constant few ms from the true onset.
    offs = sorted(min((b[0] - t for b in beats), key=abs) for t in res["truth"] if t > 10000000)
    off = offs[len(offs) // 2]
    missing, ok_flagged = [], []
    for e in res["ect"]:
        j = res["truth"].index(e)
        # The first 10 s: evidence still building; the last 2 s: the beat not yet emitted.
        if j + 1 >= len(res["truth"]) or e < 10000000 or res["truth"][j + 1] > res["truth"][-1] - 2000000:
            continue
        for t in (e, res["truth"][j + 1]):  # the premature beat, and the beat ending its pause
            near = [b for b in beats if abs(b[0] - t - off) < 50000]
            if not near:
                missing.append(t)
            elif names[near[0][1]] == "ok":
                ok_flagged.append(t)
    return len(res["ect"]), missing, ok_flagged


# Known defect (notes/issue-13.md): a premature beat whose pulse is under 5/8 of the last
# one's upstroke and comes within 3/4 of the usual RR is taken for the diastolic wave and not
# detected.  Looking for them from half the RR found them all on these seeds, but made beats
# of motion artefacts (F1 with bursts/gestures -2.6/-1.3 points), so it was left out.  The
# classification of the premature beats that are found is tested in test_rhythm.py.
ECTOPIC_SMALL = pytest.mark.xfail(strict=True, reason="premature beats with a small pulse are taken for the "
                                  "diastolic wave")


@pytest.mark.parametrize("kind,plan,seed", [pytest.param("pvc", "rest:2m", 41),
                                            pytest.param("pac", "rest:2m", 42)])
def test_engine_finds_and_flags_every_ectopic_beat(interp, kind, plan, seed):
    n, missing, ok_flagged = _engine(interp, kind, plan, seed)
    assert n >= 5
    assert not missing and not ok_flagged, (
        "premature/post-pause beats not detected at %s us; flagged ok (feeds HRV) at %s us" % (missing, ok_flagged))
