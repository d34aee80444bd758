"""HRV analysis on the host (numpy): time domain, and coherence the same way as the device.

Input: RR intervals in ms (and their beat times), already cleaned of flagged beats.
Output: plain floats.  The device computes these in integers (firmware/hrv.py);
these float versions are the reference its tests and `soothe bench` compare against.
"""
import numpy as np

COH_POINTS = 128  # 64 s at 2 Hz
COH_STEP_MS = 500


def rmssd_ms(diffs_ms):
    """Root mean square of successive RR differences (only differences between clean beats)."""
    d = np.asarray(diffs_ms, dtype=float)
    return float(np.sqrt(np.mean(d * d))) if d.size else float("nan")


def time_domain(rr_ms):
    """Mean HR (bpm), SDNN, RMSSD (ms) and pNN50 (%) of consecutive clean RR intervals."""
    rr = np.asarray(rr_ms, dtype=float)
    if rr.size < 2:
        return None
    d = np.diff(rr)
    return {
        "hr_bpm": 60000.0 / rr.mean(),
        "sdnn_ms": float(rr.std(ddof=1)),
        "rmssd_ms": rmssd_ms(d),
        "pnn50": float(100.0 * np.mean(np.abs(d) > 50)) if d.size else float("nan"),
    }


def coherence(t_ms, rr_ms, now_ms):
    """(coherence ratio, peak frequency Hz) over the last 64 s of RR resampled at 2 Hz.

    The grid ends at now_ms; linear interpolation between beats, flat outside them.
    Linear detrend, periodic Hann window, DFT bins of 1/64 Hz.  Peak = the highest
    bin in 0.04-0.26 Hz plus 0.46 of each neighbour (a 0.030 Hz window), total =
    bins up to 0.39 Hz, ratio = peak / (total - peak).  Returns None without enough beats.
    """
    t = np.asarray(t_ms, dtype=float)
    rr = np.asarray(rr_ms, dtype=float)
    keep = t >= now_ms - COH_STEP_MS * (COH_POINTS - 1) - 2000
    if keep.sum() < 16:
        return None
    grid_t = now_ms - COH_STEP_MS * np.arange(COH_POINTS - 1, -1, -1)
    y = np.interp(grid_t, t[keep], rr[keep])
    k = np.arange(COH_POINTS)
    y = y - np.polyval(np.polyfit(k, y, 1), k)
    y = y * (0.5 - 0.5 * np.cos(2 * np.pi * k / COH_POINTS))
    spec = np.fft.rfft(y)
    power = np.abs(spec) ** 2
    pk = 3 + int(np.argmax(power[3:17]))
    peak = power[pk] + 0.46 * (power[pk - 1] + power[pk + 1])
    total = power[1:26].sum()
    rest = total - peak
    ratio = peak / rest if rest > 0 else float("inf")
    left, top, right = power[pk - 1], power[pk], power[pk + 1]
    den = left - 2 * top + right
    off = 0.5 * (left - right) / den if den < 0 else 0.0
    return float(ratio), float((pk + off) / 64.0)
