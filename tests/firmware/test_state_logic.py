"""State machine, prompt policy and pacer plan: pure firmware logic under both interpreters."""

STATE = """
import json
from soothe_fw.log import settings
from soothe_fw.feedback import state
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
print(json.dumps([out, b.calm_n]))
"""


def test_state_shows_only_while_evidence_holds(interp):
    seq, calm_n = interp(STATE)
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


COACH = """
import json
from soothe_fw.log import settings
from soothe_fw.feedback import coach
from soothe_fw.feedback import state
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
import json
from soothe_fw.feedback import pacer
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
