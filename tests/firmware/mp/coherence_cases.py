"""Test script (CPython, MicroPython 64 and 32 bit): 48 synthetic RR series (rhythm amplitude,
frequency, noise, mean RR and artefacts varied by seed) into the firmware's RollingHRV (FFT)
and the reference DFT it replaced (hrv_dft.py); prints JSON rows of both figures and the
windowed grid, and the firmware's window() figures over 3 spans with the beats they came from.
tests/firmware/test_coherence_fft.py compares them, with numpy and with a plain computation."""
import json
import math
import sys

from hrv_dft import RollingHRVDFT
from soothe_fw.sense import hrv


def series(h, seed, amp, f_hz, noise, base, n=150, jump=250, beats=None):
    x = seed
    t = 0
    for k in range(n):
        x = (x * 1103515245 + 12345) % 2147483648
        r = int(base + amp * math.sin(2 * math.pi * f_hz * t / 1000.0) + noise * ((x >> 8) % 200 - 100) / 100)
        if k % 37 == 11 and noise > 20:
            r += jump  # an artefact left in: the spectrum gets broadband power
        t += r
        h.add_beat(t, r, k % 53 != 7)
        if beats is not None:
            beats.append([t, r, 1 if k % 53 != 7 else 0])
    return t + 300


out = []
windows = []
all_beats = []
for seed in range(1, 49):
    x = seed * 7919
    amp = (0, 3, 10, 30, 60, 120, 200)[seed % 7]
    f_hz = 0.045 + 0.005 * (seed % 43)
    noise = (0, 5, 20, 60)[seed % 4]
    base = (600, 800, 950, 1200)[(seed // 4) % 4]
    # Seeds 41..48: artefacts of 0.6-4.5 s left in (a point over 512 ms from the mean, or an
    # RR over 4.1 s: the clamped pass), and the window closed 1.8 s before the newest
    # beats (a minute closed late: beats after now_ms).
    jump = 250 if seed <= 40 else (600, 1500, 3000, 4500)[seed % 4]
    late = 0 if seed <= 40 else 1800 * (seed % 2)
    noise = noise if seed <= 40 else 60
    new = hrv.RollingHRV()
    old = RollingHRVDFT()
    beats = []
    now = series(new, seed, amp, f_hz, noise, base, jump=jump, beats=beats) - late
    series(old, seed, amp, f_hz, noise, base, jump=jump)
    all_beats.append(beats)
    for span in (60000, 300000, 20000):
        n = new.window(now, span)
        windows.append([len(all_beats) - 1, now, span, n, new.artefacts, new.hr_bpm_x100, new.rmssd_ms_x10,
                        new.sdnn_ms_x10, new.pnn50_x10])
    ok_new = new.coherence(now)
    ok_old = old.coherence(now)
    grid = list(old._grid)  # detrended, Hann-windowed series in 1/16 ms
    out.append([ok_new, ok_old, new.coherence_x100, old.coherence_x100, new.resonance_mhz,
                old.resonance_mhz, grid])
# One JSON line, written piece by piece (a single dumps of it is too much for the unix port's heap).
for part in (out, windows, all_beats):
    sys.stdout.write("[[" if part is out else "], [")
    for k, row in enumerate(part):
        sys.stdout.write((", " if k else "") + json.dumps(row))
print("]]")
