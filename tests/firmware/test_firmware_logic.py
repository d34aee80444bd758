"""Pure firmware logic, run unchanged under CPython and the MicroPython unix port."""
import pytest

# The MicroPython-side code: tests/firmware/mp/firmware_logic_cases.py (one function a case).
CASES = "firmware_logic_cases.py"


def _match(truth, det, skip_s=5.0, tol_s=0.05):
    """Pairs detections with true beats after a constant fiducial offset (median)."""
    later = [t for t in truth if t > skip_s]
    offsets = sorted(d[0] - min(later, key=lambda x: abs(x - d[0])) for d in det if d[0] > skip_s)
    off = offsets[len(offsets) // 2]
    matched = {}
    for t, rr, flag in det:
        if t <= skip_s:
            continue
        j = min(range(len(truth)), key=lambda k: abs(truth[k] + off - t))
        if abs(truth[j] + off - t) < tol_s:
            matched[j] = (t, rr, flag)
    return later, matched


@pytest.mark.parametrize("plan,fs,inverted", [
    ("rest:90s", 100, False),
    ("rest:90s", 100, True),
    ("stress:60s", 50, False),
    ("rest=190:45s", 200, False),
    ("rest=35:90s", 100, False),
])
def test_beats_found_with_subsample_timing(interp, plan, fs, inverted):
    truth, det, _ = interp.case(CASES, "run", plan, fs, inverted)
    later, matched = _match(truth, det)
    assert len(matched) >= len(later) - 1, "missed beats"
    kept = [list(m) for m in matched.values()]
    extra = [d for d in det if d[0] > 5.0 and list(d) not in kept]
    assert len(extra) <= 1, "false beats: %r" % extra[:3]
    errors = []
    for j, (t, rr, flag) in matched.items():
        if j - 1 in matched:
            true_rr_ms = (truth[j] - truth[j - 1]) * 1000
            errors.append(abs(rr / 1000 - true_rr_ms))
            assert flag == 0
    errors.sort()
    # Far below the 1000/fs ms sample grid: the parabola refines the max-slope point.
    assert errors[len(errors) // 2] < 0.25 * 1000 / fs
    assert errors[-1] < 1000 / fs


def test_no_contact_detected_within_3s(interp):
    truth, det, contact = interp.case(CASES, "run", "rest:40s,nocontact:20s,rest:30s")
    by_ms = dict(contact)
    assert by_ms[39750] is True
    lost_at = min(t for t, c in contact if t > 40000 and not c)
    assert lost_at - 40000 <= 3000
    assert all(not c for t, c in contact if 43000 <= t < 60000)
    assert any(c for t, c in contact if t > 75000), "contact must come back"
    # Nothing detected in the flat stretch is called a good beat.
    assert not [d for d in det if 41.0 < d[0] < 60.0 and d[2] == 0]


def test_beats_come_back_after_a_flat_stretch_and_a_weaker_pulse(interp):
    """The sensor reads a flat line at its DC level for 4 s (the level learnt from
    those windows is 0), then the pulse returns at a quarter of its old size with no
    step that would flip the polarity and relearn.  The detector once stayed stuck
    calling every upstroke "odd amplitude" (HeartPy's data2.csv did this)."""
    ok, truth = interp.case(CASES, "flat_then_weak")
    late_truth = [t for t in truth if t > 45]
    late_ok = [t for t in ok if t > 45]
    assert len(late_ok) >= 0.9 * len(late_truth), (len(late_ok), len(late_truth))
    assert not [t for t in ok if 31 < t < 34], "no good beat on the flat line"


def test_steeper_upstroke_replaces_a_motion_spike_just_before_it(interp):
    """A motion spike 120 ms before every 4th pulse crosses the threshold first.  The
    detector waits a quarter RR for a steeper upstroke, so the pulse is the beat and
    the spike is dropped (taking the first crossing missed all 12 of them)."""
    truth, spiked, det = interp.case(CASES, "motion_spike")
    times = [t for t, _ in det]
    off = sorted(x - min(truth, key=lambda t: abs(t - x)) for x in times)[len(times) // 2]
    found = [t for t in spiked if min(abs(x - t - off) for x in times) < 0.03]
    assert len(found) == len(spiked) == 12
    later = [t for t in truth if t > 5]
    assert len([x for x in times if x > 5]) <= len(later) + 1, "a spike was kept as a beat"


def test_a_steep_fall_after_the_peak_does_not_flip_the_polarity(interp):
    """A 250 ms rise then a 80 ms fall to a deep notch (as in HeartPy's data3.csv): the
    fall is the steepest edge, but the wave's top is its sharp end, so it is upright
    and beats are timed on the rise.  Comparing the steepest edges took it for inverted."""
    polarity, lags = interp.case(CASES, "steep_fall")
    assert polarity == 1
    assert len(lags) >= 60
    assert max(lags) < 0.15, "timed on the fall, not the rise"
    assert max(lags) - min(lags) < 0.005


# The RR classification rules are tested by feeding RR values: tests/firmware/test_rhythm.py.


def test_hrv_metrics_match_hand_computed(interp):
    beats, hr, rmssd, sdnn, pnn50 = interp.case(CASES, "hrv_metrics")
    # diffs: 10, -20, 60, -70, 20 -> mean square (100+400+3600+4900+400)/5 = 1880
    assert beats == 6
    assert hr == round(6000000 * 6 / 4830)  # 74.53 bpm
    assert rmssd == 433  # sqrt(1880) = 43.36 ms
    # mean 805; deviations -5,5,-15,45,-25,-5 -> 2950/5 = 590 -> 24.29 ms
    assert sdnn == 242
    assert pnn50 == 400  # 2 of 5 differences above 50 ms


@pytest.mark.parametrize("plan", ["rest=60:60s", "rest=110:60s"])
def test_strong_diastolic_wave_is_not_a_beat(interp, plan):
    """A diastolic wave with about half the systolic upstroke (as in HeartPy's data.csv)
    once doubled the beat count; it must be rejected from the first beats on."""
    truth, det, _ = interp.case(CASES, "run", plan, 100, False, 1, 0.95)
    later, matched = _match(truth, det)
    assert len(matched) >= len(later) - 1
    assert len([d for d in det if d[0] > 5.0]) <= len(later) + 1
    # det[0], the first interval, has nothing to agree with yet and is never trusted.
    assert not [d for d in det[1:] if d[0] > 3.0 and d[2] != 0]


def test_fast_hr_rise_is_followed_not_flagged_as_extra_beats(interp):
    """HR doubling within seconds (exercise): the run of short intervals is a new rhythm."""
    truth, det, _ = interp.case(CASES, "run", "rest:40s,rest=135:40s", 100)
    late_truth = [t for t in truth if t > 60]
    late_ok = [d for d in det if d[0] > 60 and d[2] == 0]
    assert len(late_ok) >= 0.9 * len(late_truth), (len(late_ok), len(late_truth))


def test_coherence_finds_breathing_peak(interp):
    (ok, coh, res_mhz), (ok2, coh_noise, _) = interp.case(CASES, "coherence_peak")
    assert ok and ok2
    assert abs(res_mhz - 100) <= 8  # 0.1 Hz = 6 breaths/min
    # A breathing rhythm concentrates power around its peak; white RR noise does not.
    assert coh > 200
    assert coh_noise < 100


def test_wire_frames_roundtrip_and_reject_corruption(interp):
    ok, nozero, caught, op, nframes = interp.case(CASES, "wire_frames")
    assert all(ok) and all(nozero)
    assert caught
    assert op == 0x03
    assert nframes == 3  # junk, the first frame, then the second with leading junk (rejected later by CRC)


def test_minute_record_roundtrip(interp):
    nrec, seq, n, hr, rmssd, state, beats, still_ok = interp.case(CASES, "minute_record")
    assert nrec == 1 and seq == 42
    assert hr == 74.12 and rmssd == 43.3 and state == "unclassified"
    assert [b[1] for b in beats] == [812, 790, 300, 800, 1650, 805]
    assert [b[2] for b in beats] == [0, 0, 1, 0, 2, 0]
    # Beat times: the extra beat's interval is merged into the next one.
    assert [b[0] for b in beats] == [40, 830, 1130, 1630, 3280, 4085]
    assert not still_ok
    assert n < 50  # big jumps take the 16-bit escape; still a few bytes


def test_minute_rr_coding_roundtrips_and_adapts(interp):
    # Three minutes: calm (small deltas), high HRV, then wild artefacts and extremes;
    # every RR must come back exactly, and a calm minute must cost <= 1 byte a beat.
    (k0, n0, ok0), (k1, n1, ok1), (k2, n2, ok2) = interp.case(CASES, "minute_rr_coding")
    assert ok0 and ok1 and ok2
    assert n0 <= 20 + 2 + 75 + 1  # head + first RR + under a byte a beat + nflags
    assert k1 < k2  # the high-HRV minute raised k for the next one


def test_settings_reject_out_of_range_and_keep_old(interp):
    value, msgs = interp.case(CASES, "settings_range")
    assert value == 50
    assert msgs[0] == "flush_s=5 is out of range: use 30..60"
    assert "must be a number" in msgs[1]
    assert msgs[2].startswith("unknown setting 'nope'")


def test_csv_errors_name_the_line(interp):
    bad, empty = interp.case(CASES, "csv_errors")
    assert bad == "/tmp/soothe-bad.csv line 4: 'abc' is not a number"
    assert "is empty" in empty


def test_coherence_matches_float_reference(interp):
    """The device's integer coherence equals the host's numpy version of the same definition."""
    from soothe.analysis import coherence

    for ts, rrs, now, coh_x100, res_mhz in interp.case(CASES, "coherence_cases"):
        ratio, f_hz = coherence(ts, rrs, now)
        assert coh_x100 / 100 == pytest.approx(ratio, rel=0.03, abs=0.02), (ratio, coh_x100)
        assert res_mhz / 1000 == pytest.approx(f_hz, abs=0.002)
