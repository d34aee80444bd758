"""Coherence by radix-2 FFT: the same figures as the 26-bin DFT it replaced (within 1 %)
and as numpy's float FFT of the same resampled, detrended, Hann-windowed series."""
import pytest


def _numpy_ratio(grid):
    """Coherence of the firmware's own windowed grid with a float FFT (same bins, same peak rule)."""
    import numpy as np

    spec = np.fft.rfft(np.array(grid, dtype=float))
    power = np.abs(spec[:27]) ** 2
    total = power[1:26].sum()
    pk = 3 + int(np.argmax(power[3:17]))
    peak = power[pk] + 0.46 * (power[pk - 1] + power[pk + 1])
    return peak / (total - peak)


def test_fft_coherence_matches_the_dft_and_numpy(interp):
    rows = interp.script("coherence_cases.py")
    assert len(rows) == 40
    compared = 0
    for ok_new, ok_old, coh_new, coh_old, res_new, res_old, grid in rows:
        assert ok_new == ok_old
        if not ok_new:
            continue
        compared += 1
        assert coh_new == pytest.approx(coh_old, rel=0.01, abs=1), (coh_new, coh_old)
        assert res_new == pytest.approx(res_old, rel=0.01, abs=1), (res_new, res_old)
        if not any(grid):
            assert coh_new == coh_old == 0  # a flat series: no power anywhere
            continue
        ratio = _numpy_ratio(grid)
        if ratio < 100:  # the firmware caps the ratio at 100.00
            assert coh_new / 100 == pytest.approx(ratio, rel=0.01, abs=0.01), (coh_new, ratio)
    assert compared >= 35
