"""The two-week programme view (issue 19): `soothe programme` and a report section.

Per local day: practice minutes by kind, with how many practices were prompted (by a
threat prompt, or offered after a mark) and how many the wearer chose; marks by tag;
resting RMSSD with a 95 % interval; before -> after RMSSD change per practice kind.
Over the range: the resting-RMSSD trend with a 95 % confidence band, and the change per
kind with its interval.  The words say what changed and how sure the numbers are, say
when data is too thin, and never claim a clinical effect.
Input: the store (sessions, marks, minutes).  Output: a dict (the `--json` shape) and text.
"""
import datetime as dt
import math

from . import marks as marks_mod
from . import query
from soothe_fw.log import records

PROGRAMME_DAYS = 14  # Matos et al. 2021: two weeks of CMT practice
PRACTICES = records.PRACTICE_NAMES
PRACTICE_WORDS = {"breathing": "soothing-rhythm breathing", "imagery": "compassionate-self imagery",
                  "compassion_break": "self-compassion break", "body_scan": "body scan",
                  "safe_place": "safe-place imagery"}
PRACTICE_SHORT = {"breathing": "breathing", "imagery": "imagery", "compassion_break": "compassion break",
                  "body_scan": "body scan", "safe_place": "safe place"}
# How a session started (records.SESSION_KINDS): the device offered it, or the wearer chose it.
PROMPTED_STARTS = ("prompted", "mark")  # a threat prompt accepted; a practice offered after a mark

# Resting RMSSD: worn minutes with >= 80 % clean beats, not in drive (activity, effort)
# and not in a practice or the 2 min after it (slow breathing raises RMSSD on purpose).
# One value per 5 min clock block (the median of its minutes, >= 3 of them) so minutes
# that follow each other are not counted as independent; the day's value is the median
# of its blocks with the distribution-free order-statistic 95 % interval, which needs
# >= 6 blocks (0.5^6 * 2 = 3 % < 5 %).
REST_EXCLUDED_STATES = ("drive", "no-reading", "unclassified")
REST_MIN_QUALITY_PCT = 80
BLOCK_S = 300
BLOCK_MIN_MINUTES = 3
DAY_MIN_BLOCKS = 6
AFTER_PRACTICE_S = 120
TREND_MIN_DAYS = 5
PREPOST_MIN_N = 3

# Two-sided 95 % Student t quantiles, df 1..30 (any statistics table); beyond 30 the value
# for the next tabulated df below (40: 2.021, 60: 2.000, 120: 1.980), so an interval is
# never narrower than it should be.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)


def t95(df):
    if df <= len(_T95):
        return _T95[df - 1]
    return 2.042 if df < 40 else 2.021 if df < 60 else 2.000 if df < 120 else 1.980


def _median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def median_interval(xs):
    """(median, low, high): the order-statistic 95 % interval of a median (Conover, Practical
    Nonparametric Statistics, 3.2): x_(j) .. x_(n+1-j) with the largest j whose binomial tail
    P(B < j) is <= 2.5 %.  None for low/high when n < 6 (no such interval exists)."""
    s = sorted(xs)
    n = len(s)
    tail, j = 0.0, 0
    while True:
        nxt = tail + math.comb(n, j) / 2.0 ** n
        if nxt > 0.025:
            break
        tail, j = nxt, j + 1
    if j == 0:
        return _median(s), None, None
    return _median(s), s[j - 1], s[n - j]


def mean_interval(xs):
    """(mean, low, high) with a t 95 % interval; low/high None for n < 2."""
    n = len(xs)
    m = sum(xs) / n
    if n < 2:
        return m, None, None
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    h = t95(n - 1) * sd / math.sqrt(n)
    return m, m - h, m + h


def resting_rmssd(minutes, sessions):
    """The day's resting RMSSD (see the constants above): {"ms", "low", "high", "minutes",
    "blocks"}; "ms" is None when the day had too little rest reading."""
    busy = [(s["unix_s"], s["unix_s"] + (s["duration_s"] or 0) + AFTER_PRACTICE_S) for s in sessions]
    blocks = {}
    n = 0
    for m in minutes:
        t, state, quality, rmssd = m[0], m[1], m[2], m[4]
        if state in REST_EXCLUDED_STATES or not rmssd or rmssd <= 0 or (quality or 0) < REST_MIN_QUALITY_PCT:
            continue
        if any(a - 60 < t < b for a, b in busy):
            continue
        n += 1
        blocks.setdefault(t // BLOCK_S, []).append(rmssd)
    vals = [_median(v) for v in blocks.values() if len(v) >= BLOCK_MIN_MINUTES]
    out = {"ms": None, "low": None, "high": None, "minutes": n, "blocks": len(vals)}
    if len(vals) >= DAY_MIN_BLOCKS:
        out["ms"], out["low"], out["high"] = median_interval(vals)
    return out


def trend(points):
    """Least-squares line through [(day_index, value)] with its 95 % confidence band.

    Returns None for fewer than TREND_MIN_DAYS points, else {"slope_ms_per_day", "low",
    "high" (the slope's interval), "days", "fit": [(x, y, band_low, band_high)] per x in
    the points' span}.  The band is the line's own uncertainty (t * s * sqrt(1/n +
    (x - mean)^2 / Sxx)), not the spread of single days."""
    n = len(points)
    if n < TREND_MIN_DAYS:
        return None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    resid = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    s = math.sqrt(resid / (n - 2))
    t = t95(n - 2)
    se_b = s / math.sqrt(sxx)
    fit = []
    for x in range(min(xs), max(xs) + 1):
        h = t * s * math.sqrt(1.0 / n + (x - mx) ** 2 / sxx)
        fit.append((x, a + b * x, a + b * x - h, a + b * x + h))
    return {"slope_ms_per_day": b, "low": b - t * se_b, "high": b + t * se_b, "days": n, "fit": fit,
            "first_ms": a + b * min(xs), "last_ms": a + b * max(xs)}


def _practice(sess):
    return sess.get("practice") or "breathing"


def _change(sess):
    """after - before RMSSD (ms) of a session, None without evidence on both sides."""
    b, a = sess.get("before_rmssd"), sess.get("after_rmssd")
    if not b or not a or b <= 0 or a <= 0:
        return None
    return a - b


def default_range(db, device_id=None, from_=None, to=None):
    """The programme's range: --from/--to as given, else the 14 days ending on the last day with data."""
    r = query.resolve(db, device_id, None, from_, to, default="last")
    if from_ or to:
        return r
    last = query.local_day(r.start)
    first = last - dt.timedelta(days=PROGRAMME_DAYS - 1)
    end = query.day_start(last + dt.timedelta(days=1))
    return query.Range(r.device_id, query.day_start(first), end, "%s to %s" % (first, last))


def build(db, r):
    """The programme view of a range (one entry per calendar day, data or not)."""
    all_marks = marks_mod.marks(db, r.device_id, r.start, r.end)
    days = []
    for i, dr in enumerate(r.day_ranges()):
        sessions = query.sessions(db, dr)
        mins = query.minutes(db, dr)
        worn = sum(1 for m in mins if m[1] != "no-reading")
        practice_s = {}
        starts = {}
        ended_early = 0
        change = {}
        for s in sessions:
            k = _practice(s)
            practice_s[k] = practice_s.get(k, 0) + (s["duration_s"] or 0)
            starts[s["kind"]] = starts.get(s["kind"], 0) + 1
            ended_early += 0 if s["completed"] else 1
            c = _change(s)
            if c is not None:
                change.setdefault(k, []).append(c)
        by_tag = {}
        for m in all_marks:
            if dr.start * 1000 <= m["unix_ms"] < dr.end * 1000:
                label = marks_mod.tag_label(m)
                by_tag[label] = by_tag.get(label, 0) + 1
        by_tag = dict(sorted(by_tag.items(), key=_tag_order))
        prompted = sum(n for k, n in starts.items() if k in PROMPTED_STARTS)
        days.append({
            "day": dr.label, "index": i, "worn_min": worn,
            "practice_min": {k: round(v / 60.0, 1) for k, v in sorted(practice_s.items(), key=_kind_order)},
            "practices": len(sessions), "prompted": prompted, "chosen": len(sessions) - prompted,
            "ended_early": ended_early, "by_start": starts,
            "marks": by_tag, "marks_total": sum(by_tag.values()),
            "resting_rmssd": resting_rmssd(mins, sessions),
            "prepost": {k: {"n": len(v), "mean_change_ms": sum(v) / len(v)} for k, v in change.items()},
        })
    sessions = query.sessions(db, r)
    per_kind = {}
    for s in sessions:
        k = _practice(s)
        e = per_kind.setdefault(k, {"sessions": 0, "changes": []})
        e["sessions"] += 1
        c = _change(s)
        if c is not None:
            e["changes"].append(c)
    prepost = {}
    for k in sorted(per_kind, key=lambda k: _kind_order((k, 0))):
        ch = per_kind[k]["changes"]
        entry = {"sessions": per_kind[k]["sessions"], "n": len(ch), "mean_change_ms": None, "low": None,
                 "high": None}
        if ch:
            entry["mean_change_ms"], lo, hi = mean_interval(ch)
            if len(ch) >= PREPOST_MIN_N:
                entry["low"], entry["high"] = lo, hi
        prepost[k] = entry
    pts = [(d["index"], d["resting_rmssd"]["ms"]) for d in days if d["resting_rmssd"]["ms"] is not None]
    view = {"device_id": r.device_id, "range": r.label, "days": days, "trend": trend(pts), "prepost": prepost,
            "marks_by_tag": dict(sorted(_sum_dicts(d["marks"] for d in days).items(), key=_tag_order)),
            "practice_min": dict(sorted(_sum_dicts(d["practice_min"] for d in days).items(), key=_kind_order)),
            "method": {"resting": "median of 5 min block medians of worn minutes with >= %d %% clean beats, "
                                  "not drive, not in a practice or the %d s after; 95 %% order-statistic interval; "
                                  ">= %d blocks a day" % (REST_MIN_QUALITY_PCT, AFTER_PRACTICE_S, DAY_MIN_BLOCKS),
                       "trend": "least squares over days with a resting value, 95 %% confidence band; "
                                ">= %d days" % TREND_MIN_DAYS,
                       "prepost": "after minus before RMSSD (60 s each side), mean with a t 95 %% interval; "
                                  ">= %d practices" % PREPOST_MIN_N}}
    view["words"] = words(view)
    return view


def _kind_order(item):
    k = item[0]
    return (PRACTICES.index(k) if k in PRACTICES else len(PRACTICES), k)


def _tag_order(item):
    """The tags in the order the wearer is offered them, then own words, then untagged."""
    order = marks_mod.TAGS + ("own words", "untagged")
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _sum_dicts(ds):
    out = {}
    for d in ds:
        for k, v in d.items():
            out[k] = round(out.get(k, 0) + v, 1)
    return out


def _ms(v):
    return "%.1f ms" % v


def words(view):
    """Plain sentences: what changed and how sure the numbers are; thin data said as such."""
    days = view["days"]
    n_days = len(days)
    worn_days = sum(1 for d in days if d["worn_min"])
    out = []
    if not worn_days:
        return ["No day in %s has a reading yet, so there is nothing to show." % view["range"]]
    n_pr = sum(d["practices"] for d in days)
    mins = sum(view["practice_min"].values())
    if n_pr:
        kinds = ", ".join("%s %s" % (_fmt_min(v), PRACTICE_WORDS.get(k, k)) for k, v in view["practice_min"].items())
        prompted = sum(d["prompted"] for d in days)
        early = sum(d["ended_early"] for d in days)
        out.append("Over %d days (%d with a reading) you practised %d time%s, %s in all: %s. %d of them began "
                   "from a prompt or an offer after a mark and %d you chose yourself%s." % (
                       n_days, worn_days, n_pr, "" if n_pr == 1 else "s", _fmt_min(mins), kinds, prompted,
                       n_pr - prompted,
                       "; %d ended early, which is always fine" % early if early else ""))
    else:
        out.append("Over %d days (%d with a reading) no practice was logged." % (n_days, worn_days))
    tags = view["marks_by_tag"]
    n_marks = sum(tags.values())
    if n_marks:
        out.append("You marked %d moment%s (%s)." % (n_marks, "" if n_marks == 1 else "s", ", ".join(
            "%d %s" % (v, k) for k, v in sorted(tags.items(), key=lambda kv: -kv[1]))))
    tr = view["trend"]
    rest_days = sum(1 for d in days if d["resting_rmssd"]["ms"] is not None)
    if tr is None:
        out.append("Resting RMSSD: %d day%s had enough rest reading (at least %d five-minute stretches); a trend "
                   "needs %d such days, so none is drawn yet." % (rest_days, "" if rest_days == 1 else "s",
                                                                  DAY_MIN_BLOCKS, TREND_MIN_DAYS))
    else:
        week, lo, hi = 7 * tr["slope_ms_per_day"], 7 * tr["low"], 7 * tr["high"]
        line = ("Resting RMSSD over %d days with enough rest reading: the fitted line goes from %s to %s, "
                "%+.1f ms a week (95 %% interval %+.1f to %+.1f)." % (tr["days"], _ms(tr["first_ms"]),
                                                                       _ms(tr["last_ms"]), week, lo, hi))
        if lo > 0:
            line += " It rose by more than day-to-day variation explains."
        elif hi < 0:
            line += " It fell by more than day-to-day variation explains; sleep, illness and busy weeks move it too."
        else:
            line += " The interval includes no change: these days cannot tell a trend from ordinary variation."
        out.append(line)
    for k, e in view["prepost"].items():
        name = PRACTICE_WORDS.get(k, k)
        if e["n"] < PREPOST_MIN_N:
            out.append("%s: %d practice%s with a reading before and after; at least %d are needed to say how "
                       "RMSSD changed." % (name[0].upper() + name[1:], e["n"], "" if e["n"] == 1 else "s",
                                           PREPOST_MIN_N))
            continue
        line = ("%s: RMSSD in the minute after was on average %s %s than in the minute before (%d practices, "
                "95 %% interval %+.1f to %+.1f ms)." % (name[0].upper() + name[1:], _ms(abs(e["mean_change_ms"])),
                                                        "higher" if e["mean_change_ms"] >= 0 else "lower", e["n"],
                                                        e["low"], e["high"]))
        if e["low"] <= 0 <= e["high"]:
            line += " That is within what chance alone gives."
        out.append(line)
    out.append("These figures compare you only with yourself. They describe what the readings did, not whether "
               "a practice works, and they are not a clinical measure.")
    return out


def _fmt_min(n):
    n = int(round(n))
    return "%d h %02d min" % (n // 60, n % 60) if n >= 60 else "%d min" % n


# ---- terminal ---------------------------------------------------------------------------
def _short_kind(k):
    return {"breathing": "breath", "imagery": "imagery", "compassion_break": "break", "body_scan": "scan",
            "safe_place": "place"}.get(k, k[:8])


def print_programme(view, out, width=None):
    """The view as tables within the terminal's width (80 when piped), then its words."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=width, highlight=False, soft_wrap=False)
    tags = list(view["marks_by_tag"])
    t = Table(title="Programme for %s · %s · local time (%s)" % (view["device_id"], view["range"],
                                                                    query.zone_label()),
              title_justify="left", box=None, pad_edge=False, collapse_padding=True)
    for c, just in (("day", "left"), ("practice min by kind", "left"), ("prompted", "right"),
                    ("chosen", "right"), ("marks", "right"), ("rest RMSSD ms (95 %)", "right")):
        t.add_column(c, justify=just, no_wrap=c != "practice min by kind")
    for d in view["days"]:
        rr = d["resting_rmssd"]
        if rr["ms"] is not None:
            rest = "%.1f (%.1f-%.1f)" % (rr["ms"], rr["low"], rr["high"])
        else:
            rest = "not worn" if not d["worn_min"] else "too little rest"
        kinds = ", ".join("%s %.0f" % (_short_kind(k), v) for k, v in d["practice_min"].items())
        t.add_row(d["day"], kinds,
                  str(d["prompted"]) if d["practices"] else "", str(d["chosen"]) if d["practices"] else "",
                  str(d["marks_total"]) if d["marks_total"] else "", rest)
    console.print(t)
    console.print("kinds: " + ", ".join("%s = %s" % (_short_kind(k), PRACTICE_WORDS.get(k, k))
                                        for k in view["practice_min"]), style="dim")
    if tags:
        tt = Table(title="Marks by tag", title_justify="left", box=None, pad_edge=False, collapse_padding=True)
        tt.add_column("day", no_wrap=True)
        for k in tags:
            tt.add_column(k, justify="right")
        for d in view["days"]:
            if d["marks_total"]:
                tt.add_row(d["day"], *[str(d["marks"].get(k, "")) for k in tags])
        console.print(tt)
    if view["prepost"]:
        pt = Table(title="RMSSD after minus before, per practice", title_justify="left", box=None, pad_edge=False,
                   collapse_padding=True)
        for c in ("practice", "done", "with readings", "mean ms", "95 % interval"):
            pt.add_column(c, justify="left" if c == "practice" else "right")
        for k, e in view["prepost"].items():
            pt.add_row(PRACTICE_WORDS.get(k, k), str(e["sessions"]), str(e["n"]),
                       "%+.1f" % e["mean_change_ms"] if e["mean_change_ms"] is not None else "-",
                       "%+.1f to %+.1f" % (e["low"], e["high"]) if e["low"] is not None else "too few")
        console.print(pt)
    for line in view["words"]:
        console.print(line)


# ---- `soothe programme`: the command (registered in cli.COMMANDS) ---------------------------
def do_programme(args):
    import json
    import sys

    from .commands import CommandError, open_store

    store = open_store(args.db)
    try:
        try:
            r = default_range(store.db, args.device, args.from_, args.to)
        except query.QueryError as e:
            raise CommandError(str(e)) from e
        view = build(store.db, r)
    finally:
        store.close()
    if args.json:
        json.dump(view, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print_programme(view, sys.stdout)
    return 0
