"""`soothe report` and `soothe summary`: a day (or a range) with Soothe, for the wearer
and for a CMT practitioner.

Per day: time in each state (a heuristic from HR and HRV against the wearer's own
baseline, never a diagnosis), host HRV analysis (analysis.py), prompts and breathing
sessions, data quality (minutes without a reading, artefact-heavy windows, and how far
the device's own per-minute RMSSD is from the host's), and a plain-language paragraph.
The HTML report references PNG files written next to it: no network, no scripts.
"""
import datetime as dt
import html
import os
from pathlib import Path

import numpy as np

from . import analysis, query
from .store import open_private

STATE_COLOURS = {"threat": "#d9534f", "drive": "#4a7bd0", "soothe": "#4caf6a", "no-reading": "#b8b8b8",
                 "unclassified": "#e8e2c8", "balanced": "#d8d4e8", "learning": "#c9b8e8"}
STATE_ORDER = ("threat", "drive", "soothe", "balanced", "learning", "unclassified", "no-reading")
PROMPT_MARKS = {"accepted": ("#2e7d32", "^"), "snoozed": ("#f0a030", "v"), "ignored": ("#777777", "x"),
                "offered": ("#555555", ".")}


class ReportError(Exception):
    pass


# ---- analysis of one day ----------------------------------------------------------------
def _spans(minutes):
    """Merges consecutive minutes of the same state: [(start_s, end_s, state)]."""
    out = []
    for m in minutes:
        t, state = m[0], m[1]
        if out and out[-1][2] == state and t - out[-1][1] < 90:
            out[-1][1] = t + 60
        else:
            out.append([t, t + 60, state])
    return [tuple(s) for s in out]


def _fmt_min(n):
    n = int(round(n))
    return "%d h %02d min" % (n // 60, n % 60) if n >= 60 else "%d min" % n


def analyse_day(db, r):
    mins = query.minutes(db, r)
    if not mins:
        return None
    # Unworn time (minutes with no reading) is left out of every figure.
    beats = query.worn_beats(query.beats(db, r), mins)
    t = np.array([b[0] for b in beats], float)
    rr = np.array([b[1] for b in beats], float)
    fl = np.array([b[2] for b in beats], int)
    runs = analysis.clean_runs(t, rr, fl)
    td = analysis.time_domain_runs(runs) or {}
    pc = analysis.poincare_runs(runs) or {}
    wins = analysis.windows(t, rr, fl)
    valid = [w for w in wins if w["valid"]]

    def wmean(key):
        vals = [w[key] for w in valid if key in w and np.isfinite(w[key])]
        return float(np.mean(vals)) if vals else float("nan")

    states = {s: 0 for s in STATE_ORDER}
    for m in mins:
        states[m[1]] = states.get(m[1], 0) + 1
    spans = _spans(mins)
    longest_threat = max([(e - s) / 60 for s, e, st in spans if st == "threat"] or [0])
    worn = [m for m in mins if m[1] != "no-reading"]
    hr_minutes = np.array([m[3] for m in worn if m[3] > 0])
    resting_hr = float(np.percentile(hr_minutes, 10)) if hr_minutes.size else float("nan")
    # data quality: the device's per-minute RMSSD against the host's on that minute's beats
    diffs = []
    for m in worn:
        sel = (t >= m[0] * 1000) & (t < m[0] * 1000 + 60000)
        mr = analysis.time_domain_runs(analysis.clean_runs(t[sel], rr[sel], fl[sel]))
        if mr and m[4] > 0:
            diffs.append(abs(m[4] - mr["rmssd_ms"]) / mr["rmssd_ms"] * 100 if mr["rmssd_ms"] > 0 else 0)
    prompts = {}
    for _, _, data in query.events(db, r, "prompt"):
        k = bytes(data).decode(errors="replace")
        prompts[k] = prompts.get(k, 0) + 1
    prompt_times = [(ms / 1000.0, bytes(d).decode(errors="replace")) for ms, _, d in query.events(db, r, "prompt")]
    sessions = query.sessions(db, r)
    finder = [bytes(d).decode(errors="replace") for _, _, d in query.events(db, r, "finder")]
    best = [f.split("=", 1)[1] for f in finder if f.startswith("best=")]
    return {
        "day": r.label, "range": r, "minutes": mins, "spans": spans, "beats": beats, "states": states,
        "logged_min": len(mins), "worn_min": len(worn), "no_reading_min": states.get("no-reading", 0),
        "longest_threat_min": longest_threat, "resting_hr": resting_hr, "td": td, "pc": pc,
        "lf_hf": wmean("lf_hf"), "lf_ms2": wmean("lf_ms2"), "hf_ms2": wmean("hf_ms2"), "coherence": wmean("coherence"),
        "windows": len(wins), "valid_windows": len(valid),
        "artefact_pct": 100.0 * float((fl != 0).mean()) if fl.size else 0.0,
        "device_vs_host_pct": float(np.median(diffs)) if diffs else float("nan"),
        "prompts": prompts, "prompt_times": prompt_times, "sessions": sessions,
        "resonance_best": int(best[-1]) / 10.0 if best and best[-1].isdigit() else None,
    }


def paragraph(a):
    """Plain words about the day: honest about data quality, gentle, never a diagnosis."""
    out = []
    worn, logged = a["worn_min"], a["logged_min"]
    out.append("Soothe had a reading for %s of the %s it logged." % (_fmt_min(worn), _fmt_min(logged)))
    if a["no_reading_min"] >= 30:
        out.append("%s without a reading — wear the strap a little tighter, or a little higher on the wrist."
                   % _fmt_min(a["no_reading_min"]))
    if a["valid_windows"] < a["windows"]:
        out.append("%d of %d five-minute stretches had too many irregular beats to analyse and were left out "
                   "rather than guessed." % (a["windows"] - a["valid_windows"], a["windows"]))
    st = a["states"]
    if worn:
        soothe, threat = st.get("soothe", 0), st.get("threat", 0)
        out.append("The soothing system seemed most present for %s (%.0f %%), drive for %s, and the threat "
                   "pattern for %s." % (_fmt_min(soothe), 100.0 * soothe / worn, _fmt_min(st.get("drive", 0)),
                                        _fmt_min(threat)))
        if a["longest_threat_min"] >= 20:
            out.append("The longest threat stretch lasted %s; times like that are a cue for kindness toward "
                       "yourself, not a verdict." % _fmt_min(a["longest_threat_min"]))
    n = len(a["sessions"])
    if n:
        s = a["sessions"]
        up = sum(1 for x in s if x["during_rmssd"] > x["before_rmssd"])
        out.append("You took %d breathing session%s; in %d of them RMSSD rose while you breathed with the pacer."
                   % (n, "" if n == 1 else "s", up))
    p = a["prompts"]
    if p.get("offered"):
        out.append("Soothe offered %d prompt%s: %d accepted, %d snoozed, %d let pass. All three are fine answers."
                   % (p["offered"], "" if p["offered"] == 1 else "s", p.get("accepted", 0), p.get("snoozed", 0),
                      p.get("ignored", 0)))
    out.append("Colours are a heuristic from heart rate and HRV against your own baseline, not a diagnosis.")
    return " ".join(out)


# ---- plots ---------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _times(unix_s):
    return [dt.datetime.fromtimestamp(x) for x in unix_s]


def plot_timeline(a, path):
    plt = _plt()
    import matplotlib.dates as mdates

    mins = a["minutes"]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 4.6), sharex=True)
    for ax in (ax1, ax2):
        for s, e, st in a["spans"]:
            ax.axvspan(dt.datetime.fromtimestamp(s), dt.datetime.fromtimestamp(e), color=STATE_COLOURS.get(st, "#ddd"),
                       alpha=0.35, lw=0)
        for sess in a["sessions"]:
            ax.axvspan(dt.datetime.fromtimestamp(sess["unix_s"]),
                       dt.datetime.fromtimestamp(sess["unix_s"] + sess["duration_s"]), color="#7b5ea7", alpha=0.35)
    worn = [m for m in mins if m[1] != "no-reading" and m[3] > 0]
    tt = _times([m[0] + 30 for m in worn])
    ax1.plot(tt, [m[3] for m in worn], color="#222", lw=1)
    ax1.set_ylabel("HR (bpm)")
    ax2.plot(tt, [m[4] for m in worn], color="#222", lw=1)
    ax2.set_ylabel("RMSSD (ms)")
    if worn:
        lo, hi = ax1.get_ylim()
        for ts, kind in a["prompt_times"]:
            c, mk = PROMPT_MARKS.get(kind, ("#000", "o"))
            ax1.plot([dt.datetime.fromtimestamp(ts)], [hi - 0.05 * (hi - lo)], marker=mk, color=c, ms=8, ls="")
    handles = [plt.Rectangle((0, 0), 1, 1, color=STATE_COLOURS[s], alpha=0.5) for s in STATE_ORDER]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#7b5ea7", alpha=0.5))
    labels = list(STATE_ORDER) + ["breathing session"]
    for kind in ("accepted", "snoozed", "ignored"):
        c, mk = PROMPT_MARKS[kind]
        handles.append(plt.Line2D([], [], marker=mk, color=c, ls=""))
        labels.append("prompt " + kind)
    fig.legend(handles, labels, loc="upper center", ncol=5, fontsize=8, frameon=False)
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    fig.tight_layout(rect=(0, 0, 1, 0.88))
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_states(a, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 1.9))
    left = 0
    for s in STATE_ORDER:
        n = a["states"].get(s, 0)
        if n:
            ax.barh([0], [n], left=left, color=STATE_COLOURS[s], label="%s %s" % (s, _fmt_min(n)))
            left += n
    ax.set_yticks([])
    ax.set_xlabel("minutes")
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, 1.6), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_session(a, sess, path):
    plt = _plt()
    s0, s1 = sess["unix_s"], sess["unix_s"] + sess["duration_s"]
    beats = [b for b in a["beats"] if (s0 - 60) * 1000 <= b[0] < (s1 + 60) * 1000 and b[2] == 0]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2), gridspec_kw={"width_ratios": [2.2, 1]})
    if beats:
        x = [(b[0] / 1000.0 - s0) for b in beats]
        ax1.plot(x, [60000.0 / b[1] for b in beats], color="#222", lw=1)
    ax1.axvspan(0, sess["duration_s"], color="#7b5ea7", alpha=0.2, label="pacer %.1f/min" % sess["rate_bpm"])
    ax1.set_xlabel("seconds from the start of the session")
    ax1.set_ylabel("HR (bpm), beat to beat")
    ax1.set_title("pacer %.1f breaths/min, heart followed at %.1f/min" % (sess["rate_bpm"], sess["resonance_hz"] * 60),
                  fontsize=9)
    ax1.legend(fontsize=8, loc="lower right")
    xs = np.arange(3)
    ax2.bar(xs - 0.2, [sess["before_rmssd"], sess["during_rmssd"], sess["after_rmssd"]], 0.4, color="#4caf6a",
            label="RMSSD (ms)")
    ax3 = ax2.twinx()
    ax3.bar(xs + 0.2, [sess["before_coh"], sess["during_coh"], sess["after_coh"]], 0.4, color="#7b5ea7",
            label="coherence")
    ax2.set_xticks(xs)
    ax2.set_xticklabels(["before", "during", "after"])
    ax2.set_ylabel("RMSSD (ms)", color="#2e7d32")
    ax3.set_ylabel("coherence", color="#7b5ea7")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_trends(days, path):
    plt = _plt()
    x = [dt.date.fromisoformat(a["day"]) for a in days]
    series = [
        ("resting HR (bpm)", [a["resting_hr"] for a in days]),
        ("RMSSD (ms)", [a["td"].get("rmssd_ms", np.nan) for a in days]),
        ("time in soothe (%)", [100.0 * a["states"].get("soothe", 0) / max(a["worn_min"], 1) for a in days]),
        ("sessions per day", [len(a["sessions"]) for a in days]),
        ("prompts accepted (%)", [100.0 * a["prompts"].get("accepted", 0) / a["prompts"]["offered"]
                                  if a["prompts"].get("offered") else np.nan for a in days]),
        ("resonance rate found (/min)", [a["resonance_best"] if a["resonance_best"] else np.nan for a in days]),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(11, 4.8))
    for ax, (label, ys) in zip(axes.flat, series):
        ax.plot(x, ys, marker="o", color="#4a7bd0")
        ax.set_title(label, fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# ---- HTML ----------------------------------------------------------------------------
def _f(v, fmt="%.1f"):
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else fmt % v


def _day_html(a, files):
    e = html.escape
    td, pc = a["td"], a["pc"]
    rows = [("mean HR", _f(td.get("hr_bpm"), "%.1f bpm")), ("resting HR (10th percentile of minutes)",
                                                            _f(a["resting_hr"], "%.1f bpm")),
            ("SDNN", _f(td.get("sdnn_ms"), "%.1f ms")), ("RMSSD", _f(td.get("rmssd_ms"), "%.1f ms")),
            ("pNN50", _f(td.get("pnn50"), "%.1f %%")), ("LF / HF (mean of valid 5 min windows)", _f(a["lf_hf"], "%.2f")),
            ("LF, HF power", "%s, %s" % (_f(a["lf_ms2"], "%.0f ms²"), _f(a["hf_ms2"], "%.0f ms²"))),
            ("Poincaré SD1 / SD2", "%s / %s" % (_f(pc.get("sd1_ms"), "%.1f ms"), _f(pc.get("sd2_ms"), "%.1f ms"))),
            ("coherence (mean of valid windows)", _f(a["coherence"], "%.2f")),
            ("valid 5 min windows", "%d of %d" % (a["valid_windows"], a["windows"])),
            ("flagged beats", "%.1f %%" % a["artefact_pct"]),
            ("device vs host RMSSD per minute (median difference)", _f(a["device_vs_host_pct"], "%.1f %%"))]
    states = "".join("<tr><td><span class=sw style='background:%s'></span>%s</td><td>%s</td><td>%.0f %%</td></tr>"
                     % (STATE_COLOURS[s], s, _fmt_min(a["states"].get(s, 0)),
                        100.0 * a["states"].get(s, 0) / max(a["logged_min"], 1)) for s in STATE_ORDER)
    out = ["<section><h2>%s</h2>" % e(a["day"]), "<p class=words>%s</p>" % e(paragraph(a)),
           "<img src='%s' alt='HR and RMSSD over the day, coloured by state'>" % files["timeline"],
           "<div class=cols><div><h3>Time in each state</h3><table>%s</table>"
           "<p>longest threat stretch: %s</p><img src='%s' alt='time in each state'></div>"
           % (states, _fmt_min(a["longest_threat_min"]), files["states"]),
           "<div><h3>HRV (host analysis)</h3><table>%s</table></div></div>"
           % "".join("<tr><td>%s</td><td>%s</td></tr>" % (e(k), e(v)) for k, v in rows)]
    if a["sessions"]:
        out.append("<h3>Breathing sessions</h3>")
        for sess, img in zip(a["sessions"], files["sessions"]):
            out.append("<p>%s, %s, %d s at %.1f/min%s: RMSSD %.1f → %.1f → %.1f ms, coherence %.2f → %.2f → %.2f</p>"
                       "<img src='%s' alt='session heart rate'>" % (
                           query.local_time(sess["unix_s"], "%H:%M"), e(sess["kind"]), sess["duration_s"],
                           sess["rate_bpm"], "" if sess["completed"] else " (stopped early)", sess["before_rmssd"],
                           sess["during_rmssd"], sess["after_rmssd"], sess["before_coh"], sess["during_coh"],
                           sess["after_coh"], img))
    else:
        out.append("<p>No breathing session this day.</p>")
    out.append("</section>")
    return "\n".join(out)


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:auto;padding:1em;color:#222}
img{max-width:100%}table{border-collapse:collapse}td{padding:2px 10px;border-bottom:1px solid #eee}
.cols{display:flex;gap:2em;flex-wrap:wrap}.words{font-size:1.05em;line-height:1.5;background:#f5f7f2;padding:.8em}
.sw{display:inline-block;width:.9em;height:.9em;margin-right:.4em;vertical-align:middle}"""


def build_report(db, r, out_dir, progress=None):
    """Writes index.html and PNGs into out_dir; returns the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(out_dir, 0o700)
    day_ranges = list(r.day_ranges())
    days = []
    for i, dr in enumerate(day_ranges):
        a = analyse_day(db, dr)
        if a:
            files = {"timeline": "timeline-%s.png" % a["day"], "states": "states-%s.png" % a["day"], "sessions": []}
            plot_timeline(a, out_dir / files["timeline"])
            plot_states(a, out_dir / files["states"])
            for sess in a["sessions"]:
                name = "session-%s.png" % query.local_time(sess["unix_s"], "%Y-%m-%d-%H%M%S")
                plot_session(a, sess, out_dir / name)
                files["sessions"].append(name)
            a["files"] = files
            days.append(a)
        if progress:
            progress(i + 1, len(day_ranges))
    if not days:
        raise ReportError("no data for %s in %s: sync first, or pick a range with data (soothe sessions lists days)"
                          % (r.device_id, r.label))
    parts = ["<!doctype html><html lang=en><head><meta charset=utf-8><title>Soothe report %s</title>"
             "<style>%s</style></head><body>" % (html.escape(r.label), CSS),
             "<h1>Soothe: %s</h1><p>device %s · %d day(s) with data</p>" % (html.escape(r.label),
                                                                           html.escape(r.device_id), len(days))]
    if len(days) >= 2:
        plot_trends(days, out_dir / "trends.png")
        parts.append("<section><h2>Across the days</h2><img src='trends.png' alt='trends across days'></section>")
    else:
        parts.append("<p>Trends across days appear once there are two days of data.</p>")
    parts += [_day_html(a, a["files"]) for a in days]
    parts.append("<footer><p>Threat, drive and soothe are a heuristic reading of heart rate and HRV against the "
                 "wearer's own baseline (Gilbert's three systems), not a diagnosis. HRV here: time domain and "
                 "Poincaré on clean beats only; LF/HF from RR resampled at 4 Hz (cubic Hermite) and Welch "
                 "(256 s Hann segments) in 5 min windows with at most 5 % flagged beats; other windows are "
                 "left out, not smoothed over.</p></footer></body></html>")
    index = out_dir / "index.html"
    with open_private(index, encoding="utf-8") as f:
        f.write("\n".join(parts))
    for p in out_dir.glob("*.png"):
        os.chmod(p, 0o600)
    return index


def summary_rows(db, r):
    return [a for a in (analyse_day(db, dr) for dr in r.day_ranges()) if a]


def print_summary(db, r, console):
    from rich.table import Table

    days = summary_rows(db, r)
    if not days:
        raise ReportError("no data for %s in %s: sync first, or pick a range with data" % (r.device_id, r.label))
    t = Table(title="Soothe summary · %s · %s" % (r.device_id, r.label))
    for col in ("day", "reading", "no reading", "HR", "rest HR", "RMSSD", "SDNN", "LF/HF", "SD1", "threat", "drive",
                "soothe", "longest threat", "sessions", "prompts acc/offered", "valid windows"):
        t.add_column(col, justify="right" if col != "day" else "left")
    for a in days:
        st, td = a["states"], a["td"]
        t.add_row(a["day"], _fmt_min(a["worn_min"]), _fmt_min(a["no_reading_min"]), _f(td.get("hr_bpm")),
                  _f(a["resting_hr"]), _f(td.get("rmssd_ms")), _f(td.get("sdnn_ms")), _f(a["lf_hf"], "%.2f"),
                  _f(a["pc"].get("sd1_ms")), _fmt_min(st.get("threat", 0)), _fmt_min(st.get("drive", 0)),
                  _fmt_min(st.get("soothe", 0)), _fmt_min(a["longest_threat_min"]), str(len(a["sessions"])),
                  "%d/%d" % (a["prompts"].get("accepted", 0), a["prompts"].get("offered", 0)),
                  "%d/%d" % (a["valid_windows"], a["windows"]))
    console.print(t)
    for a in days:
        console.print("[bold]%s[/bold] %s" % (a["day"], paragraph(a)))
    return days
