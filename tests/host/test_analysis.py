"""Host HRV analysis: hand-computed values on small series, NeuroKit2 on the same RR."""
import warnings

import numpy as np
import pytest

from soothe import analysis

nk = pytest.importorskip("neurokit2")


def _series(seed, n=420, lf=40.0, hf=25.0, noise=8.0):
    """RR (ms) with known sinusoids at 0.1 Hz and 0.25 Hz plus noise; beat times t (ms)."""
    rng = np.random.default_rng(seed)
    rr, t = [], 0.0
    for _ in range(n):
        x = 900 + lf * np.sin(2 * np.pi * 0.1 * t / 1000) + hf * np.sin(2 * np.pi * 0.25 * t / 1000 + 1)
        x += rng.normal(0, noise)
        rr.append(x)
        t += x
    rr = np.round(np.array(rr))
    return np.cumsum(rr), rr


def _nk(fn, rr):
    peaks = np.concatenate([[0], np.cumsum(rr).astype(int)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(peaks, sampling_rate=1000).iloc[0]


def test_hand_computed_small_series():
    rr = [800, 810, 790, 850, 800]
    td = analysis.time_domain_runs([(np.cumsum(rr), np.array(rr, float))])
    # diffs 10, -20, 60, -50: RMSSD = sqrt((100+400+3600+2500)/4) = 40.62; pNN50 = 1/4 (60 only; 50 is not > 50)
    assert td["rmssd_ms"] == pytest.approx(40.620, abs=1e-3)
    assert td["pnn50"] == 25.0
    assert td["sdnn_ms"] == pytest.approx(np.std(rr, ddof=1))
    assert td["hr_bpm"] == pytest.approx(60000 / 810)
    pc = analysis.poincare(rr)
    # SD1 = std(diff)/sqrt(2) (sample std), SD2 from the sums
    assert pc["sd1_ms"] == pytest.approx(np.std(np.diff(rr), ddof=1) / np.sqrt(2))


def test_artefacts_break_runs_and_never_make_a_difference():
    t = [0, 800, 1600, 1900, 2700, 3500]
    rr = [800, 800, 800, 300, 800, 800]
    flags = [0, 0, 0, 1, 0, 0]
    runs = analysis.clean_runs(t, rr, flags)
    assert [list(r) for _, r in runs] == [[800, 800, 800], [800, 800]]
    assert analysis.time_domain_runs(runs)["rmssd_ms"] == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_time_domain_and_poincare_match_neurokit2(seed):
    t, rr = _series(seed)
    ours = analysis.time_domain_runs([(t, rr)])
    pc = analysis.poincare(rr)
    theirs = _nk(nk.hrv_time, rr)
    assert ours["rmssd_ms"] == pytest.approx(theirs["HRV_RMSSD"], rel=1e-6)
    assert ours["sdnn_ms"] == pytest.approx(theirs["HRV_SDNN"], rel=1e-6)
    # pNN50: we divide NN50 by the number of differences, NeuroKit2 by the number of
    # intervals; the NN50 count itself must agree.
    assert round(ours["pnn50"] * (rr.size - 1) / 100) == round(theirs["HRV_pNN50"] * rr.size / 100)
    assert ours["mean_nn_ms"] == pytest.approx(theirs["HRV_MeanNN"], rel=1e-6)
    nl = _nk(nk.hrv_nonlinear, rr)
    assert pc["sd1_ms"] == pytest.approx(nl["HRV_SD1"], rel=1e-6)
    assert pc["sd2_ms"] == pytest.approx(nl["HRV_SD2"], rel=1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_frequency_domain_matches_truth_and_neurokit2(seed):
    t, rr = _series(seed)
    fd = analysis.frequency_domain(t, rr)
    # Known sinusoids: LF power = 40^2/2 = 800 ms^2, HF = 25^2/2 = 312.5 ms^2 (plus a little noise).
    assert fd["lf_ms2"] == pytest.approx(800, rel=0.12)
    assert fd["hf_ms2"] == pytest.approx(312.5, rel=0.15)
    theirs = _nk(nk.hrv_frequency, rr)
    # NeuroKit2 scales absolute powers by its own interpolation rate, so compare the
    # scale-free figures: LF/HF within 25 %, normalised LF within 6 points.
    assert fd["lf_hf"] == pytest.approx(theirs["HRV_LFHF"], rel=0.25)
    nk_lfn = 100 * theirs["HRV_LF"] / (theirs["HRV_LF"] + theirs["HRV_HF"])
    assert abs(fd["lf_nu"] - nk_lfn) < 6


def test_windows_mark_artefact_heavy_stretches_invalid():
    t, rr = _series(4, n=700)
    flags = np.zeros(rr.size, int)
    flags[400:440] = 2  # 40 flagged beats inside the second 5 min window
    w = analysis.windows(t, rr, flags)
    assert w[0]["valid"] and not w[1]["valid"]
    assert w[0]["rmssd_ms"] > 0 and "lf_hf" in w[0]
