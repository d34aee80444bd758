"""Reading the synced store by day or date range: the one place that turns
`--day/--from/--to/--device` into rows, for sessions, export, report and summary.

Dates are calendar days in this computer's local time zone; `--to` is inclusive.
"""
import datetime as dt
import time

from .store import UNDATED_BEFORE_S


class QueryError(Exception):
    """A range or device the user asked for that the store cannot answer."""


FIRST_YEAR, LAST_YEAR = 2000, 2200  # local midnight must be a unix time on every platform


def parse_day(text, what):
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise QueryError("%s %r: use a date like 2026-01-05" % (what, text)) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise QueryError("%s %s: use a date between %d and %d" % (what, text, FIRST_YEAR, LAST_YEAR))
    return day


def day_start(day):
    """Unix seconds of local midnight starting `day`."""
    return int(time.mktime(dt.datetime(day.year, day.month, day.day).timetuple()))


def local_day(unix_s):
    return dt.datetime.fromtimestamp(unix_s).date()


def local_time(unix_s, fmt="%Y-%m-%d %H:%M:%S"):
    return dt.datetime.fromtimestamp(unix_s).strftime(fmt)


def zone_label(unix_s=None):
    """This computer's time zone at `unix_s` (default now), named: 'CET, UTC+01:00' or 'UTC'."""
    t = dt.datetime.fromtimestamp(time.time() if unix_s is None else unix_s).astimezone()
    off = t.utcoffset() or dt.timedelta(0)
    mins = int(off.total_seconds() // 60)
    name = t.tzname() or ""
    offset = "UTC%s%02d:%02d" % ("+" if mins >= 0 else "-", abs(mins) // 60, abs(mins) % 60)
    if mins == 0 and name in ("UTC", "GMT", "Etc/UTC", "Z", ""):
        return "UTC"
    if not name or name[0] in "+-":
        return offset
    return "%s, %s" % (name, offset)


def zone_short(unix_s=None):
    """The zone's abbreviation for table headers ('CET', 'UTC', '+0530')."""
    t = dt.datetime.fromtimestamp(time.time() if unix_s is None else unix_s).astimezone()
    return t.tzname() or t.strftime("%z")


class Range:
    """[start, end) in unix seconds, plus the device it is about."""

    def __init__(self, device_id, start, end, label):
        self.device_id = device_id
        self.start = start
        self.end = end
        self.label = label

    def days(self):
        d = local_day(self.start)
        while day_start(d) < self.end:
            yield d
            d += dt.timedelta(days=1)

    def day_ranges(self):
        """One Range per local day, clipped to this one."""
        for d in self.days():
            start = day_start(d)
            yield Range(self.device_id, max(self.start, start),
                        min(self.end, day_start(d + dt.timedelta(days=1))), d.isoformat())


def pick_device(db, device_id=None):
    rows = [r[0] for r in db.execute("SELECT device_id FROM devices ORDER BY last_sync_unix DESC")]
    if not rows:
        raise QueryError("the database holds no synced device yet: run `soothe sync` first")
    if device_id is None:
        return rows[0]
    if device_id not in rows:
        raise QueryError("no device %r in the database (known: %s)" % (device_id, ", ".join(rows)))
    return device_id


def resolve(db, device_id=None, day=None, from_=None, to=None, default="all"):
    """A Range from the CLI options.  Without dates: the whole store ("all") or the last day ("last")."""
    for what, text in (("--day", day), ("--from", from_), ("--to", to)):
        if text is not None and not text.strip():
            raise QueryError("%s is empty: use a date like 2026-01-05" % what)
    dev = pick_device(db, device_id)
    if day and (from_ or to):
        raise QueryError("use --day or --from/--to, not both")
    # Minutes from a boot whose clock was never set (before 2000) are undated: never shown as 1970.
    first, last = db.execute("SELECT MIN(unix_s), MAX(unix_s) FROM minutes WHERE device_id=? AND unix_s>=946684800",
                             (dev,)).fetchone()
    if day:
        d = parse_day(day, "--day")
        return Range(dev, day_start(d), day_start(d + dt.timedelta(days=1)), d.isoformat())
    if from_ or to:
        if first is None:
            raise QueryError("no minutes stored for %s yet: run `soothe sync` first" % dev)
        a = parse_day(from_, "--from") if from_ else local_day(first)
        b = parse_day(to, "--to") if to else local_day(last)
        if b < a:
            raise QueryError("--to %s is before --from %s" % (b, a))
        return Range(dev, day_start(a), day_start(b + dt.timedelta(days=1)), "%s to %s" % (a, b))
    if first is None:
        raise QueryError("no minutes stored for %s yet: run `soothe sync` first" % dev)
    if default == "last":
        d = local_day(last)
        return Range(dev, day_start(d), day_start(d + dt.timedelta(days=1)), d.isoformat())
    a, b = local_day(first), local_day(last)
    return Range(dev, day_start(a), day_start(b + dt.timedelta(days=1)), "%s to %s" % (a, b) if a != b else str(a))


def minutes(db, r):
    return db.execute(
        "SELECT unix_s, state, quality_pct, hr_bpm, rmssd_ms, sdnn_ms, coherence, resonance_hz, beats "
        "FROM minutes WHERE device_id=? AND unix_s>=? AND unix_s<? ORDER BY unix_s",
        (r.device_id, r.start, r.end)).fetchall()


def all_minutes(db, device_id):
    """Every stored minute of a device, undated ones included, in time order:
    (unix_s, state, quality_pct, hr_bpm, rmssd_ms, sdnn_ms, coherence, beats)."""
    return db.execute("SELECT unix_s, state, quality_pct, hr_bpm, rmssd_ms, sdnn_ms, coherence, beats "
                      "FROM minutes WHERE device_id=? ORDER BY unix_s", (device_id,)).fetchall()


def beat_counts(db, device_id):
    """(all stored beats, clean beats) of a device."""
    n, clean = db.execute("SELECT COUNT(*), SUM(flag=0) FROM beats WHERE device_id=?", (device_id,)).fetchone()
    return n or 0, clean or 0


def undated_minutes(db, device_id):
    """Minutes from a boot whose clock was never set by a sync (before 2000): never shown as 1970."""
    return db.execute("SELECT COUNT(*) FROM minutes WHERE device_id=? AND unix_s<?",
                      (device_id, UNDATED_BEFORE_S)).fetchone()[0]


def beats(db, r):
    """[(t_unix_ms, rr_ms, flag)] in time order."""
    return db.execute(
        "SELECT t_unix_ms, rr_ms, flag FROM beats WHERE device_id=? AND t_unix_ms>=? AND t_unix_ms<? "
        "ORDER BY t_unix_ms, seq, idx", (r.device_id, r.start * 1000, r.end * 1000)).fetchall()


def worn_beats(beat_rows, minute_rows):
    """The beats outside minutes whose state is no-reading (the device was not worn)."""
    unworn = [m[0] * 1000 for m in minute_rows if m[1] == "no-reading"]
    if not unworn:
        return beat_rows
    out = []
    i = 0
    for row in beat_rows:
        while i < len(unworn) and unworn[i] + 60000 <= row[0]:
            i += 1
        if i < len(unworn) and unworn[i] <= row[0]:
            continue
        out.append(row)
    return out


SESSION_COLUMNS = ("unix_s", "duration_s", "rate_bpm", "kind", "completed", "before_hr", "before_rmssd",
                   "before_coh", "during_hr", "during_rmssd", "during_coh", "after_hr", "after_rmssd",
                   "after_coh", "resonance_hz", "practice")


def sessions(db, r):
    rows = db.execute("SELECT %s FROM sessions WHERE device_id=? AND unix_s>=? AND unix_s<? ORDER BY unix_s"
                      % ", ".join(SESSION_COLUMNS), (r.device_id, r.start, r.end)).fetchall()
    return [dict(zip(SESSION_COLUMNS, row)) for row in rows]


def events(db, r, kind=None):
    sql = "SELECT unix_ms, kind, data FROM events WHERE device_id=? AND unix_ms>=? AND unix_ms<?"
    args = [r.device_id, r.start * 1000, r.end * 1000]
    if kind:
        sql += " AND kind=?"
        args.append(kind)
    return db.execute(sql + " ORDER BY unix_ms, seq", args).fetchall()


def lost_records(db, device_id):
    """[(first_seq, count, reason, after_unix_s or None)]: records the device declared lost
    (damaged flash, a torn flush), placed after the last stored minute before them."""
    try:
        rows = db.execute("SELECT first_seq, count, reason FROM lost WHERE device_id=? ORDER BY first_seq",
                          (device_id,)).fetchall()
    except Exception:  # noqa: BLE001 - a database from before the table: nothing declared
        return []
    out = []
    for first, count, reason in rows:
        t = db.execute("SELECT MAX(unix_s) FROM minutes WHERE device_id=? AND seq<?", (device_id, first)).fetchone()
        out.append((first, count, reason, t[0] if t else None))
    return out


MARK_COLUMNS = ("seq", "unix_ms", "state_at_mark", "before_hr", "before_rmssd", "before_state", "before_ok_pct",
                "after_hr", "after_rmssd", "after_state", "after_ok_pct", "tag", "note")


def marks(db, device_id):
    """Every mark of a log with its tag and note (None when untagged), oldest first: [dict]
    with MARK_COLUMNS as keys."""
    rows = db.execute(
        "SELECT m.seq, m.unix_ms, m.state_at_mark, m.before_hr, m.before_rmssd, m.before_state, m.before_ok_pct, "
        "m.after_hr, m.after_rmssd, m.after_state, m.after_ok_pct, t.tag, t.note FROM marks m "
        "LEFT JOIN mark_tags t ON t.device_id=m.device_id AND t.seq=m.seq WHERE m.device_id=? ORDER BY m.seq",
        (device_id,)).fetchall()
    return [dict(zip(MARK_COLUMNS, row)) for row in rows]


def state_changes(db, device_id, start_ms, end_ms, since_ms):
    """[(unix_ms, state name)] of the device's state events in [since_ms, end_ms), in order."""
    rows = db.execute("SELECT unix_ms, data FROM events WHERE device_id=? AND kind='state' AND unix_ms>=? "
                      "AND unix_ms<? ORDER BY unix_ms, seq", (device_id, since_ms, end_ms)).fetchall()
    return [(t, bytes(d).decode(errors="replace")) for t, d in rows]


def minute_states(db, device_id, start_ms, end_ms):
    """[(unix_s, state)] of the minutes overlapping [start_ms, end_ms)."""
    return db.execute("SELECT unix_s, state FROM minutes WHERE device_id=? AND unix_s*1000<? AND unix_s*1000+60000>? "
                      "ORDER BY unix_s", (device_id, end_ms, start_ms)).fetchall()
