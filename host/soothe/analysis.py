"""HRV analysis on the host (numpy): time domain, and coherence the same way as the device.

Input: RR intervals in ms (and their beat times), already cleaned of flagged beats.
Output: plain floats.  The device computes these in integers (firmware/soothe_fw/sense/hrv.py);
these float versions are the reference its tests and `soothe bench` compare against.
"""
import numpy as np

COH_POINTS = 128  # 64 s at 2 Hz
COH_STEP_MS = 500


def rmssd_ms(diffs_ms):
    """Root mean square of successive RR differences (only differences between clean beats)."""
    d = np.asarray(diffs_ms, dtype=float)
    return float(np.sqrt(np.mean(d * d))) if d.size else float("nan")


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


# ---- full analysis on the host (issue 6) ----------------------------------------------
LF_BAND = (0.04, 0.15)
HF_BAND = (0.15, 0.40)
TOTAL_BAND = (0.0033, 0.40)
RESAMPLE_HZ = 4.0
WELCH_SEG_S = 256
MAX_ARTEFACT_FRACTION = 0.05  # a window with more flagged beats than this is invalid
_OK = 0


def clean_runs(t_ms, rr_ms, flags, max_gap_ms=5000):
    """Splits beats into runs of consecutive clean beats: [(t array, rr array)].

    A run ends at a flagged beat or a stretch with no beat; successive differences
    are only ever taken inside a run, so an artefact never makes an RMSSD."""
    runs, cur_t, cur_rr = [], [], []
    prev_t = None
    for t, rr, f in zip(t_ms, rr_ms, flags):
        broken = f != _OK or (prev_t is not None and t - prev_t > max(max_gap_ms, 2.5 * rr))
        if broken:
            if len(cur_rr) >= 2:
                runs.append((np.array(cur_t, float), np.array(cur_rr, float)))
            cur_t, cur_rr = [], []
        if f == _OK:
            cur_t.append(t)
            cur_rr.append(rr)
        prev_t = t
    if len(cur_rr) >= 2:
        runs.append((np.array(cur_t, float), np.array(cur_rr, float)))
    return runs


def time_domain_runs(runs):
    """Mean HR, mean NN, SDNN, RMSSD (ms) and pNN50 (%) over clean runs [(t, rr)]:
    RR pooled, successive differences only within a run."""
    if not runs:
        return None
    rr = np.concatenate([r for _, r in runs])
    d = np.concatenate([np.diff(r) for _, r in runs])
    if rr.size < 2 or d.size < 1:
        return None
    return {"hr_bpm": 60000.0 / rr.mean(), "mean_nn_ms": float(rr.mean()), "sdnn_ms": float(rr.std(ddof=1)),
            "rmssd_ms": rmssd_ms(d), "pnn50": float(100.0 * np.mean(np.abs(d) > 50)), "beats": int(rr.size)}


def poincare(rr_ms):
    """SD1, SD2 (ms) of consecutive clean RR: spread across and along the identity line."""
    return poincare_runs([(None, np.asarray(rr_ms, float))])


def poincare_runs(runs):
    """poincare over clean runs [(t, rr)]: successive pairs only within a run."""
    pairs = [r for _, r in runs if r.size >= 3]
    if not pairs:
        return None
    x = np.concatenate([r[:-1] for r in pairs])
    y = np.concatenate([r[1:] for r in pairs])
    sd1 = np.std((y - x) / np.sqrt(2), ddof=1)
    sd2 = np.std((y + x) / np.sqrt(2), ddof=1)
    return {"sd1_ms": float(sd1), "sd2_ms": float(sd2), "sd1_sd2": float(sd1 / sd2) if sd2 > 0 else float("nan")}


def _hermite(g, t, y):
    """Cubic Hermite interpolation with finite-difference slopes (numpy only).

    Linear interpolation of RR damps the HF band by ~15 % at 0.25 Hz; this does not."""
    i = np.clip(np.searchsorted(t, g) - 1, 0, len(t) - 2)
    t0, t1, y0, y1 = t[i], t[i + 1], y[i], y[i + 1]
    m = np.gradient(y, t)
    h = t1 - t0
    s = (g - t0) / h
    s2, s3 = s * s, s * s * s
    return ((2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * h * m[i] + (-2 * s3 + 3 * s2) * y1
            + (s3 - s2) * h * m[i + 1])


def welch_psd(t_ms, rr_ms, fs=RESAMPLE_HZ, seg_s=WELCH_SEG_S):
    """(freqs Hz, PSD ms^2/Hz): RR resampled at 4 Hz (cubic Hermite), Welch with Hann
    segments of 256 s (or the whole series if shorter), 50 % overlap, mean removed."""
    t = np.asarray(t_ms, float) / 1000.0
    rr = np.asarray(rr_ms, float)
    g = np.arange(t[0], t[-1], 1.0 / fs)
    y = _hermite(g, t, rr)
    n = y.size
    nper = min(int(seg_s * fs), n)
    step = max(1, nper // 2)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(nper) / nper)
    scale = 1.0 / (fs * float((w * w).sum()))
    acc = np.zeros(nper // 2 + 1)
    k = 0
    for s in range(0, n - nper + 1, step):
        seg = y[s : s + nper] - y[s : s + nper].mean()
        p = np.abs(np.fft.rfft(seg * w)) ** 2 * scale
        p[1:] *= 2  # one-sided
        if nper % 2 == 0:
            p[-1] /= 2
        acc += p
        k += 1
    return np.fft.rfftfreq(nper, 1.0 / fs), acc / max(k, 1)


def frequency_domain(t_ms, rr_ms):
    """LF, HF, total power (ms^2), LF/HF and normalised units, from one clean run >= 2 min."""
    t = np.asarray(t_ms, float)
    if t.size < 3 or t[-1] - t[0] < 120000:
        return None
    f, p = welch_psd(t_ms, rr_ms)
    df = f[1] - f[0]

    def band(lo, hi):
        return float(p[(f >= lo) & (f < hi)].sum() * df)

    lf, hf, total = band(*LF_BAND), band(*HF_BAND), band(*TOTAL_BAND)
    return {"lf_ms2": lf, "hf_ms2": hf, "total_ms2": total, "lf_hf": lf / hf if hf > 0 else float("nan"),
            "lf_nu": 100 * lf / (lf + hf) if lf + hf > 0 else float("nan"),
            "hf_nu": 100 * hf / (lf + hf) if lf + hf > 0 else float("nan")}


def windows(t_ms, rr_ms, flags, span_ms=300000):
    """5 min windows over a stretch of beats: each valid (artefacts <= 5 %) window gets
    its time and frequency domain figures and coherence; the rest are marked invalid."""
    t = np.asarray(t_ms, float)
    rr = np.asarray(rr_ms, float)
    fl = np.asarray(flags)
    out = []
    if t.size == 0:
        return out
    start = t[0]
    while start < t[-1]:
        sel = (t >= start) & (t < start + span_ms)
        n = int(sel.sum())
        bad = int((fl[sel] != _OK).sum())
        w = {"t_ms": float(start), "beats": n, "artefacts": bad, "valid": False}
        if n >= 60 and bad <= MAX_ARTEFACT_FRACTION * n:
            runs = clean_runs(t[sel], rr[sel], fl[sel])
            td = time_domain_runs(runs)
            longest = max(runs, key=lambda r: r[0].size) if runs else None
            fd = frequency_domain(*longest) if longest is not None else None
            coh = coherence(t[sel][fl[sel] == _OK], rr[sel][fl[sel] == _OK], start + span_ms)
            if td:
                w.update(td)
                w["valid"] = True
                if fd:
                    w.update(fd)
                if coh:
                    w["coherence"], w["resonance_hz"] = coh
        out.append(w)
        start += span_ms
    return out
