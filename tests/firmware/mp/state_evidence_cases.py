"""MicroPython-side cases of tests/firmware/test_state_evidence.py: issue 14's state logic
with explicit values (movement, recovery, the calm-only baseline, priors, RMSSD noise),
the baseline on flash, local time and the finder's pick.  Module-level state: one case runs
per process.  `FILE CASE ARGS` (mpcase)."""
import math

import mpcase
from soothe_fw.feedback import coach, state
from soothe_fw.log import settings

s = settings.Settings()
b = state.Baseline()
m = state.StateMachine(s, b)


def feed(n, hr, rmssd, motion=0, beats=64, art=0, coh=40, res=0):
    seq = []
    for _ in range(n):
        m.update(5000, True, beats, art, hr, rmssd, coh, motion, res)
        seq.append(m.state)
    return seq


def movement_cool_down():
    out = {}
    out["calm"] = feed(60, 6400, 380)
    out["walk"] = feed(60, 10000, 90, motion=70)        # HR +36, low HRV, arm moving: drive
    out["cool"] = feed(120, 9000, 100)                  # 10 min still, HR +26, HRV low: recovery
    out["after"] = feed(30, 9000, 100)                  # the same, with the recovery over: threat
    out["rec"] = m.recovering
    out["calm_n"] = b.calm_n
    return out


def hr_decay_recovery():
    feed(60, 6400, 380)
    up = feed(24, 11000, 90)          # exercise-level HR without motion data: drive (activity)
    down = []
    hr = 11000
    for _ in range(120):              # a cool-down: HR decays ~5 bpm/min, then plateaus at +14
        hr = hr - 40 if hr > 7800 else hr
        down += feed(1, hr, 100)
    stress = feed(30, 9800, 90)       # a new rise of 20 bpm from the recovery's floor: threat
    return [up, down, stress]


def mild_low_hrv():
    feed(120, 6400, 380)
    q = [list(b.hr_q), list(b.ln_q), b.calm_n]
    mild = feed(120, 7000, 90)        # 10 min of HR +6 with RMSSD 9 ms
    q2 = [list(b.hr_q), list(b.ln_q), b.calm_n]
    feed(24, 6400, 380)
    stress = feed(30, 9600, 90)
    return [q, q2, mild, stress]


def resting_85():
    seq = feed(240, 8500, 300)
    return [seq, list(b.hr_q), b.calm_n]


def rmssd_noise():
    s.values["baseline_learn_min"] = 10
    x = 12345

    def rnd():
        nonlocal x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        return (x & 0xFFFF) / 65536.0

    def noisy():
        g = (rnd() + rnd() + rnd() + rnd() - 2.0) * 1.732
        h = (rnd() + rnd() + rnd() + rnd() - 2.0) * 1.732
        return int(6400 + 150 * h), int(380 * math.exp(0.1 * g))
    seq = []
    for _ in range(8 * 720):
        hr, rm = noisy()
        seq += feed(1, hr, rm)
    return [seq.count(1), seq.count(2), seq.count(3), sum(1 for a, c in zip(seq[200:], seq[201:]) if a != c)]


def baseline_on_flash(path):
    bl = state.Baseline(path)
    prior = list(bl.hr_q)
    for _ in range(500):
        bl.learn(5200, 400)
    bl.save()
    c = state.Baseline(path).load()
    with open(path, "w") as f:
        f.write('{"hr_hist": [1, 2')
    d = state.Baseline(path).load()
    return [prior, list(c.hr_q), c.calm_n, list(d.hr_q), d.calm_n]


def daylight_saving():
    st = settings.Settings()
    st.values["utc_offset_min"] = 60
    st.values["dst_next_s"] = 1774746000     # 2026-03-29 01:00 UTC: Berlin goes to +120
    st.values["dst_offset_min"] = 120
    return [coach.local_hour(st, 1774746000 - 1), coach.local_hour(st, 1774746000),
            coach.local_hour(st, 1767654000)]


def finder_pick():
    return [coach.finder_pick([500, 900, 1500, 880, 480]),   # clear peak at 5.5
            coach.finder_pick([600, 640, 620, 610, 650]),    # flat: keep
            coach.finder_pick([400, 1000, 980, 500, 420]),   # between two rates: the higher
            coach.finder_pick([900, 700, 1000, 650, 850]),   # noisy: keep
            coach.finder_pick([0, 0, 0, 0, 0])]


mpcase.main(globals())
