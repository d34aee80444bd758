"""Test script (CPython, MicroPython 64 and 32 bit): 40 synthetic RR series (rhythm amplitude,
frequency, noise, mean RR and artefacts varied by seed) into the firmware's RollingHRV (FFT)
and the reference DFT it replaced (hrv_dft.py); prints JSON rows of both figures and the
windowed grid.  tests/firmware/test_coherence_fft.py compares them, and with numpy."""
import json
import math

from hrv_dft import RollingHRVDFT
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
