"""`soothe replay`: a recording through the firmware's own signal engine, under MicroPython.

The host runs firmware/soothe_sim/replay.py with the `micropython` binary and turns its line
output into the public JSON shape documented in the README:

  {"beats":   [{"t_s", "rr_ms", "ok", "flag"}],
   "windows": [{"t_s", "hr_bpm", "rmssd_ms", "sdnn_ms", "pnn50", "coherence", "resonance_hz",
                "motion_pct"}],  # 60 s
   "windows_5min": [same keys, 5 min span],
   "no_contact": [{"from_s", "to_s"}],
   "summary": {"duration_s", "rate_hz", "beats", "artefacts", "hr_bpm", "rmssd_ms", "sdnn_ms",
               "pnn50", "coherence"}}
"""
import math
import subprocess
from pathlib import Path

from .fw import FIRMWARE_DIR, micropython_binary, micropython_env
from soothe_fw.sense import beats as detector  # the flag names, defined once in the firmware


class ReplayError(Exception):
    pass


def run_replay(path, rate_hz, column=None, heapsize=None, adc_bits=0):
    """Returns the replay result dict; raises ReplayError with a one-line reason.

    adc_bits: the sensor's range (0: inferred from the data by the firmware's replay)."""
    if not 25 <= rate_hz <= 500:
        raise ReplayError("--rate %d is out of range: use 25..500 Hz" % rate_hz)
    if adc_bits and not 8 <= adc_bits <= 24:
        raise ReplayError("--adc-bits %d is out of range: use 8..24 (or leave it out to infer it)" % adc_bits)
    if not Path(path).is_file():
        raise ReplayError("cannot open PPG file %s: check the path" % path)
    cmd = [micropython_binary()]
    if heapsize:
        cmd += ["-X", "heapsize=%s" % heapsize]
    cmd += ["-m", "soothe_sim.replay", str(Path(path).resolve()), str(rate_hz), column or "", str(adc_bits)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=micropython_env(), cwd=str(FIRMWARE_DIR))
    lines = proc.stdout.splitlines()
    for line in lines:
        if line.startswith("E "):
            raise ReplayError(line[2:])
    if proc.returncode != 0 or not lines or not lines[-1].startswith("S "):
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ReplayError("the firmware pipeline failed on %s: %s" % (path, tail))
    return parse_lines(lines, rate_hz)


def _window(fields):
    t_ms, span, hr, rmssd, sdnn, pnn50, beats, coh, res = (int(x) for x in fields[:9])
    return span, {
        "t_s": t_ms / 1000,
        "hr_bpm": hr / 100 if beats >= 2 else None,
        "rmssd_ms": rmssd / 10 if beats >= 2 else None,
        "sdnn_ms": sdnn / 10 if beats >= 2 else None,
        "pnn50": pnn50 / 10 if beats >= 2 else None,
        "coherence": coh / 100 if res else None,
        "resonance_hz": res / 1000 if res else None,
        "motion_pct": int(fields[9]) if len(fields) > 9 else None,  # share of the last 60 s moving
    }


def parse_lines(lines, rate_hz):
    beats, windows, windows5, no_contact = [], [], [], []
    lost_at = 0.0
    contact = False
    summary = {}
    for line in lines:
        tag, _, rest = line.partition(" ")
        f = rest.split()
        if tag == "B":
            t_us, rr_us, flag = int(f[0]), int(f[1]), int(f[2])
            beats.append({"t_s": round(t_us / 1e6, 4), "rr_ms": round(rr_us / 1000, 1),
                          "ok": flag == 0, "flag": detector.FLAG_NAMES[flag]})
        elif tag == "W":
            span, w = _window(f)
            (windows if span == 60000 else windows5).append(w)
        elif tag == "C":
            t_s = int(f[0]) / 1000
            contact = f[1] == "1"
            if contact:
                no_contact.append({"from_s": lost_at, "to_s": t_s})
            else:
                lost_at = t_s
        elif tag == "S":
            summary = _summary([int(x) for x in f], rate_hz, windows)
    if summary and not contact:  # no reading at the end (or at all)
        no_contact.append({"from_s": lost_at, "to_s": summary["duration_s"]})
    return {"beats": beats, "windows": windows, "windows_5min": windows5,
            "no_contact": no_contact, "summary": summary}


def _summary(s, rate_hz, windows):
    samples, n_ok, artefacts, n_diff, sum_rr_us, sum_rr2, sum_d2, nn50 = s
    out = {"duration_s": round(samples / rate_hz, 2), "rate_hz": rate_hz,
           "beats": n_ok, "artefacts": artefacts,
           "hr_bpm": None, "rmssd_ms": None, "sdnn_ms": None, "pnn50": None, "coherence": None}
    if n_ok >= 2:
        mean_rr = sum_rr_us / n_ok / 1000
        out["hr_bpm"] = round(60000 / mean_rr, 1)
        var = (sum_rr2 - n_ok * mean_rr * mean_rr) / (n_ok - 1)
        out["sdnn_ms"] = round(math.sqrt(max(var, 0.0)), 1)
    if n_diff:
        out["rmssd_ms"] = round(math.sqrt(sum_d2 / n_diff), 1)
        out["pnn50"] = round(100 * nn50 / n_diff, 1)
    coh = [w["coherence"] for w in windows if w["coherence"] is not None]
    if coh:
        out["coherence"] = round(sum(coh) / len(coh), 2)
    return out


def _fmt(v, spec):
    return "-" if v is None else format(v, spec)


def format_text(result, out):
    """Human-readable tables: beats, 60 s windows, summary."""
    out.write("beats (t s, RR ms, flag)\n")
    for b in result["beats"]:
        out.write("  %9.3f  %7.1f  %s\n" % (b["t_s"], b["rr_ms"], b["flag"]))
    out.write("windows, 60 s every 5 s (t s, HR bpm, RMSSD ms, SDNN ms, pNN50 %, coherence, resonance Hz)\n")
    for w in result["windows"]:
        out.write("  %7.0f  %6s  %6s  %6s  %5s  %5s  %6s\n" % (
            w["t_s"], _fmt(w["hr_bpm"], ".1f"), _fmt(w["rmssd_ms"], ".1f"), _fmt(w["sdnn_ms"], ".1f"),
            _fmt(w["pnn50"], ".1f"), _fmt(w["coherence"], ".2f"), _fmt(w["resonance_hz"], ".3f")))
    for gap in result["no_contact"]:
        out.write("no reading from %.1f s to %.1f s\n" % (gap["from_s"], gap["to_s"]))
    s = result["summary"]
    out.write("summary: %d s at %d Hz, %d beats, %d artefacts, HR %s bpm, RMSSD %s ms, SDNN %s ms, "
              "pNN50 %s %%, coherence %s\n" % (
                  s["duration_s"], s["rate_hz"], s["beats"], s["artefacts"], _fmt(s["hr_bpm"], ".1f"),
                  _fmt(s["rmssd_ms"], ".1f"), _fmt(s["sdnn_ms"], ".1f"), _fmt(s["pnn50"], ".1f"),
                  _fmt(s["coherence"], ".2f")))
