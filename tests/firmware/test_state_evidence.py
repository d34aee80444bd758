"""Issue 14's state logic with explicit values, under CPython and MicroPython alike.

Movement is activity (drive, never threat) and starts a recovery in which a cool-down's
high HR and low HRV are not threat; HR decaying after a rise is recovery without an
accelerometer; the baseline learns only from calm windows; priors keep a wearer resting
at 85 bpm out of drive; local time follows the daylight-saving change; the finder keeps
its rate when the peak is not clear.
"""

# The MicroPython-side code: tests/firmware/mp/state_evidence_cases.py (one function a case).
CASES = "state_evidence_cases.py"


def test_movement_is_drive_and_its_cool_down_is_never_threat(interp):
    r = interp.case(CASES, "movement_cool_down")
    assert r["walk"][-1] == 2 and 1 not in r["walk"]
    assert 1 not in r["cool"] and r["cool"][-1] in (5, 6)
    assert r["rec"] is False and r["after"][-1] == 1  # 600 s after the HR stopped falling
    assert r["calm_n"] <= 60  # nothing learnt from the walk, the cool-down or the threat


def test_hr_decaying_after_a_rise_is_recovery_without_an_accelerometer(interp):
    r = interp.case(CASES, "hr_decay_recovery")
    up, down, stress = r
    assert up[-1] == 2 and 1 not in up
    assert 1 not in down
    assert stress[-1] == 1


def test_mild_low_hrv_does_not_poison_the_baseline(interp):
    r = interp.case(CASES, "mild_low_hrv")
    q, q2, mild, stress = r
    assert q == q2  # nothing learnt from it
    assert 1 not in mild[:12] and 3 not in mild and 2 not in mild
    assert stress[-1] == 1


def test_resting_85_never_drive_and_learns_its_own_baseline(interp):
    r = interp.case(CASES, "resting_85")
    seq, hr_q, calm_n = r
    assert seq[0] == 6 and set(seq) == {6}  # learning from the first step, never drive
    assert abs(hr_q[1] - 8500) <= 200 and calm_n == 240


def test_rmssd_sampling_noise_does_not_flip_the_state(interp):
    # 8 h of calm 60 s windows with RMSSD CV 10 % (log-normal), HR +-1.5 bpm, on a learnt baseline.
    r = interp.case(CASES, "rmssd_noise", timeout=300)
    threat, drive, soothe, changes = r
    assert threat == 0 and drive == 0 and soothe == 0 and changes == 0


def test_baseline_survives_on_flash_and_damage_gives_priors(interp, tmp_path):
    path = interp.tmpdir(tmp_path) + "/baseline.json"
    r = interp.case(CASES, "baseline_on_flash", path)
    prior, learnt, n, damaged, n2 = r
    assert 6500 <= prior[1] <= 7100 and prior[2] - prior[0] > 2500
    assert abs(learnt[1] - 5250) <= 100 and n == 500
    assert damaged == prior and n2 == 0


def test_local_hour_follows_the_daylight_saving_change(interp):
    r = interp.case(CASES, "daylight_saving")
    assert r == [1, 3, 0]


def test_finder_keeps_the_rate_when_the_peak_is_not_clear(interp):
    r = interp.case(CASES, "finder_pick")
    assert r == [2, -1, 1, -1, -1]
