"""MicroPython-side cases of tests/firmware/test_state_logic.py: the state machine, the
prompt policy and the pacer plan.  `FILE CASE ARGS` (mpcase)."""
import mpcase
from soothe_fw.feedback import coach, pacer, state
from soothe_fw.log import settings


def states():
    s = settings.Settings()
    s.values["baseline_learn_min"] = 10
    b = state.Baseline()
    m = state.StateMachine(s, b)
    out = []

    def feed(n, contact, beats, art, hr, rmssd, coh, motion=0, res=0):
        for _ in range(n):
            m.update(5000, contact, beats, art, hr, rmssd, coh, motion, res)
            out.append(m.state)
    feed(2, True, 10, 0, 6400, 380, 50)       # a pulse, too few beats: unclassified
    feed(160, True, 64, 0, 6400, 380, 50)     # calm: learning at once, balanced after 10 calm min
    feed(20, True, 90, 0, 9000, 120, 30)      # HR +26, RMSSD 12 ms: threat after the 20 s dwell
    feed(30, True, 64, 0, 6400, 380, 50)      # calm again: balanced, not kept red
    feed(1, False, 0, 0, 0, 0, 0)             # contact lost: at once
    feed(20, True, 64, 0, 6300, 380, 250, 0, 100)  # coherent slow breathing: soothe
    feed(20, True, 64, 0, 6300, 380, 250, 0, 250)  # as coherent but at 15/min: balanced
    return [out, b.calm_n]


def prompts():
    s = settings.Settings()
    c = coach.Coach(s)
    log = []
    t = 0

    def run(seconds, st, hour, activity=False, busy=False):
        nonlocal t
        for _ in range(seconds // 5):
            t += 5000
            a = c.update(t, 5000, st, activity, hour, busy)
            if a:
                log.append([t // 1000, a])
    run(300, state.THREAT, 23)                   # quiet hours: nothing
    run(300, state.THREAT, 12, activity=True)    # activity: nothing
    run(200, state.THREAT, 12)                   # offered after 180 s, ignored after 60 s
    run(230, state.THREAT, 12)                   # second offer at 1020, still pending
    log.append([t // 1000, c.press(t, True, False, False)])  # long press: snooze 30 min
    run(1200, state.THREAT, 12)                  # snoozed: nothing
    run(4000, state.THREAT, 12)                  # after the snooze and the 2-per-hour limit: again
    log.append([t // 1000, c.press(t, False, False, False)])  # short press: start prompted... or manual
    return log


def pacer_plan():
    p = pacer.BreathPlan(60, 4, 6, 60)
    ev = []
    t = 0
    while t < 10000:
        p.at(t)
        ev.append([t, p.duty, p.glow, p.inhaling])
        t = p.next_ms
    return [p.period_ms, p.inhale_ms, ev]


mpcase.main(globals())
