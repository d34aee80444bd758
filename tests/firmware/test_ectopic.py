"""Ectopic beats (issue 13 item 7): the generator's premature beats, and what the engine does
with them.  Both run under CPython and MicroPython (interp fixture).

The premature beat and the interval after it (the pause) are not normal-to-normal intervals:
they must never be flagged ok, or they reach HRV (Lipponen & Tarvainen 2019).
"""
import pytest

# The MicroPython-side code: tests/firmware/mp/ectopic_cases.py (one function a case).
CASES = "ectopic_cases.py"


def test_generator_ectopic_timing_and_pulse(interp):
    res = interp.case(CASES, "physiology")
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


def _engine(interp, kind, plan, seed):
    res = interp.case(CASES, "engine", kind, plan, seed, timeout=300)
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


# Premature beats 20-40 % early with 30-70 % of the pulse (the generator's range): the small
# ones are under the diastolic window's bar, and are found by the pause that follows them.
# The mixed case runs at 96 bpm, where the window covers most of the cycle.
@pytest.mark.parametrize("kind,plan,seed", [("pvc", "rest:2m", 41), ("pac", "rest:2m", 42),
                                            ("mixed", "stress:2m", 43)])
def test_engine_finds_and_flags_every_ectopic_beat(interp, kind, plan, seed):
    n, missing, ok_flagged = _engine(interp, kind, plan, seed)
    assert n >= 5
    assert not missing and not ok_flagged, (
        "premature/post-pause beats not detected at %s us; flagged ok (feeds HRV) at %s us" % (missing, ok_flagged))


def test_a_small_early_pulse_waits_for_its_pause(interp):
    """rhythm.feed(small=True): a premature beat's pulse is smaller (less filling time), so
    an interval 20 % short with a small pulse waits for the next one; with the pause
    after it both are ectopic, where the interval alone lies within sinus arrhythmia's Th.
    With no pause the small pulse was a sinus beat after all: ok, not short."""
    flags = [["ok", "extra", "missed", "ectopic", "short", "noise"][f] for f in interp.case(CASES, "small_early_pulse")]
    assert len(flags) == 20 + 2 + 8 + 2 + 8 + 3
    assert flags[20:22] == ["ectopic", "ectopic"], flags[18:24]
    assert flags[30:32] == ["ok", "ok"], flags[28:34]  # no hint: within Th, as before
    assert flags[40:43] == ["ok", "ok", "ok"], flags[38:43]
    assert flags.count("ok") == len(flags) - 3  # the first (noise) and the one pair
