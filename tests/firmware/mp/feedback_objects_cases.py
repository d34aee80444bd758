"""MicroPython-side cases of tests/firmware/test_feedback_objects.py: button gestures, the
session, finder and mark bookkeeping, the practice plans' haptic timelines.  `FILE CASE ARGS` (mpcase)."""
import mpcase
from soothe_fw.feedback import button as B
from soothe_fw.feedback import finder as F
from soothe_fw.feedback import practice as P
from soothe_fw.feedback import session as S
from soothe_fw.feedback.mark import Marks
from soothe_fw.feedback.practice import IMAGERY, PracticePlan
from soothe_fw.log import records
from soothe_fw.sense.hrv import RollingHRV


def button():
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
    return [
        run([(1, 200), (0, 1000)]),                          # short
        run([(1, 1200), (0, 1000)]),                         # long
        run([(1, 120), (0, 160), (1, 120), (0, 1000)]),     # double
        run([(1, 100), (0, 200), (1, 100), (0, 200), (1, 100), (0, 1000)]),  # triple
        run([(1, 20), (0, 1000)]),                           # a bounce: nothing
        run([(1, 200), (0, 500), (1, 200), (0, 1000)]),      # two slow presses: two shorts
        run([(1, 120), (0, 160), (1, 120), (0, 1000)], True),  # single mode: each press at once
        run([(1, 200), (0, 100)]),                           # still reading when the poll stops
    ]


def session():
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
    return [lead, menu_pick, steps.count(True), ready, d, [d2["completed"], d2["duration_s"], d2["unix_s"]],
            [S.MANUAL, S.PROMPTED, S.FINDER, S.MARKED]]


def finder():
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
    return r


def marks():
    h = RollingHRV()
    m = Marks()
    buf = bytearray(64)
    t = 0

    def beats(until, rr_ms, ok=True):
        nonlocal t
        while t + rr_ms <= until:
            t += rr_ms
            h.add_beat(t, rr_ms + (t // rr_ms) % 3 * 10, ok)
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
    return [due, d, d2]


def plans():
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
    return r


mpcase.main(globals())
