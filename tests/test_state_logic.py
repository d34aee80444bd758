"""State machine, prompt policy and pacer plan: pure firmware logic under both interpreters."""

STATE = """
import json, settings, state
s = settings.Settings()
b = state.Baseline()
b.hr_x100, b.rmssd_x10 = 6400, 400
m = state.StateMachine(s, b)
out = []
def feed(n, contact, beats, art, hr, rmssd, coh):
    for _ in range(n):
        m.update(5000, contact, beats, art, hr, rmssd, coh)
        out.append(m.state)
feed(4, True, 60, 0, 6500, 420, 50)      # at baseline: unclassified
feed(20, True, 90, 0, 9000, 150, 30)     # HR +26, RMSSD 38 %: threat after 60 s dwell
feed(2, True, 90, 0, 7600, 330, 30)      # in between: stays threat (hysteresis)
feed(10, True, 60, 0, 5900, 700, 300)    # calm, high RMSSD: soothe after 30 s
feed(1, False, 0, 0, 0, 0, 0)            # contact lost: at once
feed(3, True, 60, 0, 13000, 100, 10)     # exercise-level HR: drive, never threat
feed(10, True, 60, 0, 13000, 100, 10)
print(json.dumps([out, m.activity]))
"""


def test_state_dwell_hysteresis_and_no_reading(interp):
    seq, activity = interp(STATE)
    assert seq[:4] == [4, 4, 4, 4]
    threat = seq[4:24]
    assert threat.index(1) == 12  # 60 s dwell at 5 s steps (the 13th step)
    assert seq[24:26] == [1, 1]
    soothe = seq[26:36]
    assert soothe.index(3) == 6 and 1 in soothe[:6]
    assert seq[36] == 0
    assert 1 not in seq[37:] and seq[-1] == 2 and activity


COACH = """
import json, settings, coach, state
s = settings.Settings()
c = coach.Coach(s)
log = []
t = 0
def run(seconds, st, hour, activity=False, busy=False):
    global t
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
print(json.dumps(log))
"""


def test_prompt_policy(interp):
    log = interp(COACH)
    OFFER, START_MANUAL, START_PROMPTED, SNOOZE, IGNORED = 1, 2, 3, 5, 6
    assert log[0] == [600 + 180, OFFER]
    assert log[1] == [600 + 240, IGNORED]
    assert log[2] == [1020, OFFER]  # threat held 180 s again after the ignored prompt
    assert log[3] == [1030, SNOOZE]
    offers_after = [e for e in log[4:] if e[1] == OFFER]
    # Snoozed for 30 min, and at most 2 prompts an hour (780 s + 3600 s).
    assert offers_after and 4380 <= offers_after[0][0] <= 4390
    assert log[-1][1] in (START_PROMPTED, START_MANUAL)


PACER = """
import json, pacer
p = pacer.BreathPlan(60, 4, 6, 60)
ev = []
t = 0
while t < 10000:
    p.at(t)
    ev.append([t, p.duty, p.glow, p.inhaling])
    t = p.next_ms
print(json.dumps([p.period_ms, p.inhale_ms, ev]))
"""


def test_pacer_plan_timeline(interp):
    period, inhale, ev = interp(PACER)
    assert (period, inhale) == (10000, 4000)
    assert ev[0] == [0, 60, 48, True]  # the inhale cue at full intensity
    ramp = [d for t, d, g, i in ev if 120 <= t < 4000]
    assert ramp == sorted(ramp) and ramp[0] == 15 and ramp[-1] == 60
    turn = [[t, d] for t, d, g, i in ev if 4000 <= t < 4400]
    assert turn == [[4000, 0], [4100, 60], [4150, 0], [4220, 60], [4270, 0]]
    glow_in = [g for t, d, g, i in ev if i]
    glow_out = [g for t, d, g, i in ev if not i]
    assert glow_in == sorted(glow_in) and glow_out == sorted(glow_out, reverse=True)
