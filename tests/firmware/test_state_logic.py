"""State machine, prompt policy and pacer plan: pure firmware logic under both interpreters."""

# The MicroPython-side code: tests/firmware/mp/state_logic_cases.py (one function a case).
CASES = "state_logic_cases.py"


def test_state_shows_only_while_evidence_holds(interp):
    seq, calm_n = interp.case(CASES, "states")
    assert seq[:2] == [4, 4]
    calm = seq[2:162]
    assert calm[0] == 6 and set(calm[:119]) == {6} and calm[-1] == 5  # learning, then balanced
    threat = seq[162:182]
    assert 1 in threat and 3 <= threat.index(1) <= 8 and threat[-1] == 1
    after = seq[182:212]
    assert after[-1] == 5 and after.index(5) <= 6, after  # clears within ~30 s, to balanced
    assert seq[212] == 0
    soothe = seq[213:233]
    assert soothe[-1] == 3 and 2 not in soothe and 1 not in soothe
    fast = seq[233:253]
    assert fast[-1] == 5 and 3 not in fast[5:]
    assert 150 <= calm_n <= 220  # learnt from the calm steps only, never from threat


def test_prompt_policy(interp):
    log = interp.case(CASES, "prompts")
    OFFER, START_MANUAL, START_PROMPTED, SNOOZE, IGNORED = 1, 2, 3, 5, 6
    assert log[0] == [600 + 180, OFFER]
    assert log[1] == [600 + 240, IGNORED]
    assert log[2] == [1020, OFFER]  # threat held 180 s again after the ignored prompt
    assert log[3] == [1030, SNOOZE]
    offers_after = [e for e in log[4:] if e[1] == OFFER]
    # Snoozed for 30 min, and at most 2 prompts an hour (780 s + 3600 s).
    assert offers_after and 4380 <= offers_after[0][0] <= 4390
    assert log[-1][1] in (START_PROMPTED, START_MANUAL)


def test_pacer_plan_timeline(interp):
    period, inhale, ev = interp.case(CASES, "pacer_plan")
    assert (period, inhale) == (10000, 4000)
    assert ev[0] == [0, 60, 48, True]  # the inhale cue at full intensity
    ramp = [d for t, d, g, i in ev if 120 <= t < 4000]
    assert ramp == sorted(ramp) and ramp[0] == 15 and ramp[-1] == 60
    turn = [[t, d] for t, d, g, i in ev if 4000 <= t < 4400]
    assert turn == [[4000, 0], [4100, 60], [4150, 0], [4220, 60], [4270, 0]]
    glow_in = [g for t, d, g, i in ev if i]
    glow_out = [g for t, d, g, i in ev if not i]
    assert glow_in == sorted(glow_in) and glow_out == sorted(glow_out, reverse=True)
