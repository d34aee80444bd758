"""`soothe sessions` and `soothe export`: what the store holds, as tables and open formats.

Formats:
- kubios: the Kubios HRV "RR text" format, one RR interval in ms per line.  Extra
  detections (flag 1) are left out, since their interval is merged into the next
  beat; other flagged beats stay in, so Kubios's own artefact correction sees the
  series as measured.  The format has no way to mark a gap, so a warning on stderr
  lists stretches with no reading longer than 5 s.
- csv: one row per beat (`--table beats`, default), per minute summary
  (`--table minutes`) or per breathing session (`--table sessions`).
- json: one object with the device, the range, beats, minutes, sessions and events.
"""
import csv
import json

from . import query
from .fw import beats as fw_beats
from .fw import records

FORMATS = ("csv", "json", "kubios")
TABLES = ("beats", "minutes", "sessions")
MINUTE_COLUMNS = ("unix_s", "state", "quality_pct", "hr_bpm", "rmssd_ms", "sdnn_ms", "coherence",
                  "resonance_hz", "beats")
_EXTRA = 1
_GAP_MS = 5000


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
        nbeats = sum(m[8] for m in mins)
        clean = sum(m[8] * m[2] / 100.0 for m in mins)

        def mean(i):
            vals = [m[i] for m in worn if m[i] > 0]
            return sum(vals) / len(vals) if vals else 0.0

        out.append({"day": dr.label, "minutes": len(mins), "worn_min": len(worn), "beats": nbeats,
                    "clean_pct": 100.0 * clean / nbeats if nbeats else 0.0, "hr_bpm": mean(3), "rmssd_ms": mean(4),
                    "states": per_state, "sessions": len(query.sessions(db, dr))})
    return out


def print_sessions(db, r, out):
    days = day_rows(db, r)
    if not days:
        out.write("no data for %s in %s\n" % (r.device_id, r.label))
        return
    out.write("Days for %s (%s)\n" % (r.device_id, r.label))
    out.write("%-10s %7s %7s %6s %6s %6s %7s %7s %7s %7s %8s\n" % (
        "day", "logged", "worn", "beats", "clean", "HR", "RMSSD", "threat", "drive", "soothe", "sessions"))
    for d in days:
        st = d["states"]
        out.write("%-10s %7s %7s %6d %5.1f%% %6.1f %7.1f %7s %7s %7s %8d\n" % (
            d["day"], _fmt_dur(d["minutes"]), _fmt_dur(d["worn_min"]), d["beats"], d["clean_pct"], d["hr_bpm"],
            d["rmssd_ms"], _fmt_dur(st.get("threat", 0)), _fmt_dur(st.get("drive", 0)),
            _fmt_dur(st.get("soothe", 0)), d["sessions"]))
    sess = query.sessions(db, r)
    out.write("\nBreathing sessions (%d)\n" % len(sess))
    if not sess:
        out.write("  none in this range: a short press on the button starts one\n")
        return
    out.write("%-19s %-8s %6s %6s %-9s %-20s %-17s %9s\n" % (
        "start", "kind", "length", "pace", "finished", "RMSSD before/in/after", "coherence b/in/a", "resonance"))
    for s in sess:
        out.write("%-19s %-8s %5ds %4.1f/m %-9s %6.1f %6.1f %6.1f  %5.2f %5.2f %5.2f %6.1f/m\n" % (
            query.local_time(s["unix_s"]), s["kind"], s["duration_s"], s["rate_bpm"],
            "yes" if s["completed"] else "stopped", s["before_rmssd"], s["during_rmssd"], s["after_rmssd"],
            s["before_coh"], s["during_coh"], s["after_coh"], s["resonance_hz"] * 60))


def gaps(beat_rows):
    """[(from_ms, to_ms)] stretches longer than 5 s with no beat."""
    out = []
    for (t0, _, _), (t1, rr, _) in zip(beat_rows, beat_rows[1:]):
        if t1 - t0 > max(_GAP_MS, 2 * rr):
            out.append((t0, t1))
    return out


def export(db, r, fmt, out, table="beats", warn=None):
    """Writes the range in `fmt` to the text stream `out`; returns the number of rows written."""
    if fmt == "kubios":
        # Kubios takes one RR series: unworn time (minutes with no reading) is left
        # out, as the gap warning below says; artefacts while worn stay for Kubios.
        rows = query.worn_beats(query.beats(db, r), query.minutes(db, r))
        n = 0
        for _, rr, flag in rows:
            if flag != _EXTRA:
                out.write("%d\n" % rr)
                n += 1
        g = gaps(rows)
        if g and warn:
            warn("%d stretch(es) without a reading (the first at %s) are joined in the RR list; "
                 "Kubios cannot mark gaps, so analyse day segments separately if that matters"
                 % (len(g), query.local_time(g[0][0] // 1000)))
        return n
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        if table == "beats":
            w.writerow(("time_local", "unix_ms", "rr_ms", "flag", "flag_name"))
            rows = query.beats(db, r)
            for t, rr, flag in rows:
                w.writerow((query.local_time(t // 1000) + ".%03d" % (t % 1000), t, rr, flag, fw_beats.FLAG_NAMES[flag]
                            if flag < len(fw_beats.FLAG_NAMES) else flag))
        elif table == "minutes":
            w.writerow(("time_local",) + MINUTE_COLUMNS)
            rows = query.minutes(db, r)
            for m in rows:
                w.writerow((query.local_time(m[0]),) + tuple(m))
        else:
            w.writerow(("time_local",) + query.SESSION_COLUMNS)
            rows = query.sessions(db, r)
            for s in rows:
                w.writerow((query.local_time(s["unix_s"]),) + tuple(s[c] for c in query.SESSION_COLUMNS))
        return len(rows)
    doc = {
        "format": "soothe-export/1",
        "device_id": r.device_id,
        "range": {"label": r.label, "start_unix_s": r.start, "end_unix_s": r.end},
        "beats": [{"unix_ms": t, "rr_ms": rr, "flag": flag} for t, rr, flag in query.beats(db, r)],
        "minutes": [dict(zip(MINUTE_COLUMNS, m)) for m in query.minutes(db, r)],
        "sessions": query.sessions(db, r),
        "events": [{"unix_ms": t, "kind": k, "data": _event_data(k, d)} for t, k, d in query.events(db, r)],
    }
    json.dump(doc, out, indent=1)
    out.write("\n")
    return len(doc["beats"])


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
