"""RR classification (soothe_fw/sense/rhythm.py), fed RR values directly: extra, missed,
ectopic (PVC with a compensatory pause, PAC with a non-compensatory one, a mildly
premature beat), a new rhythm relearnt, ordinary sinus variability left OK.  CPython,
the 64-bit unix port and the 32-bit port (interp fixture)."""

# The MicroPython-side code: tests/firmware/mp/rhythm_cases.py (one function a case).
CASES = "rhythm_cases.py"


def test_rr_artefacts_are_flagged(interp):
    out = interp.case(CASES, "artefacts")
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
    flags = interp.case(CASES, "new_slow_rhythm")
    assert flags[10] == "missed"  # one long interval is a missed beat
    assert flags[-6:] == ["ok"] * 6  # a run of them is the new rhythm


def test_sinus_variability_is_not_ectopic(interp):
    """Breathing (RSA, +-60 ms at 0.25 Hz) and beat-to-beat noise (RMSSD ~40 ms) at rest:
    ordinary sinus rhythm, every interval OK after the first."""
    flags = interp.case(CASES, "sinus_variability")
    assert len(flags) == 300
    assert flags[1:].count("ok") >= 297, [f for f in flags if f != "ok"]


def test_fast_rise_costs_one_interval_at_most(interp):
    """A startle: RR 900 -> 700 at once and staying there.  The first short interval may be
    doubted (flagged), the new rhythm is OK from the next one."""
    flags = interp.case(CASES, "fast_rise")
    assert flags[13:] == ["ok"] * 11, flags


def test_unclean_and_out_of_range_intervals_are_noise(interp):
    flags, median = interp.case(CASES, "unclean_out_of_range")
    assert flags[8:11] == ["noise", "noise", "noise"]
    assert flags[-1] == "ok"
    assert median == 800000


def test_a_waiting_short_interval_goes_out_on_flush(interp):
    assert interp.case(CASES, "flush_waiting") == [True, False, "short", 9]


def test_classifier_allocates_nothing(interp):
    """Per beat, under a locked heap on the MicroPython ports (CPython: runs the same)."""
    assert interp.case(CASES, "allocates_nothing") >= 40 * 15 - 2
