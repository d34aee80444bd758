"""`soothe sessions` and `soothe export`: what the store holds, as tables and open formats.

Formats (every one takes --day/--from/--to; --table where it applies):
- kubios: the Kubios HRV "RR text" format, one RR interval in ms per line, holding only
  beats fit for HRV (flag ok).  The format cannot mark a gap, so a warning on stderr
  counts stretches longer than 5 s without such a beat.
- kubios-time: `time_s,rr_ms` lines (time from the first beat of the range), the same
  beats, with gaps and dropped beats visible as jumps in time.
- csv: one row per beat (`--table beats`, default), per minute summary
  (`--table minutes`) or per breathing session (`--table sessions`); empty cell = missing.
- json: one object with the device, the range, a `units` block and beats, minutes,
  sessions and events (or only the `--table` named); missing values are null.

Export format version 2 (`soothe-export/2`), changed from 1: JSON beats carry
`flag_name`; a `units` block; missing values are null instead of 0.0; the session
field `rate_bpm` (breaths, not beats) is `breaths_per_min` in JSON and CSV; Kubios
exports hold only ok beats (version 1 kept every beat but "extra"); `--table` and `--day`
apply to every format.
"""
import csv
import json

from . import dating, query
from soothe_fw.sense import beats as fw_beats
from soothe_fw.log import records

FORMAT_VERSION = "soothe-export/2"
FORMATS = ("csv", "json", "kubios", "kubios-time")
TABLES = ("beats", "minutes", "sessions")
MINUTE_COLUMNS = ("unix_s", "state", "quality_pct", "hr_bpm", "rmssd_ms", "sdnn_ms", "coherence",
                  "resonance_hz", "beats")
_OK = 0
_GAP_MS = 5000
# Values of 0 in these store columns mean "not measured"; exports write them as missing.
_MISSING_IF_ZERO = {"hr_bpm", "rmssd_ms", "sdnn_ms", "coherence", "resonance_hz", "before_hr", "before_rmssd",
                    "before_coh", "during_hr", "during_rmssd", "during_coh", "after_hr", "after_rmssd", "after_coh"}
RENAMED = {"rate_bpm": "breaths_per_min"}  # issue 18: rate_bpm held breaths per minute
UNITS = {"unix_ms": "ms since 1970-01-01 UTC", "unix_s": "s since 1970-01-01 UTC", "rr_ms": "ms",
         "hr_bpm": "beats/min", "rmssd_ms": "ms", "sdnn_ms": "ms", "quality_pct": "% of the minute's beats clean",
         "coherence": "HeartMath-style ratio (0.5 basic, 2.0 very good)", "resonance_hz": "Hz",
         "duration_s": "s", "breaths_per_min": "breaths/min", "before_hr": "beats/min", "during_hr": "beats/min",
         "after_hr": "beats/min", "before_rmssd": "ms", "during_rmssd": "ms", "after_rmssd": "ms",
         "time_local": "local time of this computer", "beats": "count"}


def _clean(col, v):
    return None if v is None or (col in _MISSING_IF_ZERO and v == 0) else v


def _flag_name(flag):
    return fw_beats.FLAG_NAMES[flag] if 0 <= flag < len(fw_beats.FLAG_NAMES) else str(flag)


def _fmt_dur(minutes):
    return "%dh%02dm" % (minutes // 60, minutes % 60)


def day_rows(db, r):
    """Per local day: minutes worn, beats, clean %, HR/RMSSD means, minutes per state, sessions."""
    out = []
    for dr in r.day_ranges():
        mins = query.minutes(db, dr)
        if not mins:
            continue
        per_state = {}
        for m in mins:
            per_state[m[1]] = per_state.get(m[1], 0) + 1
        worn = [m for m in mins if m[1] != "no-reading"]
        nbeats = sum(m[8] or 0 for m in mins)
        clean = sum((m[8] or 0) * (m[2] or 0) / 100.0 for m in mins)

        def mean(i):
            vals = [m[i] for m in worn if m[i]]  # None (no reading) and 0 are not measurements
            return sum(vals) / len(vals) if vals else 0.0

        out.append({"day": dr.label, "minutes": len(mins), "worn_min": len(worn), "beats": nbeats,
                    "clean_pct": 100.0 * clean / nbeats if nbeats else 0.0, "hr_bpm": mean(3), "rmssd_ms": mean(4),
                    "states": per_state, "sessions": len(query.sessions(db, dr))})
    return out


def print_sessions(db, r, out, width=None):
    """Days and breathing sessions as tables sized to the terminal (`width`, default: the
    terminal's, 80 when not a terminal), units in the headers, local time with the zone named."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=width, highlight=False, soft_wrap=False)
    days = day_rows(db, r)
    if not days:
        console.print("no data for %s in %s" % (r.device_id, r.label))
        return
    zone = query.zone_label(r.start)
    wide = console.width >= 100
    t = Table(title="Days for %s (%s) · local time (%s) · %% of worn time" % (r.device_id, r.label, zone),
              title_justify="left", box=None, pad_edge=False, collapse_padding=True)
    cols = ["day", "logged", "worn", "beats", "clean %", "HR bpm", "RMSSD ms", "threat %", "drive %", "soothe %",
            "sessions"]
    if not wide:
        cols.remove("logged")
        cols.remove("beats")
    for c in cols:
        t.add_column(c, justify="left" if c == "day" else "right", no_wrap=True)
    for d in days:
        st = d["states"]

        def pct(name):
            return "%d" % round(100.0 * st.get(name, 0) / d["worn_min"]) if d["worn_min"] else "-"

        cells = {"day": d["day"], "logged": _fmt_dur(d["minutes"]), "worn": _fmt_dur(d["worn_min"]),
                 "beats": str(d["beats"]), "clean %": "%.1f" % d["clean_pct"],
                 "HR bpm": "%.1f" % d["hr_bpm"] if d["hr_bpm"] else "-",
                 "RMSSD ms": "%.1f" % d["rmssd_ms"] if d["rmssd_ms"] else "-",
                 "threat %": pct("threat"), "drive %": pct("drive"), "soothe %": pct("soothe"),
                 "sessions": str(d["sessions"])}
        t.add_row(*[cells[c] for c in cols])
    console.print(t)
    console.print("HR and RMSSD here are means of the device's per-minute figures; `soothe summary` and the "
                  "report analyse the beats themselves.", style="dim")
    undated = query.undated_minutes(db, r.device_id)
    if undated:
        console.print("\n%d undated minute(s): logged in a boot whose clock was never set by a sync (not shown above)"
                      % undated)
    placed, bound_s = dating.placed_minutes(db, r.device_id)
    if placed:
        console.print("\n%d minute(s) dated by their neighbours: a boot that never met a host, placed between "
                      "the boots before and after it (each within %d s)" % (placed, bound_s))
    lost = query.lost_records(db, r.device_id)
    if lost:
        console.print("\nRecords the device lost (%d, declared at sync)" % sum(n for _, n, _, _ in lost))
        for first, n, why, after in lost:
            console.print("  seq %d%s (%d record%s), after %s: %s" % (
                first, "-%d" % (first + n - 1) if n > 1 else "", n, "s" if n > 1 else "",
                query.local_time(after) if after else "the start of the log", why))
    sess = query.sessions(db, r)
    # Issue 19: other practices than breathing get their own column (and the title says practices).
    kinds = any((s.get("practice") or "breathing") != "breathing" for s in sess)
    console.print("\n%s (%d)" % ("Practices" if kinds else "Breathing sessions", len(sess)))
    if not sess:
        console.print("  none in this range: a short press on the button starts one")
        return
    t = Table(box=None, pad_edge=False, collapse_padding=True)
    wide = console.width >= (130 if kinds else 100)
    cols = [("start (%s)" % query.zone_short(r.start), "start"), ("kind", "kind"), ("length", "length"),
            ("pace", "pace"), ("done", "done"),
            ("RMSSD ms before/during/after" if wide else "RMSSD ms b/d/a", "rmssd"),
            ("coherence before/during/after" if wide else "coherence b/d/a", "coh"),
            ("heart peak" if wide else "heart", "heart")]
    if kinds:
        cols.insert(1, ("practice", "practice"))
        if not wide:  # keep 80 columns: coherence and the peak are in the report and the CSV
            cols = [c for c in cols if c[1] not in ("coh", "heart")]
    for c, key in cols:
        t.add_column(c, justify="left" if key in ("kind", "done", "start", "practice") else "right", no_wrap=True)

    def f(v, fmt):
        return fmt % v if v else "-"

    for s in sess:
        cells = {"start": query.local_time(s["unix_s"], "%Y-%m-%d %H:%M"), "kind": s["kind"],
                 "practice": (s.get("practice") or "breathing").replace("_", " "),
                 "length": "%ds" % s["duration_s"], "pace": f(s["rate_bpm"], "%.1f/m"),
                 "done": "yes" if s["completed"] else "stopped",
                 "rmssd": "/".join(f(s[k], "%.1f") for k in ("before_rmssd", "during_rmssd", "after_rmssd")),
                 "coh": "/".join(f(s[k], "%.2f") for k in ("before_coh", "during_coh", "after_coh")),
                 "heart": f((s["resonance_hz"] or 0) * 60, "%.1f/m")}
        t.add_row(*[cells[key] for _, key in cols])
    console.print(t)


def gaps(beat_rows):
    """[(from_ms, to_ms)] stretches longer than 5 s with no beat."""
    out = []
    for (t0, _, _), (t1, rr, _) in zip(beat_rows, beat_rows[1:]):
        if t1 - t0 > max(_GAP_MS, 2 * rr):
            out.append((t0, t1))
    return out


def tables_for(fmt, table):
    """The tables a format writes; an impossible pair raises ValueError with what to use."""
    if fmt in ("kubios", "kubios-time"):
        if table not in (None, "beats"):
            raise ValueError("--format %s holds RR intervals only: leave out --table or use --table beats" % fmt)
        return ["beats"]
    if fmt == "csv":
        return [table or "beats"]
    return [table] if table else list(TABLES)


def export(db, r, fmt, out, table=None, warn=None):
    """Writes the range in `fmt` to the text stream `out`; returns the number of rows written."""
    tables = tables_for(fmt, table)
    if fmt in ("kubios", "kubios-time"):
        # One RR series of beats fit for HRV, from worn minutes only (t13-engine: unworn
        # time is left out); kubios-time keeps where they were.
        rows = query.worn_beats(query.beats(db, r), query.minutes(db, r))
        fit = [(t, rr) for t, rr, flag in rows if flag == _OK]
        if fmt == "kubios":
            for _, rr in fit:
                out.write("%d\n" % rr)
        else:
            out.write("time_s,rr_ms\n")
            t0 = fit[0][0] if fit else 0
            for t, rr in fit:
                out.write("%.3f,%d\n" % ((t - t0) / 1000.0, rr))
        g = gaps([(t, rr, _OK) for t, rr in fit])  # where dropped or missing beats join the list
        if g and warn and fmt == "kubios":
            warn("%d stretch(es) without a reading or without beats fit for HRV (the first at %s) are joined "
                 "in the RR list; "
                 "Kubios cannot mark gaps: use --format kubios-time to keep them visible"
                 % (len(g), query.local_time(g[0][0] // 1000)))
        return len(fit)
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        table = tables[0]
        if table == "beats":
            w.writerow(("time_local", "unix_ms", "rr_ms", "flag", "flag_name"))
            rows = query.beats(db, r)
            for t, rr, flag in rows:
                w.writerow((query.local_time(t // 1000) + ".%03d" % (t % 1000), t, rr, flag, _flag_name(flag)))
        elif table == "minutes":
            w.writerow(("time_local",) + MINUTE_COLUMNS)
            rows = query.minutes(db, r)
            for m in rows:
                w.writerow((query.local_time(m[0]),) + tuple(
                    "" if v is None else v for v in (_clean(c, x) for c, x in zip(MINUTE_COLUMNS, m))))
        else:
            w.writerow(("time_local",) + tuple(RENAMED.get(c, c) for c in query.SESSION_COLUMNS))
            rows = query.sessions(db, r)
            for s in rows:
                w.writerow((query.local_time(s["unix_s"]),) + tuple(
                    "" if v is None else v for v in (_clean(c, s[c]) for c in query.SESSION_COLUMNS)))
        return len(rows)
    doc = {
        "format": FORMAT_VERSION,
        "device_id": r.device_id,
        "range": {"label": r.label, "start_unix_s": r.start, "end_unix_s": r.end, "time_zone": query.zone_label(r.start)},
        "units": UNITS,
    }
    if "beats" in tables:
        doc["beats"] = [{"unix_ms": t, "rr_ms": rr, "flag": flag, "flag_name": _flag_name(flag)}
                        for t, rr, flag in query.beats(db, r)]
    if "minutes" in tables:
        doc["minutes"] = [{c: _clean(c, v) for c, v in zip(MINUTE_COLUMNS, m)} for m in query.minutes(db, r)]
    if "sessions" in tables:
        doc["sessions"] = [{RENAMED.get(c, c): _clean(c, v) for c, v in sess.items()} for sess in query.sessions(db, r)]
    if table is None:
        doc["events"] = [{"unix_ms": t, "kind": k, "data": _event_data(k, d)} for t, k, d in query.events(db, r)]
    json.dump(doc, out, indent=1)
    out.write("\n")
    return len(doc.get(tables[0], []))


def _event_data(kind, data):
    data = bytes(data or b"")
    if kind == records.TYPE_NAMES[records.GAP]:
        return records.decode_gap(data)
    if kind == records.TYPE_NAMES[records.BOOT]:
        return records.decode_boot(data)
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data.hex()
