"""Session, finder, mark, button and practice-plan bookkeeping (issue 16.5, issue 19) as pure
objects, under CPython, the 64-bit unix port and the 32-bit MicroPython alike."""

# The MicroPython-side code: tests/firmware/mp/feedback_objects_cases.py (one function a case).
CASES = "feedback_objects_cases.py"


def test_button_gestures(interp):
    r = interp.case(CASES, "button")
    # [completed at, gesture, presses, ms since its first press began]
    assert r[0] == [[[600, "short", 1, 600]], False]  # released at 200: complete after 400 ms quiet
    assert r[1] == [[[1240, "long", 1, 1240]], False]
    assert r[2] == [[[800, "double", 2, 800]], False]
    assert r[3] == [[[1100, "double", 3, 1100]], False]
    assert r[4] == [[], False]
    assert r[5] == [[[600, "short", 1, 600], [1300, "short", 1, 600]], False]
    assert r[6] == [[[160, "short", 1, 160], [440, "short", 1, 160]], False]
    assert r[7] == [[], True]


def test_session_bookkeeping(interp):
    lead, pick, own_steps, ready, d, early, kinds = interp.case(CASES, "session")
    assert lead == [True, 0] and pick == 1  # two presses in the lead-in: the 2nd of the menu
    assert own_steps == 23  # from 10 s in
    assert ready == [False, True]
    assert d["kind"] == "mark" and d["practice"] == "imagery" and d["completed"] is False
    assert d["unix_s"] == 1767600004 and d["duration_s"] == 121 and d["rate_bpm"] == 5.5
    assert d["before"] == {"hr_bpm": 70.0, "rmssd_ms": 42.0, "coherence": 0.55}
    assert d["during"]["hr_bpm"] == (sum(6500 + k for k in range(2, 25)) // 23) / 100
    assert d["during"]["coherence"] == 1.5 and d["resonance_hz"] == 0.09  # 12 steps past 64 s
    assert d["after"] == {"hr_bpm": 64.0, "rmssd_ms": 48.0, "coherence": 0.6}
    assert early == [False, 0, 1767600100]
    from soothe_fw.log import records
    assert [records.SESSION_KINDS[k] for k in kinds] == ["manual", "prompted", "finder", "mark"]


def test_finder_bookkeeping(interp):
    r = interp.case(CASES, "finder")
    assert r == [False, True, 600000, 0, 0, 1, 4, 4, 500, 900, 1500, 800, 350, 2, 2, 55, -1, 4, False]


def test_mark_figures_before_and_after(interp):
    due, d, d2 = interp.case(CASES, "marks")
    assert due == [False, True]
    assert d["unix_s"] == 1767600061 and d["ms"] == 250 and d["state_at_mark"] == "soothe"
    b = d["before"]
    assert b["state"] == "soothe" and b["ok_pct"] == 100 and 58 < b["hr"] < 62 and b["rmssd"] > 0
    a = d["after"]  # half the minute with artefacts and no reading: no figures, never made up
    assert a["hr"] is None and a["rmssd"] is None and a["ok_pct"] < 60
    assert d2["after"]["hr"] is None and d2["after"]["state"] == "no-reading"


def test_practice_timelines(interp):
    r = interp.case(CASES, "plans")
    from soothe_fw.log import records
    from soothe_fw.feedback import practice as P

    assert P.NAMES == records.PRACTICE_NAMES
    start = [[0, 42], [300, 0]]  # START_CUE at 60 % intensity
    end_len = 1000
    for name in P.NAMES:
        length, lead, rate, tl = r[name]
        body_end = lead + 60000
        assert length == body_end + end_len
        # every practice closes with the same end cue: 36 % then 18 %
        assert tl[-5:] == [[body_end, 36], [body_end + 200, 0], [body_end + 400, 18], [body_end + 600, 0],
                           [length, 0]], name
        if name != "breathing":
            assert tl[:2] == start and lead == 600
    assert r["breathing"][3][0] == [0, 60] and r["breathing"][2] == 55  # its first inhale is its start cue
    # compassion break: three stages, each opened by a gentle double tap, quiet between
    cb = r["compassion_break"][3]
    taps = [t for t, d in cb if d == 24]
    assert taps == [600, 750, 20600, 20750, 40600, 40750]
    # imagery: a soft pulse (15 %) once per breath at 5.5/min (10909 ms) inside each stage
    pulses = [t for t, d in r["imagery"][3] if d == 15]
    assert pulses == [600 + 10909, 600 + 20000 + 10909, 600 + 40000 + 10909]  # 20 s stages: one each
    # body scan: six regions, one soft tap each
    assert [t for t, d in r["body_scan"][3] if d == 21] == [600 + 10000 * i for i in range(6)]
    assert r["prompt"] == [1500, [[0, 30], [200, 0], [500, 30], [700, 0], [1000, 30], [1200, 0], [1500, 0]]]


def test_button_reads_any_burst_of_presses_as_one_gesture():
    """Property: presses 60-300 ms long, 100-300 ms apart inside a burst and 500+ ms between
    bursts, polled every 20 ms: one gesture per burst with its press count (and its age)."""
    from hypothesis import given, settings, strategies as st

    from soothe_fw.feedback import button as B

    burst = st.lists(st.tuples(st.integers(3, 15), st.integers(5, 15)), min_size=1, max_size=4)  # (press, gap) x20 ms

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.tuples(burst, st.integers(25, 60)), min_size=1, max_size=5))
    def check(bursts):
        b = B.Button()
        want = []
        got = []
        seq = []
        for presses, pause in bursts:
            for i, (on, gap) in enumerate(presses):
                seq += [True] * on + [False] * (gap if i < len(presses) - 1 else pause)
            n = len(presses)
            length = sum(on + gap for on, gap in presses[:-1]) + presses[-1][0]
            want.append(("short" if n == 1 else "double", n, length * 20 + B.DOUBLE_GAP_MS))
        for pressed in seq:
            g = b.update(pressed, 20)
            if g:
                got.append((B.GESTURE_NAMES[g], b.presses, b.age_ms))
        assert got == want and not b.reading()

    check()
