"""`soothe bench`: accuracy and cost figures (printed, never asserted).

Sections:
  accuracy  the firmware engine (under MicroPython, via `soothe replay`) against
            NeuroKit2's ppg_process and HeartPy on NeuroKit2's ppg_simulate signals,
            whose beat onsets are rebuilt from the same random stream (ground truth);
            plus agreement on the real recordings HeartPy ships (no reference beats), and
            motion with and without the accelerometer on ppg_synth's movement.
  cost      callgrind instructions per second of 100 Hz signal, bytes allocated per
            sample, peak heap over a simulated 24 h, speed against NeuroKit2 on 1 h; the
            same with the accelerometer path (MotionMeter) included.
  log       flash bytes and erases for a simulated day, sync wire efficiency and time
            at 115200 baud, 100k fuzzed inputs to the device link (bench_log.py).
  state     the state-validity table on simulated days with known segments (bench_state.py).
Needs the `bench` extra (neurokit2, heartpy) and valgrind; `make bench` installs the extra.
"""
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from soothe.analysis import rmssd_ms
from .bench_log import bench_log
from .bench_state import bench_state
from .bench_time import bench_time
from soothe.fw import FIRMWARE_DIR, TOOLS_DIR, compile_firmware, host_arch, image_sources, micropython_binary, micropython_env
from soothe.replay import run_replay

ROOT_DIR = FIRMWARE_DIR.parent

TOL_S = 0.050
SKIP_S = 5.0  # every detector gets the first seconds to settle


# ---- ground truth from NeuroKit2's simulator ----------------------------------------
def simulate(duration, hr, seed, fs=100, sim_fs=1000, **kw):
    """(signal at fs, true beat onsets in s): ppg_simulate at 1 kHz, decimated.

    ppg_simulate does not return its beats, so the onsets are rebuilt with the
    generator's own helpers from the same random stream (the first draws it makes).
    """
    import neurokit2 as nk
    from neurokit2.misc import check_random_state
    import importlib

    mod = importlib.import_module("neurokit2.ppg.ppg_simulate")

    rng = check_random_state(seed)
    period = 60 / hr
    n_period = int(np.floor(duration / period))
    periods = np.ones(n_period) * period
    x_onset = np.cumsum(periods)
    x_onset -= x_onset[0]
    with contextlib.redirect_stdout(io.StringIO()):
        periods, x_onset = mod._frequency_modulation(periods, x_onset, 0.05, kw.get("frequency_modulation", 0.2))
        x_onset = mod._random_x_offset(x_onset, kw.get("ibi_randomness", 0.1), rng)
        sig = nk.ppg_simulate(duration=duration, sampling_rate=sim_fs, heart_rate=hr, random_state=seed,
                              powerline_amplitude=0, **kw)
    onsets = np.ceil(x_onset * sim_fs) / sim_fs  # the generator puts its knots on the sample grid
    step = sim_fs // fs
    return sig[::step], onsets


CASES = [
    # name, hr, kwargs, fs
    ("clean 50 bpm", 50, dict(motion_amplitude=0.0, drift=0.0), 100),
    ("clean 70 bpm", 70, dict(motion_amplitude=0.0, drift=0.0), 100),
    ("clean 100 bpm", 100, dict(motion_amplitude=0.0, drift=0.0), 100),
    ("clean 150 bpm", 150, dict(motion_amplitude=0.0, drift=0.0), 100),
    ("low HRV 70", 70, dict(motion_amplitude=0.0, ibi_randomness=0.02, frequency_modulation=0.05), 100),
    ("high HRV 65", 65, dict(motion_amplitude=0.0, ibi_randomness=0.3, frequency_modulation=0.3), 100),
    ("noise 0.1 + drift", 75, dict(motion_amplitude=0.1, drift=0.5), 100),
    ("noise 0.3", 75, dict(motion_amplitude=0.3, drift=0.5), 100),
    ("motion bursts", 80, dict(motion_amplitude=0.2, burst_number=8, burst_amplitude=1.5), 100),
    ("clean 70 @ 50 Hz", 70, dict(motion_amplitude=0.0), 50),
    ("clean 70 @ 25 Hz", 70, dict(motion_amplitude=0.0), 25),
]


def detect_firmware(sig, fs, workdir):
    path = Path(workdir) / "sig.csv"
    np.savetxt(path, sig, fmt="%.6f")
    out = run_replay(str(path), fs)
    times = np.array([b["t_s"] for b in out["beats"] if b["flag"] != "extra"])
    usable = np.array([b["ok"] for b in out["beats"] if b["flag"] != "extra"], dtype=bool)
    return times, usable


def detect_neurokit(sig, fs, workdir=None):
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = nk.ppg_process(sig, sampling_rate=fs)
    times = np.asarray(info["PPG_Peaks"], dtype=float) / fs
    return times, np.ones(times.size, dtype=bool)


def detect_heartpy(sig, fs, workdir=None):
    import heartpy as hp

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            wd, _ = hp.process(np.asarray(sig, dtype=float), sample_rate=fs, high_precision=True,
                               high_precision_fs=1000.0)
        except Exception:  # HeartPy gives up on some signals: count it as finding nothing
            return np.array([]), np.array([], dtype=bool)
    times = np.asarray(wd["peaklist"], dtype=float) / fs
    usable = np.asarray(wd["binary_peaklist"], dtype=bool)
    return times, usable


DETECTORS = [("soothe", detect_firmware), ("neurokit2", detect_neurokit), ("heartpy", detect_heartpy)]


def score(truth, times, usable, duration, skip_s=SKIP_S):
    """Sensitivity, PPV, F1 (+-50 ms after removing the detector's constant fiducial offset),
    |RR error| median and p95 over intervals whose both ends matched and were usable,
    and RMSSD error % of the usable successive differences against the truth's."""
    truth = truth[(truth > skip_s) & (truth < duration - 2)]
    keep = (times > skip_s - 1) & (times < duration - 1)
    times, usable = times[keep], usable[keep]
    if times.size < 2:
        return dict(sens=0.0, ppv=0.0, f1=0.0, rr_med=float("nan"), rr_p95=float("nan"), rmssd_err=float("nan"))
    near = np.abs(times[None, :] - truth[:, None])
    off = float(np.median(times[np.argmin(near, axis=1)] - truth))
    match = -np.ones(truth.size, dtype=int)
    used = np.zeros(times.size, dtype=bool)
    for j, t in enumerate(truth):
        k = int(np.argmin(np.abs(times - t - off)))
        if abs(times[k] - t - off) <= TOL_S and not used[k]:
            match[j] = k
            used[k] = True
    tp = int((match >= 0).sum())
    in_span = (times > truth[0] - TOL_S + off) & (times < truth[-1] + TOL_S + off)
    sens = tp / truth.size
    ppv = tp / max(1, int(in_span.sum()))
    f1 = 2 * sens * ppv / (sens + ppv) if sens + ppv else 0.0
    err, det_rr = [], []
    for j in range(1, truth.size):
        a, b = match[j - 1], match[j]
        if a >= 0 and b == a + 1 and usable[a] and usable[b]:
            d_rr = (times[b] - times[a]) * 1000
            t_rr = (truth[j] - truth[j - 1]) * 1000
            err.append(abs(d_rr - t_rr))
            det_rr.append(d_rr)
        else:
            det_rr.append(np.nan)  # breaks the successive differences
    dd = np.diff(np.array(det_rr))
    rmssd_det = rmssd_ms(dd[~np.isnan(dd)])
    rmssd_true = rmssd_ms(np.diff(np.diff(truth) * 1000))
    return dict(sens=sens, ppv=ppv, f1=f1,
                rr_med=float(np.median(err)) if err else float("nan"),
                rr_p95=float(np.percentile(err, 95)) if err else float("nan"),
                rmssd_err=100 * (rmssd_det - rmssd_true) / rmssd_true)


def bench_accuracy(out, duration=180, quick=False):
    cases = CASES[:3] + CASES[-3:-2] if quick else CASES
    out.write("Accuracy: NeuroKit2 ppg_simulate, %d s per case, truth = simulated onsets; "
              "F1 at +-50 ms; RR error on intervals each detector keeps\n" % duration)
    out.write("%-20s %-10s %7s %7s %7s %9s %9s %10s\n" % (
        "case", "detector", "sens%", "PPV%", "F1%", "|RR| med", "|RR| p95", "RMSSD err%"))
    totals = {name: [] for name, _ in DETECTORS}
    with tempfile.TemporaryDirectory() as work:
        for name, hr, kw, fs in cases:
            # The seed follows the case, so --quick runs the same signals as the full table.
            sig, truth = simulate(duration, hr, seed=100 + [c[0] for c in CASES].index(name), fs=fs, **kw)
            for det_name, fn in DETECTORS:
                times, usable = fn(sig, fs, work)
                s = score(truth, times, usable, duration)
                totals[det_name].append((name, s))
                out.write("%-20s %-10s %7.2f %7.2f %7.2f %9.2f %9.2f %+10.1f\n" % (
                    name, det_name, 100 * s["sens"], 100 * s["ppv"], 100 * s["f1"], s["rr_med"], s["rr_p95"],
                    s["rmssd_err"]))
            out.flush()
    out.write("Targets: F1 >= 99.5 % clean, >= 97 % motion; median |RR| <= 4 ms at 100 Hz; RMSSD within 5 %.\n")
    for det_name, rows in totals.items():
        clean = [s for n, s in rows if n.startswith("clean") and "@" not in n]
        motion = [s for n, s in rows if "motion" in n or "noise" in n]
        at100 = [s for n, s in rows if "@" not in n]
        out.write("  %-10s clean F1 min %6.2f %% | noisy/motion F1 min %6.2f %% | median |RR| (100 Hz cases) %5.2f ms"
                  " | worst |RMSSD err| (100 Hz) %5.1f %%\n" % (
                      det_name, 100 * min(s["f1"] for s in clean), 100 * min(s["f1"] for s in motion) if motion else 0,
                      float(np.nanmedian([s["rr_med"] for s in at100])),
                      float(np.nanmax([abs(s["rmssd_err"]) for s in at100]))))
    bench_synthetic(out, quick=quick)
    bench_ectopic(out, quick=quick)
    bench_offwrist(out, quick=quick)
    bench_real_recordings(out)
    bench_motion(out, quick=quick)


# ---- motion with and without the accelerometer (issue 13) ------------------------------
MOTION_CASES = [
    # name, plan (ppg_synth: the PPG's motion artefact and the accelerometer share one movement)
    ("bursts 75 bpm", "rest=75:20s,rest=75/bursts:%ds"),
    ("gestures seated", "rest=68:20s,rest=68/fidget:%ds"),
    ("walking 100 bpm", "rest=100:20s,rest=100/walking:%ds"),
    ("exercise + bursts", "rest=110:20s,active:%ds"),
]


def _motion_run(plan, seed, fs):
    """(signal, truth onsets s, soothe beats {"A": with the accelerometer, "S": signal only: [(t_s, flag)]},
    measured bursts [(s, e)] s)."""
    from soothe_sim import ppg_synth

    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan(plan), seed=seed)
    sig = [0] * (g.total_ms * fs // 1000)
    g.fill(sig, len(sig))
    proc = subprocess.run([micropython_binary(), str(TOOLS_DIR / "bench_motion.py"), "motion-beats", plan,
                           str(seed), str(fs)], capture_output=True, text=True, env=micropython_env([TOOLS_DIR]),
                          cwd=str(FIRMWARE_DIR))
    if proc.returncode != 0:
        raise RuntimeError("bench_motion.py motion-beats failed: %s" % proc.stderr.strip().splitlines()[-1:])
    beats, bursts = {"A": [], "S": []}, []
    for line in proc.stdout.splitlines():
        f = line.split()
        if f[0] in beats:
            beats[f[0]].append((int(f[1]) / 1e6, int(f[2])))
        elif f[0] == "M":
            bursts.append((int(f[1]) / 1000, int(f[2]) / 1000))
    return np.asarray(sig, dtype=float), np.asarray(g.beats_us) / 1e6, beats, bursts


def bench_motion(out, quick=False, fs=100):
    """F1 and |RR| error on movement whose accelerometer is known: with the accelerometer
    (artefact cancelled, beats inside movement flagged MOTION) and from the signal alone;
    `ok in bursts` counts beats a detector calls usable inside the movement the
    accelerometer measured."""
    from soothe_fw.sense import beats as fw_beats

    seconds = 120 if quick else 240
    seeds = (31,) if quick else (31, 32, 33)
    extra = fw_beats.FLAG_NAMES.index("extra")
    out.write("Motion: ppg_synth movement (the PPG artefact and a 25 Hz accelerometer from one state), "
              "%d s per case, %d seed(s); truth = generated onsets; F1 at +-50 ms; |RR| on usable beats\n"
              % (seconds + 20, len(seeds)))
    out.write("%-18s %-22s %7s %7s %7s %9s %9s %14s\n" % (
        "case", "detector", "sens%", "PPV%", "F1%", "|RR| med", "|RR| p95", "ok in bursts"))
    summary = {}
    for name, plan in MOTION_CASES:
        rows = {}
        for seed in seeds:
            sig, truth, ours, bursts = _motion_run(plan % seconds, seed, fs)
            duration = sig.size / fs
            runs = [(det_name, np.array([t for t, f in ours[key] if f != extra]),
                     np.array([f == 0 for _, f in ours[key] if f != extra]))
                    for det_name, key in (("soothe + accelerometer", "A"), ("soothe, signal only", "S"))]
            for det_name, fn in DETECTORS[1:]:
                t, u = fn(sig, fs)
                runs.append((det_name, t, u))
            for det_name, t, u in runs:
                sc = score(truth, t, u, duration)
                inside = sum(1 for x, ok in zip(t, u) if ok and any(a <= x <= e for a, e in bursts))
                total = sum(1 for x in t if any(a <= x <= e for a, e in bursts))
                rows.setdefault(det_name, []).append((sc, inside, total))
        for det_name, res in rows.items():
            f1 = float(np.mean([r[0]["f1"] for r in res]))
            out.write("%-18s %-22s %7.2f %7.2f %7.2f %9.2f %9.2f %8d / %-5d\n" % (
                name, det_name, 100 * np.mean([r[0]["sens"] for r in res]),
                100 * np.mean([r[0]["ppv"] for r in res]), 100 * f1,
                float(np.nanmedian([r[0]["rr_med"] for r in res])), float(np.nanmax([r[0]["rr_p95"] for r in res])),
                sum(r[1] for r in res), sum(r[2] for r in res)))
            summary.setdefault(det_name, []).append((name, f1))
        out.flush()
    nk = dict(summary.get("neurokit2", []))
    ours = dict(summary.get("soothe + accelerometer", []))
    out.write("Targets: F1 at least NeuroKit2's on the same data; 0 ok beats inside measured bursts with the "
              "accelerometer.\n  soothe - NeuroKit2 F1 (points): %s\n" % ", ".join(
                  "%s %+.2f" % (n, 100 * (ours[n] - nk[n])) for n in ours if n in nk))


# ---- the project's own cases: the firmware's generator, whose beats are known ---------
SYNTH_CASES = [
    # name, plan, seed
    ("rest 64 bpm", "rest:3m", 21),
    ("stress 96 bpm", "stress:3m", 22),
    ("rest 125 bpm", "rest=125:3m", 23),
    ("stress 125 bpm", "stress=125:3m", 24),
    ("rest 150 bpm", "rest=150:3m", 25),
    ("motion, signal only", "active:3m", 26),
]
RANGES = [("10-bit", 10), ("12-bit", 12), ("16-bit", 16), ("18-bit", 18), ("float", 0)]


def synth_signal(plan, seed, fs=100):
    """(12-bit counts as floats, true onsets in s) from firmware/soothe_sim/ppg_synth.py."""
    from soothe_sim import ppg_synth
    from array import array

    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan(plan), seed=seed)
    n = g.total_ms * fs // 1000
    buf = array("i", [0] * n)
    g.fill(buf, n)
    return np.asarray(buf, dtype=float), np.asarray(g.beats_us, dtype=float) / 1e6


def _in_range(sig, bits):
    if not bits:
        return (sig - 2048) / 600.0, "%.5f"
    return (sig * 2.0 ** (bits - 12)).astype(np.int64), "%d"


def lost_at_start(truth, times, span_s=10.0, tol=0.15):
    """True beats in the first span_s seconds that no detected beat lies near (any flag)."""
    first = truth[truth < span_s]
    return int(sum(1 for t in first if not np.any(np.abs(times - t) < tol)))


def bench_synthetic(out, quick=False):
    fs = 100
    out.write("The project's cases (firmware/soothe_sim/ppg_synth.py, beats known), scored from the first second "
              "(no settling time); 'lost@start' = true beats of the first 10 s with no detected beat near\n")
    out.write("%-22s %-10s %7s %7s %9s %9s %10s %10s\n" % (
        "case", "detector", "F1%", "F1%>5s", "|RR| med", "|RR| p95", "RMSSD err%", "lost@start"))
    cases = SYNTH_CASES[:1] + SYNTH_CASES[3:4] if quick else SYNTH_CASES
    with tempfile.TemporaryDirectory() as work:
        for name, plan, seed in cases:
            sig, truth = synth_signal(plan, seed, fs)
            duration = sig.size / fs
            for det_name, fn in DETECTORS:
                times, usable = fn(sig, fs, work)
                s = score(truth, times, usable, duration, skip_s=0.0)
                s5 = score(truth, times, usable, duration)
                out.write("%-22s %-10s %7.2f %7.2f %9.2f %9.2f %+10.1f %10d\n" % (
                    name, det_name, 100 * s["f1"], 100 * s5["f1"], s5["rr_med"], s5["rr_p95"], s5["rmssd_err"],
                    lost_at_start(truth, times)))
            out.flush()
        sig, truth = synth_signal("rest:2m,stress:1m", 27, fs)
        for name, bits in RANGES[:3] if quick else RANGES:
            data, fmt = _in_range(sig, bits)
            path = Path(work) / "range.csv"
            np.savetxt(path, data, fmt=fmt)
            res = run_replay(str(path), fs)
            times = np.array([b["t_s"] for b in res["beats"] if b["flag"] != "extra"])
            usable = np.array([b["ok"] for b in res["beats"] if b["flag"] != "extra"], dtype=bool)
            s = score(truth, times, usable, sig.size / fs, skip_s=0.0)
            gaps = sum(g["to_s"] - g["from_s"] for g in res["no_contact"])
            out.write("%-22s %-10s %7.2f %7s %9.2f %9.2f %+10.1f %10d   no reading %.1f s (range inferred)\n" % (
                "recording " + name, "soothe", 100 * s["f1"], "", s["rr_med"], s["rr_p95"], s["rmssd_err"],
                lost_at_start(truth, times), gaps))
    out.write("Targets: F1 >= 99.5 % on clean cases with the first seconds; RMSSD within 5 % at 125 bpm; "
              "median |RR| at rest <= 2.5 ms; every range the same beats.\n")


ECTOPIC_CASES = [
    # (name, plan, seed, kind, premature beats per minute)
    ("PVC 6/min rest 64", "rest:3m", 41, "pvc", 6.0),
    ("PAC 6/min rest 64", "rest:3m", 42, "pac", 6.0),
    ("mixed 4/min stress 96", "stress:3m", 43, "mixed", 4.0),
]


def _ectopic_signal(plan, seed, kind, per_min, fs=100):
    """(samples, true onsets s, onsets s of the premature beats) from firmware/soothe_sim/ppg_synth.py."""
    from soothe_sim import ppg_synth
    from array import array

    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan(plan), seed=seed, ectopic_per_min=per_min, ectopic=kind)
    n = g.total_ms * fs // 1000
    buf = array("i", [0] * n)
    g.fill(buf, n)
    return (np.asarray(buf, dtype=float), np.asarray(g.beats_us, dtype=float) / 1e6,
            np.asarray([t for t, _ in g.ectopics], dtype=float) / 1e6)


def _match(truth, times):
    """Index of the detected beat matched to each true beat (-1: none), as score() matches."""
    match = -np.ones(truth.size, dtype=int)
    if times.size == 0:
        return match
    near = np.abs(times[None, :] - truth[:, None])
    off = float(np.median(times[np.argmin(near, axis=1)] - truth))
    used = np.zeros(times.size, dtype=bool)
    for j, t in enumerate(truth):
        k = int(np.argmin(np.abs(times - t - off)))
        if abs(times[k] - t - off) <= TOL_S and not used[k]:
            match[j] = k
            used[k] = True
    return match


def _rmssd_of(truth, times, match, keep):
    """RMSSD (ms) of the detected intervals truth[j-1]->truth[j] with keep[j] and both ends
    matched to successive detected beats; successive differences only between neighbours."""
    rr = []
    for j in range(1, truth.size):
        a, b = match[j - 1], match[j]
        rr.append((times[b] - times[a]) * 1000 if keep[j] and a >= 0 and b == a + 1 else np.nan)
    dd = np.diff(np.array(rr))
    return rmssd_ms(dd[~np.isnan(dd)])


def bench_ectopic(out, quick=False):
    """Premature beats (PVC, PAC) in the generator's sinus rhythm: beat F1 and |RR| as the other
    cases, how the engine flags the premature beat and the pause after it, and RMSSD against the
    truth's normal-to-normal RMSSD (Lipponen & Tarvainen 2019): from each detector's own usable
    intervals, from all its intervals (ectopics left in), and with the true ectopic intervals
    removed (timing error only)."""
    fs = 100
    out.write("Ectopic beats (firmware/soothe_sim/ppg_synth.py ectopic_per_min: premature by 20-40 %, smaller pulse; "
              "PVC compensatory pause, PAC not); RMSSD err % against the true NN RMSSD: own = the detector's "
              "usable intervals, all = every interval, NN = true ectopic intervals removed\n")
    out.write("%-22s %-10s %7s %9s %9s %8s %8s %8s\n" % (
        "case", "detector", "F1%", "|RR| med", "|RR| p95", "own", "all", "NN"))
    cases = ECTOPIC_CASES[:1] if quick else ECTOPIC_CASES
    with tempfile.TemporaryDirectory() as work:
        for name, plan, seed, kind, per_min in cases:
            sig, truth, ect = _ectopic_signal(plan, seed, kind, per_min, fs)
            duration = sig.size / fs
            prem = np.array([bool(np.any(np.abs(ect - t) < 1e-6)) for t in truth])
            # Interval j (truth[j-1] -> truth[j]) is normal-to-normal when neither end is premature.
            nn = np.ones(truth.size, dtype=bool)
            nn[prem] = False
            nn[1:][prem[:-1]] = False
            true_nn = rmssd_ms(np.diff(np.diff(truth) * 1000)[nn[1:-1] & nn[2:]])
            flags_line = ""
            for det_name, fn in DETECTORS:
                if det_name == "soothe":
                    path = Path(work) / "ect.csv"
                    np.savetxt(path, sig, fmt="%.6f")
                    res = run_replay(str(path), fs)
                    kept = [b for b in res["beats"] if b["flag"] != "extra"]
                    times = np.array([b["t_s"] for b in kept])
                    usable = np.array([b["ok"] for b in kept], dtype=bool)
                    flags = [b["flag"] for b in kept]
                else:
                    times, usable = fn(sig, fs, work)
                s = score(truth, times, usable, duration, skip_s=0.0)
                m = _match(truth, times)
                own = np.array([j > 0 and m[j] >= 0 and m[j - 1] >= 0 and usable[m[j]] and usable[m[j - 1]]
                                for j in range(truth.size)])
                errs = [100 * (_rmssd_of(truth, times, m, keep) - true_nn) / true_nn
                        for keep in (own, np.ones(truth.size, dtype=bool), nn)]
                out.write("%-22s %-10s %7.2f %9.2f %9.2f %+8.1f %+8.1f %+8.1f\n" % (
                    name, det_name, 100 * s["f1"], s["rr_med"], s["rr_p95"], errs[0], errs[1], errs[2]))
                if det_name == "soothe":
                    idx = np.nonzero(prem)[0]
                    idx = idx[idx + 1 < truth.size]
                    found = sum(1 for j in idx if m[j] >= 0)
                    p_ect = sum(1 for j in idx if m[j] >= 0 and flags[m[j]] == "ectopic")
                    p_bad = sum(1 for j in idx if m[j] >= 0 and flags[m[j]] != "ok")
                    q_ect = sum(1 for j in idx if m[j + 1] >= 0 and flags[m[j + 1]] == "ectopic")
                    q_bad = sum(1 for j in idx if m[j + 1] >= 0 and flags[m[j + 1]] != "ok")
                    q_found = sum(1 for j in idx if m[j + 1] >= 0)
                    other = {}
                    for j in idx:
                        for k in (m[j], m[j + 1]):
                            if k >= 0 and flags[k] != "ectopic":
                                other[flags[k]] = other.get(flags[k], 0) + 1
                    flags_line = ("  soothe flags: %d premature beats, %d detected: %d ectopic, %d not ok; "
                                  "the interval after: %d detected, %d ectopic, %d not ok; other flags on them %s\n" % (
                                      idx.size, found, p_ect, p_bad, q_found, q_ect, q_bad,
                                      " ".join("%s %d" % kv for kv in sorted(other.items())) or "none"))
            out.write(flags_line)
            out.flush()
    out.write("Targets: every premature beat found (F1 >= 99.5 %), the premature interval and the pause "
              "flagged ectopic (never ok), own RMSSD within 5 % of the true NN RMSSD.\n")


OFFWRIST = ["nocontact", "offwrist_ambient", "offwrist_dangling", "offwrist_daylight", "offwrist_table"]


def bench_offwrist(out, quick=False):
    """OK beats per hour off the wrist: the firmware's detector under MicroPython over
    each variant of the generator (24 h each; 1 h with --quick), and for comparison how
    many beats NeuroKit2 and HeartPy find in 10 min of the same signal."""
    hours = 1 if quick else 24
    out.write("Off the wrist (no pulse at all): beats flagged ok per hour by soothe over %d h per variant "
              "(target 0); beats per hour NeuroKit2 / HeartPy find in 10 min of it\n" % hours)
    for kind in OFFWRIST:
        t0 = time.time()
        vals = [int(x) for x in run_mp("bench_beats.py", "%s:%dh" % (kind, hours), 31, 100)]
        samples, beats, ok, changes = vals[:4]
        unclaimed = vals[4] if len(vals) > 4 else 0
        line = "  %-18s soothe %7.1f ok/h (%d upstrokes judged: %d dropped as no pulse's, %d logged, %d ok; " \
               "contact changes %d; %.0f s)" % (kind, ok / hours, beats + unclaimed, unclaimed, beats, ok, changes,
                                                time.time() - t0)
        sig, _ = synth_signal("%s:10m" % kind, 31)
        for det_name, fn in DETECTORS[1:]:
            times, usable = fn(sig, 100)
            line += " | %s %6.0f/h" % (det_name, 6 * int(np.sum(usable)))
        out.write(line + "\n")
        out.flush()
    # Timing of leaving and coming back, through App.sense's pipeline (accelerometer and
    # ContactGate included): the worst case over the variants and seeds 0-11 (0-3 with --quick).
    seeds = "0,1,2,3" if quick else ",".join(str(s) for s in range(12))
    worst = [0.0, 0.0, 0.0]
    missing = 0
    for kind in OFFWRIST:
        toks = run_mp("bench_contact.py", kind, seeds)  # 5 tokens a seed
        for i in range(0, len(toks), 5):
            vals = toks[i + 1:i + 4]
            if "-" in vals:
                missing += 1
                continue
            for j, v in enumerate(vals):
                worst[j] = max(worst[j], float(v))
    out.write("  leaving and coming back (plan rest:30s,KIND:20s,rest:15s, seeds %s, every variant): worst "
              "\"no reading\" after leaving %.2f s (target <= 3 s); worst first OK beat emitted after return "
              "%.2f s, shown contact back %.2f s (target <= 5 s)%s\n"
              % (seeds, worst[0], worst[1], worst[2], "; %d runs never changed" % missing if missing else ""))


def bench_real_recordings(out):
    """Agreement between the detectors on HeartPy's shipped recordings (no reference beats)."""
    import heartpy

    data_dir = Path(heartpy.__file__).parent / "data"
    out.write("Real recordings shipped with HeartPy (no reference beats: beats found, and F1 of "
              "NeuroKit2/HeartPy against soothe's beats, after the median fiducial offset)\n")
    with tempfile.TemporaryDirectory() as work:
        for fname in ("data.csv", "data2.csv", "data3.csv"):
            path = data_dir / fname
            if not path.exists():
                continue
            if fname == "data.csv":  # 100 Hz, one sample per row
                sig, fs = np.loadtxt(path, ndmin=1), 100
            elif fname == "data2.csv":  # a ms timer column gives the rate (about 117 Hz)
                rows = np.genfromtxt(path, delimiter=",", names=True)
                sig, fs = rows["hr"], int(round(1000 / np.median(np.diff(rows["timer"]))))
            else:  # datetime stamps give the rate (about 64 Hz), 18 min of wearing
                rows = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="ascii")
                stamps = np.array(rows["datetime"], dtype="datetime64[us]").astype(np.int64)
                # the stamps are coarse (steps of 0 or 16 ms), so the mean interval, not the median
                sig, fs = rows["hr"].astype(float), int(round(1e6 * (stamps.size - 1) / (stamps[-1] - stamps[0])))
            sig = sig[~np.isnan(sig)]
            duration = sig.size / fs
            ours, ours_ok = detect_firmware(sig, fs, work)
            line = "  %-9s %5.0f s  soothe %4d beats (%d clean)" % (fname, duration, ours.size, int(ours_ok.sum()))
            for det_name, fn in DETECTORS[1:]:
                times, usable = fn(sig, fs)
                s = score(ours, times, usable, duration)
                line += " | %s %4d beats, F1 vs soothe %5.1f %%" % (det_name, times.size, 100 * s["f1"])
            out.write(line + "\n")


# ---- cost -------------------------------------------------------------------------------
def _callgrind(args):
    valgrind = shutil.which("valgrind")
    if not valgrind:
        return None
    with tempfile.TemporaryDirectory() as work:
        cmd = [valgrind, "--tool=callgrind", "--callgrind-out-file=%s/cg.out" % work, micropython_binary(), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=micropython_env([TOOLS_DIR]),
                              cwd=str(FIRMWARE_DIR))
    m = re.search(r"Collected : (\d+)", proc.stderr)
    return int(m.group(1)) if m else None


def instructions_per_second(script, modes, seconds, *extra):
    """Callgrind instructions of `script` in mode modes[1] minus modes[0], per second of signal."""
    base = _callgrind([str(TOOLS_DIR / script), modes[0], str(seconds), *extra])
    full = _callgrind([str(TOOLS_DIR / script), modes[1], str(seconds), *extra])
    if base is None or full is None:
        return None
    return (full - base) / seconds


def run_mp(script, *args, heapsize=None):
    cmd = [micropython_binary()] + (["-X", "heapsize=%s" % heapsize] if heapsize else [])
    proc = subprocess.run(cmd + [str(TOOLS_DIR / script), *map(str, args)], capture_output=True, text=True,
                          env=micropython_env([TOOLS_DIR]), cwd=str(FIRMWARE_DIR))
    if proc.returncode != 0:
        raise RuntimeError("%s failed: %s" % (script, proc.stderr.strip().splitlines()[-1:]))
    return proc.stdout.split()


def engine_heap(seconds, heapsize="80k"):
    """The signal pipeline alone (detector, motion, contact gate, HRV) from .mpy on a small heap
    (80k: with the motion meter and the gate the probe no longer starts in 64k) over `seconds` of signal:
    (engine modules, engine objects, probe's peak live heap, beats, wall s)."""
    with tempfile.TemporaryDirectory() as work:
        compile_firmware(work, arch=host_arch(), also=("bench_engine.py", "bench_heap.py"))
        env = dict(micropython_env(), MICROPYPATH="%s:%s" % (FIRMWARE_DIR / ".frozen", work))
        t0 = time.time()
        outs = []
        for args in (["bench_heap", "engine"], ["bench_engine", "heap", str(seconds), "100"]):
            proc = subprocess.run([micropython_binary(), "-X", "heapsize=%s" % heapsize, "-m"] + args,
                                  capture_output=True, text=True, env=env, cwd=work)
            if proc.returncode != 0:
                raise RuntimeError("%s failed: %s" % (args[0], proc.stderr.strip().splitlines()[-1:]))
            outs.append(proc.stdout.split())
        _, _, engine, _, peak, beats = outs[1]
        return int(outs[0][0]), int(engine), int(peak), int(beats), time.time() - t0


def sim_heap(duration, heapsize):
    """Runs the simulated device for `duration` and returns its stop-time stats line."""
    from soothe.simulator import Simulator

    with tempfile.TemporaryDirectory() as work:
        t0 = time.time()
        sim = Simulator(os.path.join(work, "flash.img"), duration=duration, heapsize=heapsize)
        sim.use_mpy(os.path.join(work, "mpy"))
        sim.start()
        try:
            sim.wait_stopped(timeout=3600)
            stats = sim.stats_line()
        finally:
            sim.stop()
        return (stats or "no stats: " + " | ".join(sim.stderr_lines[-3:])), time.time() - t0


def steady_instructions_per_second(script, modes, short_s, long_s, *extra):
    """Steady state: (C(long) - C(short)) / (long - short) of the mode pair's difference, so
    start-up and every window's filling (the 64 s coherence window included) cancel."""
    a = instructions_per_second(script, modes, long_s, *extra)
    b = instructions_per_second(script, modes, short_s, *extra)
    if a is None or b is None:
        return None
    return (a * long_s - b * short_s) / (long_s - short_s)


# The 0.8 M engine target split by what each part does per second of signal (M instr/s): the
# detector runs 100 times a second, the fallback once per block and second, the window and
# coherence once per 5 s.  Guides for where the next cut must come from, not separate targets.
# Since the window, coherence and the fallback's block range run as viper (t17-cost: 0.065,
# 0.203, 0.114 M before), what is left is mostly the detector's per-sample loop.
SHARE_TARGETS = {"detector": 0.62, "motion": 0.08, "window": 0.04, "coherence": 0.06}


def engine_shares(short_s, long_s, rate=100):
    """{part: steady instructions per second} of each stubbable part of the engine probe
    (tools/probes/bench_engine.py without-PART), as engine minus engine-without-part."""
    out = {}
    for part in ("motion", "window", "coherence"):
        v = steady_instructions_per_second("bench_engine.py", ("without-" + part, "engine"), short_s, long_s,
                                           str(rate))
        out[part] = v if v is not None else float("nan")
    return out


def device_instructions(duration_s, heapsize="320k", loop_s=30):
    """Callgrind instructions of the whole device (App on the simulated board, .mpy) for
    `duration_s` of simulated wear (stopped with SIGTERM once the clock has stopped)."""
    from soothe.simulator import Simulator

    valgrind = shutil.which("valgrind")
    if not valgrind:
        return None
    with tempfile.TemporaryDirectory() as work:
        sim = Simulator(os.path.join(work, "flash.img"), duration="%ds" % duration_s, heapsize=heapsize)
        sim.prefix = [valgrind, "--tool=callgrind", "--callgrind-out-file=%s/cg.out" % work, sys.executable]
        # The generator's first 30 s made at boot and looped (soothe_sim/loopsource.py): a block
        # then costs a copy, so the figure is the device's, not the synthetic source's.
        sim.argv += ["--loop-source", str(loop_s)]
        sim.use_mpy(os.path.join(work, "mpy"))
        sim.start()
        try:
            sim.wait_stopped(timeout=3600)
        finally:
            sim.stop()
        time.sleep(0.5)
        m = [re.search(r"Collected : (\d+)", ln) for ln in sim.stderr_lines]
        hits = [int(x.group(1)) for x in m if x]
        return hits[-1] if hits else None


def run_mp32(chunks, dirs):
    """Code chunks under the 32-bit MicroPython (tests/mp32.mjs, Node.js); None without node."""
    runner = ROOT_DIR / "tests" / "mp32.mjs"
    if not shutil.which("node") or not runner.exists():
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"dirs": dirs, "path": list(dirs), "chunks": chunks}, f)
    try:
        proc = subprocess.run(["node", str(runner), f.name], capture_output=True, text=True, cwd=str(ROOT_DIR))
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        raise RuntimeError("mp32 failed: %s" % proc.stderr.strip().splitlines()[-1:])
    return proc.stdout


_DEVICE_MODULES = ("asyncio", "soothe_fw.app", "soothe_fw.hw.board", "soothe_fw.hw.esp32", "soothe_fw.sense.beats",
                   "soothe_fw.sense.hrv", "soothe_fw.log.records", "soothe_fw.log.logstore", "soothe_fw.link.handler",
                   "soothe_fw.link.wire", "soothe_fw.log.settings", "soothe_fw.feedback.state",
                   "soothe_fw.feedback.coach", "soothe_fw.feedback.pacer", "soothe_fw.clock", "soothe_fw.compat",
                   "soothe_fw.hw.max30102", "soothe_fw.hw.drv2605", "soothe_fw.hw.ws2812", "soothe_fw.hw.lis2dh12")


def device_day_heap(hours, sample_min, bits, build=None):
    """The App's day (tools/probes/bench_device.py) from .mpy on the 32-bit WebAssembly port
    (bits=32) or the 64-bit unix port: (device modules' bytes, live heap peak of the App
    over the day with the bench's own signal tables taken out, allocation report).
    build="mpy" / "frozen": on the 32-bit unix port of soothe_tools.frozen (x86, native code
    kept), with soothe_fw loaded from .mpy into RAM or frozen into the binary."""
    from soothe.fw import mpy_cross_binary

    with tempfile.TemporaryDirectory() as work:
        mpy = os.path.join(work, "mpy")
        if build is not None:
            from . import frozen

            b = frozen.binaries()
            for rel, p in image_sources(sim=True) + [("bench_device.py", TOOLS_DIR / "bench_device.py")]:
                if rel == "main.py" or (build == "frozen" and rel.startswith("soothe_fw/")):
                    continue  # frozen: the package is in the binary (no .mpy may shadow it)
                Path(mpy, rel).parent.mkdir(parents=True, exist_ok=True)
                subprocess.run([str(b["mpy_cross"]), "-march=x86", "-o", os.path.join(mpy, rel[:-3] + ".mpy"),
                                "-s", rel, str(p)], check=True, capture_output=True)
        elif bits == 32:  # bytecode only: the WebAssembly port has no native emitter (tests/mp32.mjs)
            src = os.path.join(work, "src")
            os.makedirs(src)
            sources = [(rel, p) for rel, p in image_sources(sim=True) if rel != "main.py"]
            for rel, p in sources + [("bench_device.py", TOOLS_DIR / "bench_device.py")]:
                text = re.sub(r"(?m)^([ \t]*)@micropython\.native[ \t]*$", r"\1# native", p.read_text())
                if re.search(r"(?m)^[ \t]*@micropython\.viper[ \t]*$", text):  # as tests/mp32.mjs does
                    text = "ptr8 = ptr16 = ptr32 = (lambda b: b); " + re.sub(
                        r"(?m)^([ \t]*)@micropython\.viper[ \t]*$", r"\1# viper", text)
                Path(src, rel).parent.mkdir(parents=True, exist_ok=True)
                Path(src, rel).write_text(text)
                Path(mpy, rel).parent.mkdir(parents=True, exist_ok=True)
                subprocess.run([mpy_cross_binary(), "-o", os.path.join(mpy, rel[:-3] + ".mpy"), rel],
                               check=True, cwd=src, capture_output=True)
        else:
            compile_firmware(mpy, arch=host_arch(), also=("bench_device.py",))
            os.unlink(os.path.join(mpy, "main.py"))
        shutil.copy(ROOT_DIR / "tests" / "fakes" / "fake_machine.py", mpy)
        shutil.copy(ROOT_DIR / "tests" / "fakes" / "fake_i2c.py", mpy)
        os.makedirs(os.path.join(work, "data"), mode=0o700)
        imports = "\n".join("import %s" % m for m in _DEVICE_MODULES if not (bits == 32 and m == "asyncio"))
        collect, mark = "gc.collect()", "marks.append(gc.mem_alloc())"
        harness_imports = "import fake_i2c\nfrom soothe_sim import ppg_synth\nfrom soothe_sim import board as board_sim"
        # the fake `machine` (for board_esp32) is in the base, not the device's share
        chunks = ["import gc, json, sys, fake_machine\nsys.modules['machine'] = fake_machine\nmarks = []",
                  collect, mark, imports, collect, mark,
                  harness_imports, collect, mark, "import bench_device as d", collect, mark]
        for h in range(hours):
            chunks += ["d.run_hours(%d, %d, %d, %d)" % (h, h + 1, hours, sample_min), collect, mark]
        # last: the App dropped, so what stays is everything but the App's objects (the
        # modules, the harness's own code and fakes: bench_device's bytecode is in RAM)
        chunks += ["d.blocks = d.beat_age = d.beat_rr = d.beat_flag = d.beat_count = None", collect, mark,
                   "d.report()", "d.app = d.pipe = d.det = d.hrv = None", collect, mark, "print(json.dumps(marks))"]
        if bits == 32 and build is None:
            text = run_mp32(chunks, {"/fw": mpy})
            if text is None:
                return None
        else:
            env = dict(micropython_env(), MICROPYPATH=".frozen:%s" % mpy, SOOTHE_BENCH_DIR=os.path.join(work, "data"))
            binary = micropython_binary() if build is None else str(frozen.binaries()[build])
            # one program: the unix port collects at once, so the chunks simply follow each other
            code = "\n".join(chunks)
            script = os.path.join(work, "day.py")
            with open(script, "w") as f:
                f.write(code)
            proc = subprocess.run([binary, "-X", "heapsize=4m", script], capture_output=True,
                                  text=True, env=env, cwd=str(FIRMWARE_DIR))
            if proc.returncode != 0:
                raise RuntimeError("device day failed: %s" % proc.stderr.strip().splitlines()[-1:])
            text = proc.stdout
        lines = text.strip().splitlines()
        report, marks = json.loads(lines[-2]), json.loads(lines[-1])
        base, modules_end = marks[0], marks[1]
        tables = marks[-3] - marks[-2]  # the bench's own signal tables
        peak = max(marks[3:-2]) - tables - marks[-1]  # the App's objects: all that went with it
        return modules_end - base, peak, report


DEVKITC_FREE_HEAP = 100 * 1024  # an ESP32 without PSRAM, stock MicroPython (not measured on a board here)


def bench_frozen(out, hours):
    """The device's 32-bit heap on the x86 unix port built by soothe_tools.frozen: the package
    frozen (bytecode in flash) beside loaded from .mpy (bytecode in RAM); or how to build it."""
    from . import frozen

    if frozen.binaries() is None:
        out.write("  32-bit unix port, frozen vs .mpy: %s\n" % frozen.HOW)
        return
    if frozen.stale():
        out.write("  (the frozen binary is older than firmware/soothe_fw: its figure is the old code's; rebuild with "
                  "`python -m soothe_tools.frozen build %s`)\n" % (frozen.BUILD_DIR / "micropython"))
    r = {}
    for build in ("frozen", "mpy"):
        modules, peak, rep = device_day_heap(hours, 30, 32, build=build)
        r[build] = modules + peak
        out.write("  32-bit unix port (x86, MicroPython %s), soothe_fw %s: a simulated %d h day "
                  "(tools/probes/bench_device.py): device modules %d bytes + the App's objects, peak %d bytes "
                  "= %d bytes live; allocations with the heap locked %d (target 0)\n"
                  % (frozen.TAG, "frozen" if build == "frozen" else "from .mpy", hours, modules, peak,
                     modules + peak, sum(rep["fails"].values())))
    out.write("  => frozen %.1f KB (target <= 64 KB: %s); .mpy in RAM %.1f KB against the DevKitC's ~%d KB free heap "
              "(%s)\n" % (r["frozen"] / 1024, "met" if r["frozen"] <= 64 * 1024 else "NOT met", r["mpy"] / 1024,
                           DEVKITC_FREE_HEAP // 1024, "fits" if r["mpy"] <= DEVKITC_FREE_HEAP
                           else "does not fit: the DevKitC needs the frozen build"))


def bench_cost(out, quick=False):
    rate = 100
    short_s, long_s = (120, 360) if quick else (120, 720)
    out.write("Cost under MicroPython (callgrind on the 64-bit unix port; heap also on the 32-bit "
              "WebAssembly port, whose small ints and object sizes are the ESP32's)\n")
    ips = steady_instructions_per_second("bench_engine.py", ("base", "engine"), short_s, long_s, str(rate))
    if ips is None:
        out.write("  callgrind: valgrind not found\n")
    else:
        out.write("  engine steady state (the device's pipeline without an accelerometer: detector, motion from the "
                  "PPG, contact gate, 60 s window + coherence FFT every 5 s; 64-bit unix port, viper and native "
                  "code as the ESP32 runs them), (C(%d s) - C(%d s)) "
                  "/ %d s: %.2f M instructions per second of 100 Hz signal (target <= 0.8 M); %.2f %% of a "
                  "240 MHz core\n" % (long_s, short_s, long_s - short_s, ips / 1e6, 100 * ips / 240e6))
        shares = engine_shares(short_s, long_s, rate)
        rest = ips - sum(shares.values())
        out.write("    shares (engine minus the engine with that part stubbed, same difference of lengths; "
                  "approximate: a stub also moves the rest's look-up costs), each beside its guide (the 0.8 M "
                  "target split by part): detector + pipeline glue %.3f M (<= %.2f M), motion fallback from the "
                  "PPG %.3f M (<= %.2f M), 60 s window %.3f M (<= %.2f M), coherence %.3f M (<= %.2f M)\n"
                  % (rest / 1e6, SHARE_TARGETS["detector"], shares["motion"] / 1e6, SHARE_TARGETS["motion"],
                     shares["window"] / 1e6, SHARE_TARGETS["window"], shares["coherence"] / 1e6,
                     SHARE_TARGETS["coherence"]))
    d_short = device_instructions(120)
    d_long = device_instructions(360 if quick else 720)
    if not (d_short and d_long and d_long > d_short):
        out.write("  whole simulated device: the run failed (no instruction count, or the simulated board stopped "
                  "at boot: run `soothe sim` with the same heap to see why)\n")
    else:
        span = (360 if quick else 720) - 120
        dev = (d_long - d_short) / span
        out.write("  whole simulated device (App on the simulated board with its accelerometer, .mpy, "
                  "-X heapsize=320k: 256k no longer starts the simulated board from .mpy (MemoryError at boot, "
                  "main 3b3b691 too); the signal a 30 s loop "
                  "made at boot, so the source costs a copy), "
                  "(C(%d s) - C(120 s)) / %d s: %.2f M instructions per second of wear (target <= 3 M); "
                  "%.2f %% at 240 MHz, %.2f %% at 80 MHz\n"
                  % (120 + span, span, dev / 1e6, 100 * dev / 240e6, 100 * dev / 80e6))
    for bits in (32, 64):
        r = device_day_heap(6 if quick else 24, 30, bits)
        if r is None:
            out.write("  %d-bit: node not found, the WebAssembly port cannot run\n" % bits)
            continue
        modules, peak, rep = r
        c = rep["counts"]
        f = rep["fails"]
        out.write("  %d-bit, a simulated %d h day of the App's hot paths (tools/probes/bench_device.py, .mpy): "
                  "allocations with the heap locked: %d per sample block, %d per beat pass, %d per ui update "
                  "(%d updates), %d per pacer step (%d steps) (target 0); 5 s steps: %d of %d allocated outside "
                  "a record write (target 0), the %d that logged an event or saved the baseline used %d bytes "
                  "in all\n" % (bits, 6 if quick else 24, f["sample"], f["beat"], f["ui"], c["ui"], f["pace"],
                                 c["pace"], f["metrics"], c["metrics"], c["record_steps"], c["record_bytes"]))
        out.write("  %d-bit live heap: device modules from .mpy %d bytes (the bytecode share a frozen build "
                  "moves to flash) + the App's objects, peak over the day %d bytes = %d bytes (.mpy in RAM); "
                  "frozen estimate %d bytes (objects only; target <= 64 KB on 32-bit)\n"
                  % (bits, modules, peak, modules + peak, peak))
    bench_frozen(out, 6 if quick else 24)
    _, samples, sample_bytes, runs, metric_bytes = run_mp("bench_engine.py", "alloc", 120, rate)
    out.write("  allocation (gc.mem_alloc deltas, gc off, after warm-up): %.3f bytes per sample over %s samples; "
              "%s bytes over %s metrics runs (target 0)\n" % (int(sample_bytes) / int(samples), samples,
                                                               metric_bytes, runs))
    # Steady state, as the engine line: the 64 s coherence window and the 60 s level ring full.
    accel = steady_instructions_per_second("bench_motion.py", ("base-accel", "accel"), short_s, long_s, str(rate))
    _, a_samples, a_sample, a_runs, a_metric = run_mp("bench_motion.py", "alloc-accel", 120, rate)
    if accel is not None:
        out.write("  with the accelerometer, steady state (the device's pipeline with its 25 Hz FIFO read after "
                  "each block: MotionMeter, artefact cancelling, beats reflagged, detector, contact gate, 60 s "
                  "window + coherence; seated with gestures), (C(%d s) - C(%d s)) / %d s: %.2f M instructions "
                  "per second of 100 Hz signal (target <= 1.5 M)\n" % (long_s, short_s, long_s - short_s, accel / 1e6))
    out.write("  with the accelerometer, allocation: %.3f bytes per sample, %s bytes over %s metrics runs (target 0)\n"
              % (int(a_sample) / int(a_samples), a_metric, a_runs))
    bio = instructions_per_second("bench_engine.py", ("engine", "bio"), 30 if quick else 60, str(rate))
    _, samples, b_sample, b_runs, b_metric = run_mp("bench_engine.py", "alloc-bio", 120, rate)
    if bio is not None:
        out.write("  biofeedback (state machine + prompt coach every 5 s, a breathing session's pacer stepped at "
                  "each change, the 20 ms ui tick): %.3f M instructions per second on top of the engine "
                  "(target <= 0.2 M)\n" % (bio / 1e6))
    out.write("  biofeedback allocation: %.3f bytes per sample, %s bytes over %s metrics runs (target 0)\n"
              % (int(b_sample) / int(samples), b_metric, b_runs))
    mods, objs, peak, beats, wall = engine_heap(3600 if quick else 86400)
    out.write("  signal pipeline heap (detector, motion, contact gate, HRV) over a simulated %s from .mpy on "
              "-X heapsize=80k (%.0f s, %d beats): modules %d + "
              "objects %d = %d bytes (target <= 40 KB); peak live heap of the whole probe (interpreter, "
              "signal source, engine) %d bytes; 64-bit port, so pointers and GC blocks are twice the ESP32's\n"
              % ("1 h" if quick else "24 h", wall, beats, mods, objs, mods + objs, peak))
    line, wall = sim_heap("1h" if quick else "24h", "256k")  # the sim board's own floor: see soak.py
    out.write("  simulated %s on -X heapsize=256k (%.0f s): %s\n" % ("1 h" if quick else "24 h", wall, line))
    code = run_mp("bench_heap.py", heapsize="256k")
    out.write("  heap taken by the firmware's modules once imported (bytecode, 64-bit unix port): %s bytes; "
              "the sim board's own modules: %s bytes\n" % (code[0], code[1]))
    bench_speed(out, 600 if quick else 3600)


def bench_speed(out, seconds):
    import neurokit2 as nk

    fs = 100
    sig, _ = simulate(seconds, 70, seed=7, fs=fs, motion_amplitude=0.05)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "long.csv"
        np.savetxt(path, sig, fmt="%.5f")
        t0 = time.perf_counter()
        run_replay(str(path), fs)
        ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nk.ppg_process(sig, sampling_rate=fs)
    theirs = time.perf_counter() - t0
    out.write("  speed on a %d min recording: soothe replay (MicroPython, CSV parsing included) %.2f s, "
              "NeuroKit2 ppg_process %.2f s: %.2fx NeuroKit2's speed\n" % (seconds // 60, ours, theirs, theirs / ours))


def bench_faults(out, quick=False):
    """Issue 15's fault sweeps, sampled (the full sweeps: `make faults`)."""
    from .faults import run as run_faults

    run_faults(out, quick=True)


SECTIONS = {"accuracy": bench_accuracy, "cost": bench_cost, "log": bench_log}
SECTIONS["state"] = bench_state  # issue 14: the state-validity table
SECTIONS["faults"] = bench_faults  # issue 15: fault sweeps (quick set; `make faults` runs them all)
SECTIONS["time"] = bench_time  # issue 15 #5: beat times after a clock set, a host-less boot placed


def run(sections, quick=False, out=sys.stdout):
    for name in sections:
        t0 = time.time()
        out.write("== %s\n" % name)
        SECTIONS[name](out, quick=quick)
        out.write("   (%s took %.0f s)\n" % (name, time.time() - t0))
        out.flush()
