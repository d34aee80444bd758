"""Coherence by radix-2 FFT: the same figures as the 26-bin DFT it replaced (within 1 %)
and as numpy's float FFT of the same resampled, detrended, Hann-windowed series; the 60 s
window's figures as a plain computation from the beats gives them.  Both run as viper on the
unix port, as bytecode on the 32-bit port and as plain Python on CPython."""
import math

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
    rows = interp.script("coherence_cases.py")[0]
    assert len(rows) == 48
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
    assert compared >= 42


def _plain_window(beats, now, span):
    """The window's figures by their definitions, from the beats [t_ms, rr_ms, ok] in order:
    beats not older than span and not after now; successive differences of OK pairs
    (clamped to 500 ms); SDNN over OK RR (deviations past 500 ms count as 500)."""
    inside = [b for b in beats if 0 <= now - b[0] <= span]
    rr = [r for _, r, ok in inside if ok]
    diffs = [abs(a[1] - b[1]) for a, b in zip(inside, inside[1:]) if a[2] and b[2]]
    n = len(rr)
    if n < 2:
        return [n, len(inside) - n, 0, 0, 0, 0]
    total = sum(rr)
    mean = total // n
    dev2 = sum(min(abs(r - mean), 500) ** 2 for r in rr)
    d2 = sum(min(d, 500) ** 2 for d in diffs)
    return [n, len(inside) - n, (6000000 * n + total // 2) // total,
            math.isqrt(d2 * 100 // len(diffs)) if diffs else 0, math.isqrt(dev2 * 100 // (n - 1)),
            sum(1 for d in diffs if d > 50) * 1000 // len(diffs) if diffs else 0]


def test_window_matches_a_plain_computation(interp):
    _, windows, beats = interp.script("coherence_cases.py")
    assert len(windows) == 48 * 3
    for k, now, span, *figures in windows:
        assert figures == _plain_window(beats[k], now, span), (k, now, span)
    assert sum(1 for w in windows if w[4] > 0) >= 40  # artefacts inside most windows
