"""`soothe report` and `soothe summary`: a day (or a range) with Soothe, for the wearer
and for a CMT practitioner.

Per day: time in each state (a heuristic from HR and HRV against the wearer's own
baseline, never a diagnosis) as a share of WORN time, host HRV analysis (analysis.py),
prompts and breathing sessions, data quality (unworn minutes, artefact-heavy windows, and
how far the device's per-minute RMSSD is from the host's), and a plain-language paragraph.
The HTML page is responsive (viewport tag, one column on a phone) and references SVG
plots written next to it, each with a narrow variant for phones: no network, no scripts.
Times are this computer's local time; the zone is named on the page.
"""
import datetime as dt
import html
import os
from pathlib import Path

import numpy as np

from . import analysis, query
from . import marks as marks_mod
from soothe_fw.log import records
from .store import ensure_private_dir, open_private

# State -> (colour, matplotlib hatch, CSS pattern, words).  The hatch/pattern is the second
# cue beside colour, so red and green are never told apart by colour alone.  States the
# firmware adds later (records.STATE_NAMES) get a fallback from _EXTRA_STYLES.
def _stripes(*angles):
    return ",".join("repeating-linear-gradient(%s,rgba(0,0,0,.3) 0 1.5px,transparent 1.5px 6px)" % a for a in angles)


STATE_STYLE = {
    "threat": ("#d9534f", "xx", _stripes("45deg", "-45deg"),
               "heart rate up and HRV down against your own baseline, while not moving much: the threat system "
               "may be active"),
    "drive": ("#4a7bd0", "--", _stripes("0deg"), "heart rate up with HRV kept: activity, effort, wanting and doing"),
    "soothe": ("#4caf6a", "//", _stripes("-45deg"),
               "heart rate at or below baseline with HRV up: the soothing, settled system"),
    "balanced": ("#d8d4e8", "\\\\", _stripes("45deg"),
                 "close to your own baseline: none of the three systems stands out"),
    "learning": ("#c9b8e8", "++", _stripes("0deg", "90deg"),
                 "Soothe is still learning your baseline, so it does not classify yet"),
    "unclassified": ("#e8e2c8", "||", _stripes("90deg"),
                     "a pulse is found but there is no state yet (the first moments after putting it on)"),
    "no-reading": ("#c8c8c8", "", "none",
                   "unworn or no pulse found (strap off, or not in contact): no heart figures for these minutes"),
}
_EXTRA_STYLES = [("#b07cc6", "x", _stripes("30deg")), ("#8d6e63", "+", _stripes("60deg"))]
UNWORN = "no-reading"
PROMPT_MARKS = {"accepted": ("#2e7d32", "^"), "snoozed": ("#e08a00", "v"), "ignored": ("#555555", "x"),
                "offered": ("#222222", "|")}
SESSION_COLOUR = "#7b5ea7"
MARK_COLOUR = "#00695c"  # a marked moment: a dashed line and a diamond (shape, not colour alone)
COHERENCE_BASIC, COHERENCE_VERY_GOOD = 0.5, 2.0  # HeartMath-style guide values (field notes)


class ReportError(Exception):
    pass


def state_names():
    """Every state the firmware knows, in its order (states the store holds beyond these are
    appended where they are listed)."""
    return list(records.STATE_NAMES)


def state_style(name):
    if name in STATE_STYLE:
        return STATE_STYLE[name]
    extra = [s for s in state_names() if s not in STATE_STYLE]
    colour, hatch, css = _EXTRA_STYLES[(extra.index(name) if name in extra else len(name)) % len(_EXTRA_STYLES)]
    return colour, hatch, css, "a state this report has no description for yet"


def state_label(name):
    return "unworn / no reading" if name == UNWORN else name


def pct_of_worn(n_min, worn_min):
    """THE percentage used everywhere on the page and in `summary`: share of worn minutes, rounded."""
    return int(round(100.0 * n_min / worn_min)) if worn_min else 0


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


def _num(v):
    return v is not None and v > 0


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
    # An invalid window either overlaps unworn time / has too few beats, or had too many
    # flagged beats while worn (only that one is worth a hint about the strap).
    unworn_ms = [m[0] * 1000 for m in mins if m[1] == UNWORN]

    def touches_unworn(w):
        return any(w["t_ms"] - 60000 < u < w["t_ms"] + 300000 for u in unworn_ms)

    sparse = [w for w in wins if not w["valid"] and (w["beats"] < 60 or touches_unworn(w))]
    irregular = [w for w in wins if not w["valid"] and w not in sparse]

    def wmean(key):
        vals = [w[key] for w in valid if key in w and np.isfinite(w[key])]
        return float(np.mean(vals)) if vals else float("nan")

    states = {s: 0 for s in state_names()}
    for m in mins:
        states[m[1]] = states.get(m[1], 0) + 1
    spans = _spans(mins)
    longest_threat = max([(e - s) / 60 for s, e, st in spans if st == "threat"] or [0])
    worn = [m for m in mins if m[1] != UNWORN]
    hr_minutes = np.array([m[3] for m in worn if _num(m[3])])
    resting_hr = float(np.percentile(hr_minutes, 10)) if hr_minutes.size else float("nan")
    # data quality: the device's per-minute RMSSD against the host's on that minute's beats
    diffs = []
    for m in worn:
        sel = (t >= m[0] * 1000) & (t < m[0] * 1000 + 60000)
        mr = analysis.time_domain_runs(analysis.clean_runs(t[sel], rr[sel], fl[sel]))
        if mr and _num(m[4]) and mr["rmssd_ms"] > 0:
            diffs.append(abs(m[4] - mr["rmssd_ms"]) / mr["rmssd_ms"] * 100)
    prompts = {}
    prompt_times = []
    for ms, _, data in query.events(db, r, "prompt"):
        k = bytes(data).decode(errors="replace")
        prompts[k] = prompts.get(k, 0) + 1
        prompt_times.append((ms / 1000.0, k))
    sessions = query.sessions(db, r)
    finder = [bytes(d).decode(errors="replace") for _, _, d in query.events(db, r, "finder")]
    best = [f.split("=", 1)[1] for f in finder if f.startswith("best=")]
    return {
        "day": r.label, "range": r, "minutes": mins, "spans": spans, "beats": beats, "states": states,
        "logged_min": len(mins), "worn_min": len(worn), "no_reading_min": states.get(UNWORN, 0),
        "longest_threat_min": longest_threat, "resting_hr": resting_hr, "td": td, "pc": pc,
        "lf_hf": wmean("lf_hf"), "lf_ms2": wmean("lf_ms2"), "hf_ms2": wmean("hf_ms2"), "coherence": wmean("coherence"),
        "windows": len(wins), "valid_windows": len(valid), "sparse_windows": len(sparse),
        "irregular_windows": len(irregular),
        "artefact_pct": 100.0 * float((fl != 0).mean()) if fl.size else 0.0,
        "device_vs_host_pct": float(np.median(diffs)) if diffs else float("nan"),
        "prompts": prompts, "prompt_times": prompt_times, "sessions": sessions,
        "marks": marks_mod.marks_in(db, r),
        "resonance_best": int(best[-1]) / 10.0 if best and best[-1].isdigit() else None,
    }


def paced(sess):
    """True for a practice with a breathing rhythm on the motor (breathing; imagery's slow rhythm)."""
    return _practice(sess) in ("breathing", "imagery") and (sess.get("rate_bpm") or 0) > 0


def followed(sess):
    """True when the heart's rhythm peaked within 0.6 breaths/min of the pacer."""
    res = (sess.get("resonance_hz") or 0) * 60
    return res > 0 and abs(res - sess["rate_bpm"]) <= 0.6


def _practice(sess):
    return sess.get("practice") or "breathing"


SESSION_STARTS = {"manual": "you started it", "prompted": "after a prompt", "finder": "the resonance finder",
                  "mark": "offered after you marked a moment"}


def session_words(sess):
    """One sentence per session, naming before / during / after."""
    e = html.escape
    if _practice(sess) == "breathing":
        parts = ["%s, %s session, %d s at %.1f breaths/min%s." % (
            query.local_time(sess["unix_s"], "%H:%M"),
            "breathing" if sess["kind"] == "mark" else e(sess["kind"]), sess["duration_s"], sess["rate_bpm"],
            "" if sess["completed"] else " (stopped early)")]
        if sess["kind"] == "mark":
            parts[0] = parts[0][:-1] + ", offered after you marked a moment."
    else:
        from .programme import PRACTICE_WORDS

        parts = ["%s, %s (%s), %d s%s." % (
            query.local_time(sess["unix_s"], "%H:%M"), e(PRACTICE_WORDS.get(_practice(sess), _practice(sess))),
            e(SESSION_STARTS.get(sess["kind"], sess["kind"])), sess["duration_s"],
            "" if sess["completed"] else " (ended early, which is fine)")]
    parts.append("RMSSD before %s, during %s, after %s; coherence before %s, during %s, after %s." % (
        _f(sess["before_rmssd"], "%.1f ms"), _f(sess["during_rmssd"], "%.1f ms"), _f(sess["after_rmssd"], "%.1f ms"),
        _f(sess["before_coh"], "%.2f"), _f(sess["during_coh"], "%.2f"), _f(sess["after_coh"], "%.2f")))
    res = (sess.get("resonance_hz") or 0) * 60
    if not paced(sess):
        pass  # no breathing pacer in this practice: nothing to follow
    elif followed(sess):
        parts.append("Your heart rhythm followed the pacer (its strongest swing was at %.1f/min)." % res)
    elif res > 0:
        parts.append("Your heart rhythm did not clearly follow the pacer this time (its strongest swing was at "
                     "%.1f/min, not %.1f); that is common and fine." % (res, sess["rate_bpm"]))
    return " ".join(parts)


def paragraph(a):
    """Plain words about the day: honest about data quality, gentle, never a diagnosis."""
    out = []
    worn, logged = a["worn_min"], a["logged_min"]
    out.append("Soothe was worn with a reading for %s of the %s it logged." % (_fmt_min(worn), _fmt_min(logged)))
    if a["no_reading_min"]:
        out.append("%s unworn or without a pulse reading; those minutes carry no heart figures."
                   % _fmt_min(a["no_reading_min"]))
    if a["irregular_windows"]:
        out.append("%d of %d five-minute stretches had too many irregular beats to analyse and were left out "
                   "rather than guessed; if that happens while you sit still, wear the strap a little tighter."
                   % (a["irregular_windows"], a["windows"]))
    st = a["states"]
    if worn:
        names = [s for s in state_names() if s != UNWORN and st.get(s)]
        if names:
            out.append("Of the worn time: " + ", ".join(
                "%s %d %% (%s)" % (s, pct_of_worn(st[s], worn), _fmt_min(st[s])) for s in names) + ".")
        if a["longest_threat_min"] >= 20:
            out.append("The longest threat stretch lasted %s; times like that are a cue for kindness toward "
                       "yourself, not a verdict." % _fmt_min(a["longest_threat_min"]))
    n = len(a["sessions"])
    if n:
        s = a["sessions"]
        up = sum(1 for x in s if _num(x["during_rmssd"]) and _num(x["before_rmssd"])
                 and x["during_rmssd"] > x["before_rmssd"])
        if all(_practice(x) == "breathing" for x in s):
            out.append("You took %d breathing session%s; in %d of them RMSSD was higher during the session than "
                       "before it." % (n, "" if n == 1 else "s", up))
        else:
            from .programme import PRACTICE_WORDS

            kinds = []
            for x in s:
                if PRACTICE_WORDS.get(_practice(x), _practice(x)) not in kinds:
                    kinds.append(PRACTICE_WORDS.get(_practice(x), _practice(x)))
            out.append("You did %d practice%s (%s); in %d of them RMSSD was higher during the practice than "
                       "before it." % (n, "" if n == 1 else "s", ", ".join(kinds), up))
    if a.get("marks"):
        out.append("You marked %d moment%s." % (len(a["marks"]), "" if len(a["marks"]) == 1 else "s"))
    p = a["prompts"]
    if p.get("offered"):
        out.append("Soothe offered %d prompt%s: %d accepted, %d snoozed, %d let pass. All three are fine answers."
                   % (p["offered"], "" if p["offered"] == 1 else "s", p.get("accepted", 0), p.get("snoozed", 0),
                      p.get("ignored", 0)))
    out.append("Colours are a heuristic from heart rate and HRV against your own baseline, not a diagnosis.")
    return " ".join(out)


# ---- plots (SVG: sharp at any width; a narrow variant for phones) ------------------------
def _plt(narrow=False):
    """pyplot set up for SVG; a narrow (phone) figure is drawn ~0.8x, so its type is larger."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = 12.5 if narrow else 10
    matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "soothe", "font.size": size,
                                "legend.fontsize": size - 1, "axes.titlesize": size, "font.family": "sans-serif",
                                "hatch.linewidth": 0.6})
    return plt


def _dt(unix_s):
    return dt.datetime.fromtimestamp(unix_s)


def _save(fig, path):
    fig.savefig(path, format="svg", metadata={"Date": None})
    import matplotlib.pyplot as plt

    plt.close(fig)


def _line_with_gaps(minutes, idx):
    """x, y for a per-minute series with NaN where minutes are missing or unworn (a gap, not a line)."""
    xs, ys, prev = [], [], None
    for m in minutes:
        v = m[idx] if m[1] != UNWORN else None
        if prev is not None and m[0] - prev > 90:
            xs.append(_dt(prev + 60))
            ys.append(np.nan)
        xs.append(_dt(m[0] + 30))
        ys.append(v if _num(v) else np.nan)
        prev = m[0]
    return xs, ys


def plot_timeline(a, path, narrow=False):
    plt = _plt(narrow)
    import matplotlib.dates as mdates

    mins = a["minutes"]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(4.8, 6.2) if narrow else (10, 4.6), sharex=True)
    present = []
    for ax in (ax1, ax2):
        for s, e, st in a["spans"]:
            colour, hatch = state_style(st)[:2]
            ax.axvspan(_dt(s), _dt(e), facecolor=colour, alpha=0.5, lw=0, hatch=hatch or None,
                       edgecolor="#00000070")
            if st not in present:
                present.append(st)
        for sess in a["sessions"]:
            ax.axvspan(_dt(sess["unix_s"]), _dt(sess["unix_s"] + sess["duration_s"]), facecolor="none",
                       edgecolor=SESSION_COLOUR, lw=2)
    x, y = _line_with_gaps(mins, 3)
    ax1.plot(x, y, color="#222", lw=1)
    ax1.set_ylabel("HR (bpm)")
    x, y = _line_with_gaps(mins, 4)
    ax2.plot(x, y, color="#222", lw=1)
    ax2.set_ylabel("RMSSD (ms)")
    for m in a.get("marks", []):
        for ax in (ax1, ax2):
            ax.axvline(_dt(m["unix_ms"] / 1000.0), color=MARK_COLOUR, lw=1.2, ls="--")
        lo, hi = ax2.get_ylim()
        ax2.plot([_dt(m["unix_ms"] / 1000.0)], [hi - 0.07 * (hi - lo)], marker="D", color=MARK_COLOUR, ms=7, ls="")
    kinds = []
    if a["prompt_times"]:
        lo, hi = ax1.get_ylim()
        for ts, kind in a["prompt_times"]:
            c, mk = PROMPT_MARKS.get(kind, ("#000", "o"))
            ax1.plot([_dt(ts)], [hi - 0.06 * (hi - lo)], marker=mk, color=c, ms=7, ls="")
            if kind not in kinds:
                kinds.append(kind)
    handles, labels = [], []
    for st in [s for s in state_names() if s in present] + [s for s in present if s not in state_names()]:
        colour, hatch = state_style(st)[:2]
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor=colour, alpha=0.6, hatch=hatch or None,
                                     edgecolor="#00000060"))
        labels.append(state_label(st))
    if a["sessions"]:
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="none", edgecolor=SESSION_COLOUR, lw=2))
        labels.append("breathing session" if all(_practice(x) == "breathing" for x in a["sessions"])
                      else "practice")
    if a.get("marks"):
        handles.append(plt.Line2D([], [], marker="D", color=MARK_COLOUR, ls="--", lw=1.2))
        labels.append("moment you marked")
    for kind in kinds:
        c, mk = PROMPT_MARKS.get(kind, ("#000", "o"))
        handles.append(plt.Line2D([], [], marker=mk, color=c, ls=""))
        labels.append("prompt " + kind)
    ncol = 2 if narrow else min(5, max(1, len(labels)))
    rows = (len(labels) + ncol - 1) // ncol
    row_in = plt.rcParams["legend.fontsize"] * 1.55 / 72  # one legend row, inches
    top = 1 - (rows * row_in + 0.12) / fig.get_figheight()
    fig.legend(handles, labels, loc="upper center", ncol=ncol, frameon=False)
    ax2.xaxis.set_major_locator(_time_ticks(mins[0][0], mins[-1][0] + 60, 4 if narrow else 9))
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax2.set_xlabel("local time (%s)" % query.zone_label(a["range"].start))
    fig.tight_layout(rect=(0, 0, 1, top))
    _save(fig, path)


def _time_ticks(start_s, end_s, most):
    """A clock-time locator with at most `most` ticks on whole hours (or 10/15/30 min for short spans)."""
    import matplotlib.dates as mdates

    span_min = max(1, (end_s - start_s) / 60)
    for step in (5, 10, 15, 30, 60, 120, 180, 240, 360, 480, 720):
        if span_min / step <= most:
            break
    if step < 60:
        return mdates.MinuteLocator(byminute=range(0, 60, step))
    return mdates.HourLocator(byhour=range(0, 24, step // 60))


def plot_session(a, sess, path, narrow=False):
    plt = _plt(narrow)
    s0, s1 = sess["unix_s"], sess["unix_s"] + sess["duration_s"]
    beats = [b for b in a["beats"] if (s0 - 60) * 1000 <= b[0] < (s1 + 60) * 1000 and b[2] == 0]
    if narrow:
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(4.8, 5.6), gridspec_kw={"height_ratios": [1.4, 1]})
    else:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [2.2, 1]})
    if beats:
        x = [(b[0] / 1000.0 - s0) for b in beats]
        ax1.plot(x, [60000.0 / b[1] for b in beats], color="#222", lw=1, label="heart rate, beat to beat")
    ax1.axvspan(0, sess["duration_s"], color=SESSION_COLOUR, alpha=0.18,
                label="pacer %.1f breaths/min" % sess["rate_bpm"] if paced(sess) else "the practice")
    ax1.set_xlabel("seconds from the start of the session")
    ax1.set_ylabel("HR (bpm)")
    if paced(sess):
        ax1.set_title("heart followed the pacer" if followed(sess) else "heart did not clearly follow the pacer")
    else:
        from .programme import PRACTICE_WORDS

        ax1.set_title(PRACTICE_WORDS.get(_practice(sess), _practice(sess)))
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3 if narrow else -0.22), ncol=1 if narrow else 2,
               frameon=False)
    xs = np.arange(3)
    vals = [sess["before_rmssd"], sess["during_rmssd"], sess["after_rmssd"]]
    cohs = [sess["before_coh"], sess["during_coh"], sess["after_coh"]]
    ax2.bar(xs - 0.2, [v if _num(v) else 0 for v in vals], 0.4, color="#4caf6a", hatch="//", edgecolor="#1b5e20",
            label="RMSSD (ms, left axis)")
    ax3 = ax2.twinx()
    ax3.bar(xs + 0.2, [v if _num(v) else 0 for v in cohs], 0.4, color=SESSION_COLOUR, label="coherence (right axis)")
    ax3.axhline(COHERENCE_BASIC, color=SESSION_COLOUR, ls=":", lw=1)
    ax3.set_ylim(0, max(2.2, max([c or 0 for c in cohs]) * 1.15))
    ax2.set_xticks(xs)
    ax2.set_xticklabels(["before", "during", "after"])
    ax2.set_ylabel("RMSSD (ms)")
    ax3.set_ylabel("coherence")
    h1, l1 = ax2.get_legend_handles_labels()
    h2, l2 = ax3.get_legend_handles_labels()
    ax2.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1,
               frameon=False)
    fig.tight_layout()
    _save(fig, path)


TREND_MIN_SPAN = {"resting HR (bpm)": 10.0, "RMSSD (ms)": 20.0, "time in soothe (% of worn time)": 100.0,
                  "breathing sessions": 3.0, "prompts accepted (% of offered)": 100.0,
                  "resonance rate found (breaths/min)": 3.0}
TREND_EMPTY = {"prompts accepted (% of offered)": "no prompt was offered in this range",
               "resonance rate found (breaths/min)": "no resonance finder run finished in this range "
                                                     "(start one with `soothe finder`)",
               "breathing sessions": "no day with a reading in this range"}


def trend_series(days, all_days):
    """{label: [value or nan per calendar day]}; a day without worn time is nan (a gap)."""
    by_day = {a["day"]: a for a in days}
    out = {k: [] for k in TREND_MIN_SPAN}
    for d in all_days:
        a = by_day.get(d.isoformat())
        worn = a is not None and a["worn_min"] > 0
        nan = np.nan
        out["resting HR (bpm)"].append(a["resting_hr"] if worn else nan)
        out["RMSSD (ms)"].append(a["td"].get("rmssd_ms", nan) if worn else nan)
        out["time in soothe (% of worn time)"].append(pct_of_worn(a["states"].get("soothe", 0), a["worn_min"])
                                                      if worn else nan)
        out["breathing sessions"].append(len(a["sessions"]) if worn else nan)
        off = a["prompts"].get("offered") if a else 0
        out["prompts accepted (% of offered)"].append(100.0 * a["prompts"].get("accepted", 0) / off if off else nan)
        out["resonance rate found (breaths/min)"].append(a["resonance_best"] if a and a["resonance_best"] else nan)
    return out


def plot_trends(days, path, all_days=None, narrow=False):
    plt = _plt(narrow)
    import matplotlib.dates as mdates

    all_days = all_days or [dt.date.fromisoformat(a["day"]) for a in days]
    series = trend_series(days, all_days)
    x = [dt.datetime(d.year, d.month, d.day, 12) for d in all_days]  # each point at midday of its day
    rows, cols = (6, 1) if narrow else (2, 3)
    fig, axes = plt.subplots(rows, cols, figsize=(4.8, 11) if narrow else (10, 5.4), sharex=not narrow)
    for ax, (label, ys) in zip(np.ravel(axes), series.items()):
        ys = np.array(ys, float)
        ax.set_title(label)
        x0 = dt.datetime.combine(all_days[0], dt.time()) - dt.timedelta(hours=6)
        x1 = dt.datetime.combine(all_days[-1], dt.time()) + dt.timedelta(days=1, hours=6)
        ax.set_xlim(x0, x1)
        loc = mdates.DayLocator(interval=max(1, -(-len(all_days) // (5 if narrow else 4))))
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b" if narrow else "%d\n%b"))
        ax.tick_params(axis="x", labelsize="small")
        if not np.isfinite(ys).any():
            ax.set_yticks([])
            import textwrap

            ax.text(0.5, 0.5, "\n".join(textwrap.wrap(TREND_EMPTY.get(label, "no worn day in this range"), 30)),
                    transform=ax.transAxes, ha="center", va="center", fontsize="small", color="#555")
            continue
        ax.plot(x, ys, marker="o", color="#4a7bd0")
        span = TREND_MIN_SPAN[label]
        lo, hi = np.nanmin(ys), np.nanmax(ys)
        if label.endswith("% of worn time)") or label.endswith("% of offered)"):
            ax.set_ylim(-5, 105)
        elif hi - lo < span:
            mid = (hi + lo) / 2
            bottom = max(0.0, mid - span / 2)
            ax.set_ylim(bottom, bottom + span)
        if label == "breathing sessions":
            ax.yaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    _save(fig, path)


# State-free hatches for the practice kinds and tags (the second cue beside colour).
_KIND_STYLE = [("#7b5ea7", "//"), ("#4caf6a", "\\\\"), ("#e0a040", ".."), ("#4a7bd0", "xx"), ("#b07cc6", "--"),
               ("#8d6e63", "++")]


def plot_programme(view, path, narrow=False):
    """Three panels over the range's days: practice minutes by kind, marks by tag, and
    resting RMSSD (each day's median with its 95 % interval; the fitted line and its 95 %
    band when there are enough days)."""
    plt = _plt(narrow)
    import matplotlib.dates as mdates

    from .programme import PRACTICE_WORDS, TREND_MIN_DAYS

    days = view["days"]
    x = [dt.datetime.fromisoformat(d["day"]) + dt.timedelta(hours=12) for d in days]
    fig, axes = plt.subplots(3, 1, figsize=(4.8, 13) if narrow else (10, 7.6), sharex=True)
    ax_p, ax_m, ax_r = axes

    def stacked(ax, keys, values, names, title):
        bottom = np.zeros(len(days))
        for i, k in enumerate(keys):
            colour, hatch = _KIND_STYLE[i % len(_KIND_STYLE)] if k != "untagged" else ("#c8c8c8", "")
            ys = np.array([values(d).get(k, 0) for d in days], float)
            ax.bar(x, ys, 0.7, bottom=bottom, color=colour, hatch=hatch, edgecolor="#00000060",
                   label=names.get(k, k))
            bottom += ys
        ax.set_title(title, loc="left")
        if keys:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1) if not narrow else (0, -0.08),
                      ncol=1, frameon=False, fontsize="small")
        else:
            ax.text(0.5, 0.5, "none in this range", transform=ax.transAxes, ha="center", va="center",
                    color="#555")
        ax.set_ylim(0, max(1.0, float(bottom.max()) * 1.15))

    stacked(ax_p, list(view["practice_min"]), lambda d: d["practice_min"], PRACTICE_WORDS, "practice minutes by kind")
    stacked(ax_m, list(view["marks_by_tag"]), lambda d: d["marks"], {}, "moments marked, by tag")
    ax_m.yaxis.get_major_locator().set_params(integer=True)
    pts = [(xi, d["resting_rmssd"]) for xi, d in zip(x, days) if d["resting_rmssd"]["ms"] is not None]
    tr = view["trend"]
    if tr:
        fx = [x[0] + dt.timedelta(days=f[0]) for f in tr["fit"]]
        ax_r.fill_between(fx, [f[2] for f in tr["fit"]], [f[3] for f in tr["fit"]], color="#4a7bd0", alpha=0.2,
                          lw=0, label="95 % band of the line")
        ax_r.plot(fx, [f[1] for f in tr["fit"]], color="#4a7bd0", lw=1.5, label="fitted line")
    if pts:
        ax_r.errorbar([p[0] for p in pts], [p[1]["ms"] for p in pts],
                      yerr=[[p[1]["ms"] - p[1]["low"] for p in pts], [p[1]["high"] - p[1]["ms"] for p in pts]],
                      fmt="o", color="#222", ms=4, capsize=3, label="day (95 % interval)")
        lo = min(p[1]["low"] for p in pts)
        hi = max(p[1]["high"] for p in pts)
        mid, half = (lo + hi) / 2, max(10.0, (hi - lo) * 0.6)
        ax_r.set_ylim(max(0.0, mid - half), mid + half)
        ax_r.legend(loc="upper left", bbox_to_anchor=(1.01, 1) if not narrow else (0, -0.14),
                    ncol=1, frameon=False, fontsize="small")
    if not tr:
        ax_r.text(0.5, 0.9 if pts else 0.5, "a trend needs %d days with enough rest reading" % TREND_MIN_DAYS,
                  transform=ax_r.transAxes, ha="center", va="center", color="#555", fontsize="small")
    ax_r.set_title("resting RMSSD (ms)", loc="left")
    x0 = dt.datetime.fromisoformat(days[0]["day"]) - dt.timedelta(hours=6)
    x1 = dt.datetime.fromisoformat(days[-1]["day"]) + dt.timedelta(days=1, hours=6)
    ax_r.set_xlim(x0, x1)
    ax_r.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, -(-len(days) // (3 if narrow else 8)))))
    ax_r.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    fig.tight_layout()
    _save(fig, path)


def programme_html(view):
    """The programme section: its words, the three-panel figure, a table per day and the
    before/after change per practice kind."""
    from .programme import PRACTICE_SHORT, PRACTICE_WORDS

    e = html.escape
    rows = []
    for d in view["days"]:
        rr = d["resting_rmssd"]
        if rr["ms"] is not None:
            rest = "%.1f <span class=ci>(%.1f–%.1f)</span>" % (rr["ms"], rr["low"], rr["high"])
        else:
            rest = "not worn" if not d["worn_min"] else "too little rest reading"
        kinds = ", ".join("%s %.0f min" % (PRACTICE_SHORT.get(k, k), v) for k, v in d["practice_min"].items())
        marks = ", ".join("%d %s" % (n, k) for k, n in d["marks"].items())
        how = ("<br><small data-prompted=%d data-chosen=%d>%d prompted · %d chosen</small>"
               % (d["prompted"], d["chosen"], d["prompted"], d["chosen"]) if d["practices"] else "")
        rows.append("<tr data-day='%s'><td class=d>%s</td><td>%s%s</td><td>%s</td><td class=r>%s</td></tr>" % (
            e(d["day"]), e(dt.date.fromisoformat(d["day"]).strftime("%a %d %b")), e(kinds or "–"), how,
            e(marks or "–"), rest if rr["ms"] is not None else e(rest)))
    pre = []
    for k, x in view["prepost"].items():
        pre.append("<tr data-kind='%s'><td>%s</td><td class=r>%d of %d</td><td class=r>%s</td>"
                   "<td class=r>%s</td></tr>" % (
                       e(k), e(PRACTICE_WORDS.get(k, k)), x["n"], x["sessions"],
                       "%+.1f ms" % x["mean_change_ms"] if x["mean_change_ms"] is not None else "–",
                       "%+.1f to %+.1f" % (x["low"], x["high"]) if x["low"] is not None else "too few"))
    pre_html = ("<table class=prepost><caption>RMSSD in the minute after minus the minute before, per practice "
                "(practices with a reading on both sides)</caption><tr><th>practice</th><th>with readings</th>"
                "<th>mean</th><th>95 %% interval</th></tr>%s</table>" % "".join(pre)) if pre else ""
    return ("<section class=programme id=programme><h2>Your programme</h2>%s<figure>%s<figcaption>Practice minutes "
            "and marked moments per day, and resting RMSSD: each day's value with its 95 %% interval, and where "
            "there are enough days a fitted line with its 95 %% band.</figcaption></figure>"
            "<table class=prog><tr><th>day</th><th>practice</th><th>marks</th><th class=r>resting RMSSD, ms "
            "(95 %% interval)</th></tr>%s</table>%s"
            "<p class=hint>Resting RMSSD here: worn minutes with clean beats, not active and not in or just after "
            "a practice, taken as the median of five-minute stretches. <code>soothe programme</code> shows the "
            "same in the terminal.</p></section>"
            % ("<div class=words>%s</div>" % "".join("<p>%s</p>" % e(w) for w in view["words"]),
               _picture("programme.svg", "programme-narrow.svg", "practice, marks and resting RMSSD per day"),
               "".join(rows), pre_html))


# ---- HTML ----------------------------------------------------------------------------
def _f(v, fmt="%.1f"):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return fmt % v


def _picture(wide, narrow, alt):
    return ("<picture><source media='(max-width: 640px)' srcset='%s'><img src='%s' alt='%s' loading=eager>"
            "</picture>" % (narrow, wide, html.escape(alt)))


def _states_html(a):
    worn = a["worn_min"]
    rows = []
    for s in state_names() + [s for s in a["states"] if s not in state_names()]:
        n = a["states"].get(s, 0)
        if s == UNWORN or not n:
            continue
        colour, _, css = state_style(s)[:3]
        p = pct_of_worn(n, worn)
        rows.append("<tr data-state='%s'><td><span class=sw style='background:%s;background-image:%s'></span>%s</td>"
                    "<td class=bar><span style='width:%d%%;background:%s;background-image:%s'></span></td>"
                    "<td class=num>%s</td><td class=num data-pct>%d %%</td></tr>"
                    % (s, colour, css, html.escape(state_label(s)), p, colour, css, _fmt_min(n), p))
    rows.append("<tr class=unworn><td><span class=sw style='background:%s'></span>unworn / no reading</td><td></td>"
                "<td class=num>%s</td><td class=num title='not counted in percentages'>–</td></tr>"
                % (state_style(UNWORN)[0], _fmt_min(a["no_reading_min"])))
    return ("<table class=states><caption>Share of worn time (%s worn; unworn minutes are not counted)</caption>"
            "%s</table>"
            % (_fmt_min(worn), "".join(rows)))


def _day_html(a, files):
    e = html.escape
    td, pc = a["td"], a["pc"]
    coh = a["coherence"]
    coh_words = "" if not np.isfinite(coh) else (" (very good)" if coh >= COHERENCE_VERY_GOOD else
                                                 " (basic)" if coh >= COHERENCE_BASIC else " (low)")
    rows = [("mean HR", _f(td.get("hr_bpm"), "%.1f bpm")),
            ("resting HR (10th percentile of worn minutes)", _f(a["resting_hr"], "%.1f bpm")),
            ("SDNN", _f(td.get("sdnn_ms"), "%.1f ms")), ("RMSSD", _f(td.get("rmssd_ms"), "%.1f ms")),
            ("pNN50", _f(td.get("pnn50"), "%.1f %%")), ("LF / HF (mean of valid 5 min windows)", _f(a["lf_hf"], "%.2f")),
            ("LF, HF power", "%s, %s" % (_f(a["lf_ms2"], "%.0f ms²"), _f(a["hf_ms2"], "%.0f ms²"))),
            ("Poincaré SD1 / SD2", "%s / %s" % (_f(pc.get("sd1_ms"), "%.1f ms"), _f(pc.get("sd2_ms"), "%.1f ms"))),
            ("coherence (mean of valid windows)", _f(coh, "%.2f") + coh_words)]
    quality = [("minutes logged", _fmt_min(a["logged_min"])), ("worn with a reading", _fmt_min(a["worn_min"])),
               ("unworn / no reading", _fmt_min(a["no_reading_min"])),
               ("5 min windows analysed", "%d of %d" % (a["valid_windows"], a["windows"])),
               ("left out: unworn or too few beats", str(a["sparse_windows"])),
               ("left out: too many irregular beats", str(a["irregular_windows"])),
               ("flagged beats", "%.1f %%" % a["artefact_pct"]),
               ("device vs host RMSSD per minute (median difference)", _f(a["device_vs_host_pct"], "%.1f %%"))]

    def table(rs, cls):
        return "<table class=%s>%s</table>" % (cls, "".join("<tr><td>%s</td><td class=num>%s</td></tr>"
                                                             % (e(k), e(v)) for k, v in rs))

    out = ["<section class=day id='day-%s'><h2>%s</h2>" % (e(a["day"]), e(a["day"])),
           "<p class=words>%s</p>" % e(paragraph(a)),
           "<figure>%s<figcaption>Heart rate and RMSSD per minute, the background coloured and patterned by "
           "state; gaps are unworn time.</figcaption></figure>"
           % _picture(files["timeline"], files["timeline_narrow"], "HR and RMSSD over the day, by state"),
           "<div class=cols><div><h3>Time in each state</h3>%s<p>longest threat stretch: %s</p></div>"
           % (_states_html(a), _fmt_min(a["longest_threat_min"])),
           "<div><h3>HRV (host analysis of clean beats)</h3>%s</div>" % table(rows, "hrv"),
           "<div><h3>Data quality</h3>%s</div></div>" % table(quality, "quality")]
    if a["sessions"]:
        breathing = all(_practice(x) == "breathing" for x in a["sessions"])
        out.append("<h3>Breathing sessions</h3>" if breathing else "<h3>Practices</h3>")
        for sess, (img, img_n) in zip(a["sessions"], files["sessions"]):
            out.append("<p class=session>%s</p><figure>%s</figure>" % (
                session_words(sess), _picture(img, img_n, "heart rate through the session, and RMSSD and "
                                                          "coherence before, during and after")))
    else:
        out.append("<p>No breathing session this day.</p>")
    out.append(_marks_html(a))
    out.append("</section>")
    return "\n".join(out)


def mark_words(m):
    """A marked moment in plain words: when, the wearer's tag, the 60 s before and after, and
    what the body showed before it.  Describes; never grades the noticing."""
    tag = marks_mod.label(m)
    head = "%s (mark %d)%s." % (query.local_time(m["unix_ms"] // 1000, "%H:%M"), m["id"],
                      ", tagged “%s”" % tag if tag else ", not tagged yet")
    b, a = m["before"], m["after"]

    def fig(p):
        if p["hr_bpm"] is None and p["rmssd_ms"] is None:
            return "no reading"
        return "HR %s, RMSSD %s, %s" % (_f(p["hr_bpm"], "%.0f bpm"), _f(p["rmssd_ms"], "%.0f ms"),
                                        state_label(p["state"] or "no-reading"))

    after = fig(a)
    if m.get("practice_after"):
        from .programme import PRACTICE_WORDS

        practice = PRACTICE_WORDS.get(m["practice_after"], m["practice_after"])
        after = ("no reading, as you began %s straight away" % practice if after == "no reading"
                 else after + " (you began %s within it)" % practice)
    return "%s The minute before: %s; the minute after: %s. %s" % (head, fig(b), after,
                                                                   marks_mod.body_words(m["body_before"]))


def _marks_html(a):
    ms = a.get("marks") or []
    if not ms:
        return ""
    e = html.escape
    shown = [m["body_before"]["shown"] for m in ms]
    n_threat, n_known = shown.count("threat"), sum(1 for x in shown if x != "no evidence")
    intro = "You marked %d moment%s this day." % (len(ms), "" if len(ms) == 1 else "s")
    if n_known:
        intro += (" Before %d of the %d with enough reading, your heart readings had already shown threat; "
                  "noticing is the skill the practice builds, whenever it comes." % (n_threat, n_known))
    items = "".join("<li data-mark='%d' data-shown='%s'>%s</li>" % (m["id"], e(m["body_before"]["shown"]),
                                                                   e(mark_words(m))) for m in ms)
    return ("<h3>Moments you marked</h3><p class=marks>%s</p><ul class=marks>%s</ul>"
            "<p class=hint>Tag a moment with <code>soothe mark tag ID self-critical</code> (or anxious, angry, "
            "ashamed, kind, or <code>--note “your words”</code>); tags stay on this computer.</p>"
            % (e(intro), items))


def how_to_read():
    e = html.escape
    items = "".join("<li><span class=sw style='background:%s;background-image:%s'></span><b>%s</b>: %s</li>"
                    % (state_style(s)[0], state_style(s)[2], e(state_label(s)), e(state_style(s)[3]))
                    for s in state_names())
    return ("<details class=help open><summary>How to read this</summary>"
            "<p>Every minute Soothe was on your wrist it put one label on your heart's pattern, compared with "
            "<em>your own</em> baseline. Each state has a colour and a pattern:</p><ul>%s</ul>"
            "<p><b>Percentages</b> on this page are always a share of <b>worn time</b> (minutes with a pulse "
            "reading); unworn minutes are listed but never counted in a percentage.</p>"
            "<p><b>Coherence</b> measures how smooth and regular the heart's rhythm is around one slow "
            "breathing frequency (HeartMath-style ratio over 64 s). As a guide, %.1f is basic and %.1f or "
            "more is very good. Slow, even breathing with the pacer usually raises it.</p>"
            "<p><b>RMSSD</b> (ms) is beat-to-beat heart-rate variability, higher when the soothing system is "
            "active; it varies by about 10 %% from minute to minute even at rest, so small changes mean little.</p>"
            "<p><b>Data quality</b>: HRV is computed on clean beats only. Five-minute stretches with too few "
            "beats (unworn) or more than 5 %% irregular beats are left out rather than guessed.</p>"
            "<p><b>Marked moments</b> (a double press) are dashed lines with a diamond on the day's plot; "
            "under each day, the minute before and after each one, and what the heart readings showed in the "
            "10 minutes before it. Tag them with <code>soothe mark tag</code>.</p>"
            "<p>All times are local time (%s).</p></details>"
            % (items, COHERENCE_BASIC, COHERENCE_VERY_GOOD, e(query.zone_label())))


CSS = """*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:auto;padding:12px;
color:#222;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.5em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em}
img{max-width:100%;height:auto;display:block}figure{margin:0 0 1em}figcaption{font-size:.85em;color:#555}
table{border-collapse:collapse;width:100%}td{padding:3px 6px;border-bottom:1px solid #eee;vertical-align:top}
td.num{text-align:right;white-space:nowrap}caption{text-align:left;font-size:.9em;color:#555}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(290px,1fr));gap:1em 2em}
.words{font-size:1.05em;background:#f5f7f2;padding:.8em}
.sw{display:inline-block;width:1.1em;height:1.1em;margin-right:.4em;vertical-align:middle;border:1px solid #0003}
table.states td:first-child{white-space:nowrap}table.states tr.unworn td:first-child{white-space:normal}td.bar{width:100%;min-width:3em}td.bar span{display:block;height:1.1em;min-width:1px;border:1px solid #0003}
tr.unworn td{color:#666}details.help{background:#f4f4f8;padding:.6em .9em;margin:1em 0}
details.help summary{font-weight:600;cursor:pointer}ul{padding-left:1.2em}li{margin:.2em 0}
th{text-align:left;font-weight:600;padding:3px 6px;border-bottom:1px solid #ccc}.hint{font-size:.85em;color:#555}
table.prog,table.prepost{margin:.8em 0}td.r,th.r{text-align:right}.ci{white-space:nowrap;color:#555}
td.d{white-space:nowrap}div.words p{margin:.2em 0 .5em}small{color:#555}
@media (max-width:640px){.ci{display:block}td.d{white-space:normal}}ul.marks li{margin:.5em 0}"""


def build_report(db, r, out_dir, progress=None):
    """Writes index.html and SVG plots into out_dir; returns the HTML path."""
    out_dir = Path(out_dir)
    try:
        if out_dir.exists() and not out_dir.is_dir():
            raise ReportError("--out %s is a file, not a folder: pass a folder for the report" % out_dir)
        # Folders made here are 0700; a folder that exists keeps its mode (it may be /tmp).
        ensure_private_dir(out_dir)
        if not os.access(out_dir, os.W_OK | os.X_OK):
            raise ReportError("--out %s is not writable: pass a folder you can write to" % out_dir)
    except OSError as e:
        raise ReportError("cannot write the report into %s: %s" % (out_dir, e.strerror or e)) from e
    for old in list(out_dir.glob("*.svg")) + list(out_dir.glob("*.png")):
        old.unlink()  # plots of an earlier report in this folder would otherwise linger
    day_ranges = list(r.day_ranges())
    days = []
    for i, dr in enumerate(day_ranges):
        a = analyse_day(db, dr)
        if a:
            files = {"timeline": "timeline-%s.svg" % a["day"], "timeline_narrow": "timeline-%s-narrow.svg" % a["day"],
                     "sessions": []}
            plot_timeline(a, out_dir / files["timeline"])
            plot_timeline(a, out_dir / files["timeline_narrow"], narrow=True)
            for sess in a["sessions"]:
                name = "session-%s" % query.local_time(sess["unix_s"], "%Y-%m-%d-%H%M%S")
                plot_session(a, sess, out_dir / (name + ".svg"))
                plot_session(a, sess, out_dir / (name + "-narrow.svg"), narrow=True)
                files["sessions"].append((name + ".svg", name + "-narrow.svg"))
            a["files"] = files
            days.append(a)
        if progress:
            progress(i + 1, len(day_ranges))
    if not days:
        raise ReportError("no data for %s in %s: sync first, or pick a range with data (soothe sessions lists days)"
                          % (r.device_id, r.label))
    e = html.escape
    parts = ["<!doctype html><html lang=en><head><meta charset=utf-8>"
             "<meta name=viewport content='width=device-width,initial-scale=1'>"
             "<title>Soothe report %s</title><style>%s</style></head><body>" % (e(r.label), CSS),
             "<h1>Soothe: %s</h1><p>device %s · %d day(s) with data · times in local time (%s)</p>"
             % (e(r.label), e(r.device_id), len(days), e(query.zone_label(r.start)))]
    parts.append(how_to_read())
    if len(day_ranges) >= 2:
        all_days = [dt.date.fromisoformat(d.label) for d in day_ranges]
        plot_trends(days, out_dir / "trends.svg", all_days)
        plot_trends(days, out_dir / "trends-narrow.svg", all_days, narrow=True)
        parts.append("<section><h2>Across the days</h2><figure>%s<figcaption>One point per day (at its midday); a day "
                     "without worn time is a gap.</figcaption></figure></section>"
                     % _picture("trends.svg", "trends-narrow.svg", "trends across days"))
        from . import programme

        view = programme.build(db, r)
        plot_programme(view, out_dir / "programme.svg")
        plot_programme(view, out_dir / "programme-narrow.svg", narrow=True)
        parts.append(programme_html(view))
    else:
        parts.append("<p>Trends across days appear once the range covers two days, and so does the programme "
                     "view (<code>soothe programme</code> shows it in the terminal).</p>")
    parts += [_day_html(a, a["files"]) for a in days]
    lost = query.lost_records(db, r.device_id)
    if lost:
        parts.append("<section><h2>Records lost on the device</h2><p>%d record(s) could not be read back from the "
                     "device's flash and are missing from this report:</p><ul>%s</ul></section>" % (
                         sum(n for _, n, _, _ in lost),
                         "".join("<li>%d record(s) after %s: %s</li>" % (
                             n, html.escape(query.local_time(after)) if after else "the start of the log",
                             html.escape(why or "")) for _, n, why, after in lost)))
    parts.append("<footer><p>Threat, drive and soothe are a heuristic reading of heart rate and HRV against the "
                 "wearer's own baseline (Gilbert's three systems), not a diagnosis. HRV here: time domain and "
                 "Poincaré on clean beats only; LF/HF from RR resampled at 4 Hz (cubic Hermite) and Welch "
                 "(256 s Hann segments) in 5 min windows with at most 5 % flagged beats; other windows are "
                 "left out, not smoothed over.</p></footer></body></html>")
    index = out_dir / "index.html"
    with open_private(index, encoding="utf-8") as f:
        f.write("\n".join(parts))
    for p in out_dir.glob("*.svg"):
        os.chmod(p, 0o600)
    return index


def summary_rows(db, r):
    return [a for a in (analyse_day(db, dr) for dr in r.day_ranges()) if a]


def print_summary(db, r, console):
    """A table sized to the console: the key columns always, the rest as width allows."""
    from rich.table import Table

    days = summary_rows(db, r)
    if not days:
        raise ReportError("no data for %s in %s: sync first, or pick a range with data" % (r.device_id, r.label))
    width = console.width
    cols = [("day", lambda a: a["day"], 10), ("worn", lambda a: _fmt_min(a["worn_min"]), 11),
            ("unworn", lambda a: _fmt_min(a["no_reading_min"]), 11),
            ("HR bpm", lambda a: _f(a["td"].get("hr_bpm")), 6), ("RMSSD ms", lambda a: _f(a["td"].get("rmssd_ms")), 8)]
    for s in ("threat", "drive", "soothe"):
        cols.append(("%s %%" % s, lambda a, s=s: str(pct_of_worn(a["states"].get(s, 0), a["worn_min"])), 8))
    cols.append(("sessions", lambda a: str(len(a["sessions"])), 8))
    optional = [("rest HR bpm", lambda a: _f(a["resting_hr"]), 11), ("SDNN ms", lambda a: _f(a["td"].get("sdnn_ms")), 7),
                ("coherence", lambda a: _f(a["coherence"], "%.2f"), 9),
                ("longest threat", lambda a: _fmt_min(a["longest_threat_min"]), 14),
                ("prompts acc/offered", lambda a: "%d/%d" % (a["prompts"].get("accepted", 0),
                                                             a["prompts"].get("offered", 0)), 9),
                ("LF/HF", lambda a: _f(a["lf_hf"], "%.2f"), 5), ("SD1 ms", lambda a: _f(a["pc"].get("sd1_ms")), 6),
                ("valid windows", lambda a: "%d/%d" % (a["valid_windows"], a["windows"]), 7)]

    def need(cs):
        return sum(w + 1 for _, _, w in cs)

    if need(cols) > width:  # a narrow terminal: drop the minutes columns that the percentages carry
        cols = [c for c in cols if c[0] not in ("unworn",)]
    for c in optional:
        if need(cols + [c]) <= width:
            cols.append(c)
    from rich import box

    t = Table(title="Soothe summary · %s · %s" % (r.device_id, r.label), title_justify="left",
              caption="local time (%s); percentages are of worn time" % query.zone_label(r.start),
              caption_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for name, _, _ in cols:
        t.add_column(name, justify="left" if name == "day" else "right", no_wrap=name == "day")
    for a in days:
        t.add_row(*[fn(a) for _, fn, _ in cols])
    console.print(t)
    for a in days:
        console.print("[bold]%s[/bold] %s" % (a["day"], html.unescape(paragraph(a))), highlight=False)
    return days
