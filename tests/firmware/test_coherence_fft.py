"""Coherence by radix-2 FFT: the same figures as the 26-bin DFT it replaced (within 1 %)
and as numpy's float FFT of the same resampled, detrended, Hann-windowed series."""
import pytest

from conftest import ROOT

REFERENCE = (ROOT / "tests" / "reference" / "hrv_dft.py").read_text()

CASES = """
import json, math
from soothe_fw.sense import hrv
def series(h, seed, amp, f_hz, noise, base, n=150):
    x = seed
    t = 0
    for k in range(n):
        x = (x * 1103515245 + 12345) % 2147483648
        r = int(base + amp * math.sin(2 * math.pi * f_hz * t / 1000.0) + noise * ((x >> 8) % 200 - 100) / 100)
        if k % 37 == 11 and noise > 20:
            r += 250  # an artefact left in: the spectrum gets broadband power
        t += r
        h.add_beat(t, r, k % 53 != 7)
    return t + 300
out = []
for seed in range(1, 41):
    x = seed * 7919
    amp = (0, 3, 10, 30, 60, 120, 200)[seed % 7]
    f_hz = 0.045 + 0.005 * (seed % 43)
    noise = (0, 5, 20, 60)[seed % 4]
    base = (600, 800, 950, 1200)[(seed // 4) % 4]
    new = hrv.RollingHRV()
    old = RollingHRVDFT()
    now = series(new, seed, amp, f_hz, noise, base)
    series(old, seed, amp, f_hz, noise, base)
    ok_new = new.coherence(now)
    ok_old = old.coherence(now)
    grid = list(old._grid)  # detrended, Hann-windowed series in 1/16 ms
    out.append([ok_new, ok_old, new.coherence_x100, old.coherence_x100, new.resonance_mhz,
                old.resonance_mhz, grid])
print(json.dumps(out))
"""


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
    rows = interp(REFERENCE + CASES)
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
