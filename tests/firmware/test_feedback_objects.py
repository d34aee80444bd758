"""Session, finder, mark, button and practice-plan bookkeeping (issue 16.5, issue 19) as pure
objects, under CPython, the 64-bit unix port and the 32-bit MicroPython alike."""

BUTTON = """
import json
from soothe_fw.feedback import button as B
def run(seq, single=False):
    # seq: (pressed, ms) runs; polled every 20 ms like the ui
    b = B.Button()
    out = []
    t = 0
    for pressed, ms in seq:
        for _ in range(ms // 20):
            t += 20
            g = b.update(pressed, 20, single)
            if g:
                out.append([t, B.GESTURE_NAMES[g], b.presses, b.age_ms])
    return out, b.reading()
print(json.dumps([
    run([(1, 200), (0, 1000)]),                          # short
    run([(1, 1200), (0, 1000)]),                         # long
    run([(1, 120), (0, 160), (1, 120), (0, 1000)]),     # double
    run([(1, 100), (0, 200), (1, 100), (0, 200), (1, 100), (0, 1000)]),  # triple
    run([(1, 20), (0, 1000)]),                           # a bounce: nothing
    run([(1, 200), (0, 500), (1, 200), (0, 1000)]),      # two slow presses: two shorts
    run([(1, 120), (0, 160), (1, 120), (0, 1000)], True),  # single mode: each press at once
    run([(1, 200), (0, 100)]),                           # still reading when the poll stops
]))
"""


def test_button_gestures(interp):
    r = interp(BUTTON)
    # [completed at, gesture, presses, ms since its first press began]
    assert r[0] == [[[600, "short", 1, 600]], False]  # released at 200: complete after 400 ms quiet
    assert r[1] == [[[1240, "long", 1, 1240]], False]
    assert r[2] == [[[800, "double", 2, 800]], False]
    assert r[3] == [[[1100, "double", 3, 1100]], False]
    assert r[4] == [[], False]
    assert r[5] == [[[600, "short", 1, 600], [1300, "short", 1, 600]], False]
    assert r[6] == [[[160, "short", 1, 160], [440, "short", 1, 160]], False]
    assert r[7] == [[], True]


SESSION = """
import json
from soothe_fw.feedback import session as S
from soothe_fw.feedback.practice import PracticePlan, IMAGERY
from soothe_fw.log import records
s = S.Session()
buf = bytearray(64)
t0 = (1 << 30) - 3000   # ticks wrap during the lead-in (ESP32 ticks_ms wraps at 2**30)
s.begin(t0, 1767600000, S.MARKED, S.PICK_MS, 7000, 420, 55)
lead = [s.leading_in(), s.chosen([0, 1, 2, 3, 4], 0)]
s.pick(t0 + 1000, 1)
s.pick(t0 + 1600, 1)
menu_pick = s.chosen([0, 1, 2, 3, 4], 0)
start = (t0 + 1600 + S.PICK_MS) & ((1 << 30) - 1)
plan = PracticePlan(IMAGERY, 300000, 55, 4, 6, 60)
s.go(start, 1767600004, menu_pick, plan, plan.length_ms)
steps = []
for k in range(1, 25):   # 5 s steps for 2 min
    now = (start + 5000 * k) & ((1 << 30) - 1)
    if s.own(now):
        s.add(6500 + k, 500)
    s.add_coherence(now, 150, 90)
    steps.append(s.own(now))
end = (start + 121500) & ((1 << 30) - 1)
s.end(end, False)
ready = [s.after_ready((end + 59000) & ((1 << 30) - 1)), s.after_ready((end + 60000) & ((1 << 30) - 1))]
n = s.encode(buf, 6400, 480, 60)
d = records.decode_session(buf[:n])
s2 = S.Session()
s2.begin(0, 1767600100, S.MANUAL, S.PICK_MS, 0, 0, 0)
s2.end(1000, True)   # stopped in its lead-in: never started
d2 = records.decode_session(buf[:s2.encode(buf, 0, 0, 0)])
print(json.dumps([lead, menu_pick, steps.count(True), ready, d, [d2["completed"], d2["duration_s"], d2["unix_s"]],
                  [S.MANUAL, S.PROMPTED, S.FINDER, S.MARKED]]))
"""


def test_session_bookkeeping(interp):
    lead, pick, own_steps, ready, d, early, kinds = interp(SESSION)
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


FINDER = """
import json
from soothe_fw.feedback import finder as F
f = F.Finder()
r = [f.running]
f.begin(120000)
r += [f.running, f.length_ms(), f.step_at(0), f.step_at(119999), f.step_at(120000), f.step_at(600000),
      f.step_at(700000)]
for i, (swing, coh) in enumerate([(400, 200), (700, 400), (1300, 400), (650, 300), (300, 100)]):
    f.step = i
    r.append(f.score(swing, coh))
r += [f.best(), f.top(), F.RATES_X10[f.best()]]
for i, v in enumerate([600, 640, 620, 610, 650]):
    f.scores[i] = v
r += [f.best(), f.top()]
f.stop()
r.append(f.running)
print(json.dumps(r))
"""


def test_finder_bookkeeping(interp):
    r = interp(FINDER)
    assert r == [False, True, 600000, 0, 0, 1, 4, 4, 500, 900, 1500, 800, 350, 2, 2, 55, -1, 4, False]


MARKS = """
import json
from soothe_fw.feedback.mark import Marks
from soothe_fw.sense.hrv import RollingHRV
from soothe_fw.log import records
h = RollingHRV()
m = Marks()
buf = bytearray(64)
t = 0
rr = 0
def beats(until, rr_ms, ok=True):
    global t
    while t + rr_ms <= until:
        t += rr_ms
        h.add_beat(t, rr_ms + (t // rr_ms) % 3 * 10, ok)
state_at = []
for step in range(1, 13):          # 60 s of soothe-ish readings at ~60 bpm
    beats(step * 5000, 1000)
    m.note_state(3 if step > 2 else 5)
m.begin(60000, 1767600061250, 3, h)
for step in range(13, 25):         # the minute after: faster, then contact lost for the last half
    beats(step * 5000, 800, step < 19)
    m.note_state(1 if step < 19 else 0)
due = [m.due(119999), m.due(120000)]
n = m.finish(buf, 120000, h)
d = records.decode_mark(buf[:n])
# a partial 'after': a practice started 5 s after the mark -> no evidence (too short)
m.begin(120000, 1767600121000, 1, h)
d2 = records.decode_mark(buf[:m.finish(buf, 125000, h)])
print(json.dumps([due, d, d2]))
"""


def test_mark_figures_before_and_after(interp):
    due, d, d2 = interp(MARKS)
    assert due == [False, True]
    assert d["unix_s"] == 1767600061 and d["ms"] == 250 and d["state_at_mark"] == "soothe"
    b = d["before"]
    assert b["state"] == "soothe" and b["ok_pct"] == 100 and 58 < b["hr"] < 62 and b["rmssd"] > 0
    a = d["after"]  # half the minute with artefacts and no reading: no figures, never made up
    assert a["hr"] is None and a["rmssd"] is None and a["ok_pct"] < 60
    assert d2["after"]["hr"] is None and d2["after"]["state"] == "no-reading"


PLANS = """
import json
from soothe_fw.feedback import practice as P
def timeline(plan):
    out = []
    t = 0
    while t < plan.length_ms:
        plan.at(t)
        if not out or out[-1][1] != plan.duty:
            out.append([t, plan.duty])
        assert plan.next_ms > t, (t, plan.next_ms)
        t = plan.next_ms
    out.append([t, 0])
    return out
r = {}
for k in range(5):
    p = P.PracticePlan(k, 60000, 55, 4, 6, 60)
    r[P.NAMES[k]] = [p.length_ms, p.lead_ms, p.rate_x10, timeline(p)]
c = P.Cue(P.PROMPT_CUE, 60)
r["prompt"] = [c.length_ms, timeline(c)]
print(json.dumps(r))
"""


def test_practice_timelines(interp):
    r = interp(PLANS)
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
