"""Issue 14's state logic with explicit values, under CPython and MicroPython alike.

Movement is activity (drive, never threat) and starts a recovery in which a cool-down's
high HR and low HRV are not threat; HR decaying after a rise is recovery without an
accelerometer; the baseline learns only from calm windows; priors keep a wearer resting
at 85 bpm out of drive; local time follows the daylight-saving change; the finder keeps
its rate when the peak is not clear.
"""

HEAD = """
import json
from soothe_fw.log import settings
from soothe_fw.feedback import state
from soothe_fw.feedback import coach
s = settings.Settings()
b = state.Baseline()
m = state.StateMachine(s, b)
def feed(n, hr, rmssd, motion=0, beats=64, art=0, coh=40, res=0):
    seq = []
    for _ in range(n):
        m.update(5000, True, beats, art, hr, rmssd, coh, motion, res)
        seq.append(m.state)
    return seq
"""


def test_movement_is_drive_and_its_cool_down_is_never_threat(interp):
    r = interp(HEAD + """
out = {}
out["calm"] = feed(60, 6400, 380)
out["walk"] = feed(60, 10000, 90, motion=70)        # HR +36, low HRV, arm moving: drive
out["cool"] = feed(120, 9000, 100)                  # 10 min still, HR +26, HRV low: recovery
out["after"] = feed(30, 9000, 100)                  # the same, with the recovery over: threat
out["rec"] = m.recovering
out["calm_n"] = b.calm_n
print(json.dumps(out))
""")
    assert r["walk"][-1] == 2 and 1 not in r["walk"]
    assert 1 not in r["cool"] and r["cool"][-1] in (5, 6)
    assert r["rec"] is False and r["after"][-1] == 1  # 600 s after the HR stopped falling
    assert r["calm_n"] <= 60  # nothing learnt from the walk, the cool-down or the threat


def test_hr_decaying_after_a_rise_is_recovery_without_an_accelerometer(interp):
    r = interp(HEAD + """
feed(60, 6400, 380)
up = feed(24, 11000, 90)          # exercise-level HR without motion data: drive (activity)
down = []
hr = 11000
for _ in range(120):              # a cool-down: HR decays ~5 bpm/min, then plateaus at +14
    hr = hr - 40 if hr > 7800 else hr
    down += feed(1, hr, 100)
stress = feed(30, 9800, 90)       # a new rise of 20 bpm from the recovery's floor: threat
print(json.dumps([up, down, stress]))
""")
    up, down, stress = r
    assert up[-1] == 2 and 1 not in up
    assert 1 not in down
    assert stress[-1] == 1


def test_mild_low_hrv_does_not_poison_the_baseline(interp):
    r = interp(HEAD + """
feed(120, 6400, 380)
q = [list(b.hr_q), list(b.ln_q), b.calm_n]
mild = feed(120, 7000, 90)        # 10 min of HR +6 with RMSSD 9 ms
q2 = [list(b.hr_q), list(b.ln_q), b.calm_n]
feed(24, 6400, 380)
stress = feed(30, 9600, 90)
print(json.dumps([q, q2, mild, stress]))
""")
    q, q2, mild, stress = r
    assert q == q2  # nothing learnt from it
    assert 1 not in mild[:12] and 3 not in mild and 2 not in mild
    assert stress[-1] == 1


def test_resting_85_never_drive_and_learns_its_own_baseline(interp):
    r = interp(HEAD + """
seq = feed(240, 8500, 300)
print(json.dumps([seq, list(b.hr_q), b.calm_n]))
""")
    seq, hr_q, calm_n = r
    assert seq[0] == 6 and set(seq) == {6}  # learning from the first step, never drive
    assert abs(hr_q[1] - 8500) <= 200 and calm_n == 240


def test_rmssd_sampling_noise_does_not_flip_the_state(interp):
    # 8 h of calm 60 s windows with RMSSD CV 10 % (log-normal), HR +-1.5 bpm, on a learnt baseline.
    r = interp(HEAD + """
s.values["baseline_learn_min"] = 10
x = 12345
def rnd():
    global x
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return (x & 0xFFFF) / 65536.0
import math
def noisy():
    g = (rnd() + rnd() + rnd() + rnd() - 2.0) * 1.732
    h = (rnd() + rnd() + rnd() + rnd() - 2.0) * 1.732
    return int(6400 + 150 * h), int(380 * math.exp(0.1 * g))
seq = []
for _ in range(8 * 720):
    hr, rm = noisy()
    seq += feed(1, hr, rm)
print(json.dumps([seq.count(1), seq.count(2), seq.count(3), sum(1 for a, c in zip(seq[200:], seq[201:]) if a != c)]))
""", timeout=300)
    threat, drive, soothe, changes = r
    assert threat == 0 and drive == 0 and soothe == 0 and changes == 0


def test_baseline_survives_on_flash_and_damage_gives_priors(interp, tmp_path):
    path = interp.tmpdir(tmp_path) + "/baseline.json"
    r = interp("""
import json
from soothe_fw.feedback import state
b = state.Baseline(%r)
prior = list(b.hr_q)
for _ in range(500):
    b.learn(5200, 400)
b.save()
c = state.Baseline(%r).load()
with open(%r, "w") as f:
    f.write('{"hr_hist": [1, 2')
d = state.Baseline(%r).load()
print(json.dumps([prior, list(c.hr_q), c.calm_n, list(d.hr_q), d.calm_n]))
""" % (path, path, path, path))
    prior, learnt, n, damaged, n2 = r
    assert 6500 <= prior[1] <= 7100 and prior[2] - prior[0] > 2500
    assert abs(learnt[1] - 5250) <= 100 and n == 500
    assert damaged == prior and n2 == 0


def test_local_hour_follows_the_daylight_saving_change(interp):
    r = interp("""
import json
from soothe_fw.log import settings
from soothe_fw.feedback import coach
s = settings.Settings()
s.values["utc_offset_min"] = 60
s.values["dst_next_s"] = 1774746000     # 2026-03-29 01:00 UTC: Berlin goes to +120
s.values["dst_offset_min"] = 120
print(json.dumps([coach.local_hour(s, 1774746000 - 1), coach.local_hour(s, 1774746000),
                  coach.local_hour(s, 1767654000)]))
""")
    assert r == [1, 3, 0]


def test_finder_keeps_the_rate_when_the_peak_is_not_clear(interp):
    r = interp("""
import json
from soothe_fw.feedback import coach
print(json.dumps([coach.finder_pick([500, 900, 1500, 880, 480]),   # clear peak at 5.5
                  coach.finder_pick([600, 640, 620, 610, 650]),    # flat: keep
                  coach.finder_pick([400, 1000, 980, 500, 420]),   # between two rates: the higher
                  coach.finder_pick([900, 700, 1000, 650, 850]),   # noisy: keep
                  coach.finder_pick([0, 0, 0, 0, 0])]))
""")
    assert r == [2, -1, 1, -1, -1]
