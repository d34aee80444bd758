"""SQLite store of synced records: raw records plus decoded minutes, beats and events.

Every key starts with the device id, so two devices never mix.  A batch of
records goes in one transaction (INSERT OR IGNORE on device_id + seq) before
the device is told to ACK it.  The file is created 0600 in a 0700 folder.

Logs.  A device's log has an epoch id made when its flash was formatted; each
(device id, epoch) is one log, stored under its own id in `device_id`: the
first log of a device keeps the device id, later ones get `<device>.<n>`, so a
log that restarts at seq 1 after an erase is stored beside the old one, never
mistaken for a replay of it.  Seqs the device declared lost (GAP_DAMAGED) are
in `lost` and count as present for resuming.  Marks (issue 19) are in `marks`; the
wearer's tags for them in `mark_tags`, which only this computer holds.  The schema version is PRAGMA
user_version; a newer database is refused with the version it needs.

Time.  A record of format 0.4 keeps its boot counter and uptime (records.boot,
records.up_ms; NULL for records synced from 0.3 firmware, whose payloads still
decode).  `boots` says how each boot of a log is dated (dating.py): by its clock,
by its neighbours (with a bound), or not at all, and why.
"""
import errno
import fcntl
import os
import sqlite3
import struct
from pathlib import Path

from soothe_fw.log import records

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, version TEXT, first_sync_unix REAL, last_sync_unix REAL);
CREATE TABLE IF NOT EXISTS records (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (device_id, seq));
CREATE TABLE IF NOT EXISTS minutes (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, unix_s INTEGER NOT NULL, state TEXT,
    quality_pct INTEGER, hr_bpm REAL, rmssd_ms REAL, sdnn_ms REAL, coherence REAL, resonance_hz REAL,
    beats INTEGER, PRIMARY KEY (device_id, seq));
CREATE TABLE IF NOT EXISTS beats (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL, t_unix_ms INTEGER NOT NULL,
    rr_ms INTEGER NOT NULL, flag INTEGER NOT NULL, PRIMARY KEY (device_id, seq, idx));
CREATE TABLE IF NOT EXISTS events (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, unix_ms INTEGER NOT NULL, kind TEXT, data BLOB,
    PRIMARY KEY (device_id, seq));
CREATE TABLE IF NOT EXISTS sessions (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, unix_s INTEGER NOT NULL, duration_s INTEGER,
    rate_bpm REAL, kind TEXT, completed INTEGER,
    before_hr REAL, before_rmssd REAL, before_coh REAL, during_hr REAL, during_rmssd REAL, during_coh REAL,
    after_hr REAL, after_rmssd REAL, after_coh REAL, resonance_hz REAL, PRIMARY KEY (device_id, seq));
CREATE INDEX IF NOT EXISTS minutes_time ON minutes (device_id, unix_s);
CREATE INDEX IF NOT EXISTS beats_time ON beats (device_id, t_unix_ms);
"""

# user_version -> script that brings a database from that version to the next one.
MIGRATIONS = {
    0: "",  # 0: empty, or from before versions: SCHEMA below makes its tables
    1: """
CREATE TABLE IF NOT EXISTS logs (
    device_id TEXT NOT NULL, epoch INTEGER NOT NULL, log_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (device_id, epoch));
CREATE TABLE IF NOT EXISTS lost (
    device_id TEXT NOT NULL, first_seq INTEGER NOT NULL, count INTEGER NOT NULL, reason TEXT,
    PRIMARY KEY (device_id, first_seq));
""",
    2: """
ALTER TABLE records ADD COLUMN boot INTEGER;
ALTER TABLE records ADD COLUMN up_ms INTEGER;
CREATE TABLE IF NOT EXISTS boots (
    device_id TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, boot INTEGER,
    span_ms INTEGER, dating TEXT, start_unix_ms INTEGER, bound_ms INTEGER, why TEXT,
    PRIMARY KEY (device_id, first_seq));
""",
    # 3: issue 19 (see _issue19), a function so that it can run again safely.
    3: lambda db: _issue19(db),
}
SCHEMA_VERSION = len(MIGRATIONS)

ISSUE19_TABLES = """
CREATE TABLE IF NOT EXISTS marks (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, unix_ms INTEGER NOT NULL, state_at_mark TEXT,
    before_hr REAL, before_rmssd REAL, before_state TEXT, before_ok_pct INTEGER,
    after_hr REAL, after_rmssd REAL, after_state TEXT, after_ok_pct INTEGER, PRIMARY KEY (device_id, seq));
CREATE TABLE IF NOT EXISTS mark_tags (
    device_id TEXT NOT NULL, seq INTEGER NOT NULL, tag TEXT, note TEXT, tagged_unix REAL,
    PRIMARY KEY (device_id, seq));
CREATE INDEX IF NOT EXISTS marks_time ON marks (device_id, unix_ms);
"""


def _has_issue19(db):
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {"marks", "mark_tags"} <= tables and "practice" in {r[1] for r in db.execute("PRAGMA table_info(sessions)")}


def _issue19(db):
    """Marked moments (MARK records; NULL = the device had no evidence), the wearer's tags
    for them (kept on this computer only, never sent to a device), and the practice of each
    session (sessions from before it were breathing).  Idempotent: a database whose version
    number was taken by another build's step still ends up with these."""
    for stmt in ISSUE19_TABLES.split(";"):
        if stmt.strip():
            db.execute(stmt)
    if "practice" not in {r[1] for r in db.execute("PRAGMA table_info(sessions)")}:
        db.execute("ALTER TABLE sessions ADD COLUMN practice TEXT NOT NULL DEFAULT 'breathing'")
# A device clock that was never set counts from 0 (1970): rows before this are undated.
UNDATED_BEFORE_S = 946684800  # 2000-01-01


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


class StoreBusy(StoreError):
    pass


def ensure_private_dir(path):
    """Creates a folder (and missing parents) only the user may open; an existing folder
    keeps its mode (it may be /tmp or someone's home)."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)  # mkdir's mode goes through the umask


def ensure_private_file(path):
    """Creates `path` (and its folder) if missing, never truncating it; only the user may read it."""
    path = Path(path)
    ensure_private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def open_private(path, **kw):
    """Opens `path` for writing (created or truncated) as a text file only the user may read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    return os.fdopen(fd, "w", **kw)


def default_db_path():
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "soothe" / "soothe.db"


class Store:
    def __init__(self, path=None):
        self.path = Path(path) if path else default_db_path()
        self._lock = None
        try:
            ensure_private_file(self.path)
            if not path:  # our own data folder, from before it was made 0700: tighten it
                os.chmod(self.path.parent, 0o700)
        except OSError as e:
            raise StoreError("cannot use %s as the database: %s" % (self.path, e.strerror or e)) from e
        if self.path.is_dir():
            raise StoreError("%s is a folder, not a database: pass --db with a file name" % self.path)
        try:
            self.db = sqlite3.connect(str(self.path), timeout=2.0)
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise StoreError(_db_problem(self.path, e)) from e

    def _migrate(self):
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self.db.close()
            raise StoreError("%s was written by a newer soothe (database version %d; this one reads up to %d): "
                             "update soothe (pip install -U soothe)" % (self.path, version, SCHEMA_VERSION))
        self.db.executescript(SCHEMA)  # idempotent: tables added to it appear in any version
        for v in range(version, SCHEMA_VERSION):
            # One transaction per step, the version bump inside it: a migration cut short
            # (power, Ctrl-C) leaves the database at the old version, never half-altered.
            step = MIGRATIONS[v]
            if callable(step):
                self.db.execute("BEGIN")
                step(self.db)
                self.db.execute("PRAGMA user_version=%d" % (v + 1))
                self.db.commit()
            else:
                self.db.executescript("BEGIN;\n%s\nPRAGMA user_version=%d;\nCOMMIT;" % (step, v + 1))
        if not _has_issue19(self.db):
            # The version says the step ran, but its tables are missing: the number was taken
            # by another build's step (a development database).  It is idempotent: run it.
            self.db.execute("BEGIN")
            _issue19(self.db)
            self.db.commit()
            version = -1
        if version < SCHEMA_VERSION:
            self._backfill()
        # A database from before versions, or hand-edited: every table must have its columns.
        for table, column in (("records", "payload"), ("minutes", "beats"), ("beats", "flag"),
                              ("events", "data"), ("sessions", "resonance_hz"), ("devices", "version"),
                              ("records", "up_ms"), ("boots", "why"),
                              ("sessions", "practice"), ("marks", "after_ok_pct"), ("mark_tags", "note")):
            cols = {r[1] for r in self.db.execute("PRAGMA table_info(%s)" % table)}
            if column not in cols:
                self.db.close()
                raise StoreError("%s is damaged: table %s has no column %s; move it aside and sync again"
                                 % (self.path, table, column))

    def lock(self):
        """Takes the database for one writer (a sync); StoreBusy if another holds it."""
        f = open(str(self.path) + ".lock", "a")
        try:
            os.chmod(f.name, 0o600)
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            f.close()
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreBusy("%s is busy: another soothe sync is writing it; try again when it has finished"
                                % self.path) from e
            raise
        self._lock = f
        return self

    def close(self):
        self.db.close()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def log_id(self, device_id, epoch):
        """The id a device's log (device id + epoch) is stored under (see the module docstring)."""
        if not epoch:
            return device_id
        row = self.db.execute("SELECT log_id FROM logs WHERE device_id=? AND epoch=?", (device_id, epoch)).fetchone()
        if row:
            return row[0]
        n = self.db.execute("SELECT COUNT(*) FROM logs WHERE device_id=?", (device_id,)).fetchone()[0]
        log_id = device_id if n == 0 else "%s.%d" % (device_id, n + 1)
        with self.db:
            self.db.execute("INSERT INTO logs VALUES (?,?,?)", (device_id, epoch, log_id))
        return log_id

    def max_seq(self, device_id):
        """The highest seq stored, or declared lost, for a log."""
        row = self.db.execute("SELECT MAX(seq) FROM records WHERE device_id=?", (device_id,)).fetchone()
        lost = self.db.execute("SELECT MAX(first_seq + count - 1) FROM lost WHERE device_id=?",
                               (device_id,)).fetchone()
        return max(row[0] or 0, lost[0] or 0)

    def lost(self, device_id):
        """[(first_seq, count, reason)] the device declared lost."""
        return self.db.execute("SELECT first_seq, count, reason FROM lost WHERE device_id=? ORDER BY first_seq",
                               (device_id,)).fetchall()

    def note_device(self, device_id, version, now):
        with self.db:
            self.db.execute(
                "INSERT INTO devices VALUES (?,?,?,?) ON CONFLICT(device_id) DO UPDATE SET "
                "version=excluded.version, last_sync_unix=excluded.last_sync_unix",
                (device_id, version, now, now))

    def add_batch(self, device_id, batch):
        """Stores [(seq, type, payload[, boot, up_ms])] in one transaction; returns how many
        were new.  Without boot and uptime (0.3 records, tests) those columns stay NULL."""
        new = 0
        with self.db:
            for rec in batch:
                seq, rtype, payload = rec[:3]
                boot, up_ms = rec[3:5] if len(rec) >= 5 else (None, None)
                cur = self.db.execute("INSERT OR IGNORE INTO records (device_id, seq, type, payload, boot, up_ms) "
                                      "VALUES (?,?,?,?,?,?)", (device_id, seq, rtype, payload, boot, up_ms))
                if cur.rowcount == 0:
                    continue
                new += 1
                self._decode_into(device_id, seq, rtype, payload)
        return new

    def _decode_into(self, device_id, seq, rtype, payload):
        d = records.decode(rtype, payload)
        if rtype == records.MINUTE:
            self.db.execute("INSERT OR IGNORE INTO minutes VALUES (?,?,?,?,?,?,?,?,?,?,?)", (
                device_id, seq, d["unix_s"], d["state"], d["quality_pct"], d["hr_bpm"], d["rmssd_ms"],
                d["sdnn_ms"], d["coherence"], d["resonance_hz"], len(d["beats"])))
            base_ms = d["unix_s"] * 1000
            self.db.executemany("INSERT OR IGNORE INTO beats VALUES (?,?,?,?,?,?)", [
                (device_id, seq, i, base_ms + t, rr, flag) for i, (t, rr, flag) in enumerate(d["beats"])])
        elif rtype == records.EVENT:
            self.db.execute("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?)",
                            (device_id, seq, d["unix_s"] * 1000 + d["ms"], d["kind"], d["data"]))
            if d["kind"] == "time_set" and len(d["data"]) == 8:
                # What this boot logged before its clock was first set sits near 1970: date it now.
                boot = self.db.execute("SELECT MAX(seq) FROM records WHERE device_id=? AND type=? AND seq<?",
                                       (device_id, records.BOOT, seq)).fetchone()[0] or 0
                self.redate(device_id, boot, seq, struct.unpack("<q", d["data"])[0])
        elif rtype == records.SESSION:
            b, du, a = d["before"], d["during"], d["after"]
            self.db.execute(
                "INSERT OR IGNORE INTO sessions (%s) VALUES (%s)" % (", ".join(_SESSION_ROW), ",".join("?" * 18)), (
                    device_id, seq, d["unix_s"], d["duration_s"], d["rate_bpm"], d["kind"], int(d["completed"]),
                    b["hr_bpm"], b["rmssd_ms"], b["coherence"], du["hr_bpm"], du["rmssd_ms"], du["coherence"],
                    a["hr_bpm"], a["rmssd_ms"], a["coherence"], d["resonance_hz"], _practice_name(d)))
        elif rtype == records.MARK:
            self._store_mark(device_id, seq, d)
        elif rtype in (records.BOOT, records.GAP):
            lost = records.declared_lost(rtype, seq, payload)
            if lost:
                self.db.execute("INSERT OR IGNORE INTO lost VALUES (?,?,?,?)", (device_id, seq, lost, d["why"]))
            self.db.execute("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?)",
                            (device_id, seq, d["unix_s"] * 1000, records.TYPE_NAMES[rtype], payload))

    def _store_mark(self, device_id, seq, d):
        b, a = d["before"], d["after"]
        self.db.execute("INSERT OR IGNORE INTO marks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", (
            device_id, seq, d["unix_s"] * 1000 + d["ms"], _state_name(d["state_at_mark"]),
            b["hr"], b["rmssd"], _state_name(b["state"]), b["ok_pct"],
            a["hr"], a["rmssd"], _state_name(a["state"]), a["ok_pct"]))

    def _backfill(self):
        """Decodes what a database from before a table kept only raw (a MARK record stored by
        a host that did not know the type), so an upgraded store is the same as a fresh one."""
        rows = self.db.execute("SELECT device_id, seq, payload FROM records r WHERE type=? AND NOT EXISTS "
                               "(SELECT 1 FROM marks m WHERE m.device_id=r.device_id AND m.seq=r.seq)",
                               (records.MARK,)).fetchall()
        with self.db:
            for device_id, seq, payload in rows:
                try:
                    self._store_mark(device_id, seq, records.decode_mark(payload))
                except (ValueError, IndexError, KeyError, struct.error):
                    continue  # kept raw in `records`, as before

    def tag_mark(self, device_id, seq, tag, note, now):
        """Sets the wearer's tag and note for a mark (host only; None clears one)."""
        with self.db:
            if tag is None and note is None:
                self.db.execute("DELETE FROM mark_tags WHERE device_id=? AND seq=?", (device_id, seq))
            else:
                self.db.execute("INSERT INTO mark_tags VALUES (?,?,?,?,?) ON CONFLICT(device_id, seq) DO UPDATE SET "
                                "tag=excluded.tag, note=excluded.note, tagged_unix=excluded.tagged_unix",
                                (device_id, seq, tag, note, now))

    def redate(self, device_id, from_seq, to_seq, offset_ms):
        """Moves the undated rows (device clock never set: before 2000) with seq in
        [from_seq, to_seq) by offset_ms onto the host's timeline.  Dated rows never move.
        Rows in ms move by the whole offset; rows in whole seconds by its seconds
        (a minute's beats keep their own ms)."""
        cut_s = UNDATED_BEFORE_S
        args = (device_id, from_seq, to_seq)
        for table, col in (("minutes", "unix_s"), ("sessions", "unix_s")):
            # A whole-second start moved by a fractional offset: its beats (in ms) say the rest.
            self.db.execute("UPDATE %s SET %s=(%s*1000+?)/1000 WHERE device_id=? AND seq>=? AND seq<? AND %s<?"
                            % (table, col, col, col), (offset_ms,) + args + (cut_s,))
        self.db.execute("UPDATE beats SET t_unix_ms=t_unix_ms+? WHERE device_id=? AND seq>=? AND seq<? "
                        "AND t_unix_ms<?", (offset_ms,) + args + (cut_s * 1000,))
        self.db.execute("UPDATE events SET unix_ms=unix_ms+? WHERE device_id=? AND seq>=? AND seq<? AND unix_ms<?",
                        (offset_ms,) + args + (cut_s * 1000,))
        self.db.execute("UPDATE marks SET unix_ms=unix_ms+? WHERE device_id=? AND seq>=? AND seq<? AND unix_ms<?",
                        (offset_ms,) + args + (cut_s * 1000,))

    def undated_minutes(self, device_id):
        return self.db.execute("SELECT COUNT(*) FROM minutes WHERE device_id=? AND unix_s<?",
                               (device_id, UNDATED_BEFORE_S)).fetchone()[0]

    def last_seq_of_type(self, device_id, rtype):
        """The newest stored record of this type (e.g. records.BOOT: where this boot began), or 0."""
        return self.db.execute("SELECT MAX(seq) FROM records WHERE device_id=? AND type=?",
                               (device_id, rtype)).fetchone()[0] or 0

    def dated_days_from(self, device_id, first_seq):
        """Local days ('2026-01-05') holding dated minutes from record `first_seq` on."""
        rows = self.db.execute(
            "SELECT DISTINCT date(unix_s, 'unixepoch', 'localtime') FROM minutes WHERE device_id=? AND seq>=? "
            "AND unix_s>=? ORDER BY 1", (device_id, first_seq, UNDATED_BEFORE_S)).fetchall()
        return [r[0] for r in rows]

    def event_count(self, device_id, kind):
        return self.db.execute("SELECT COUNT(*) FROM events WHERE device_id=? AND kind=?",
                               (device_id, kind)).fetchone()[0]

    def seqs(self, device_id):
        return [r[0] for r in self.db.execute("SELECT seq FROM records WHERE device_id=? ORDER BY seq", (device_id,))]

    def gaps(self, device_id):
        """Seq ranges [(from, to)] neither stored nor declared lost by the device (a hole)."""
        covered = {s: s + n - 1 for s, n, _ in self.lost(device_id)}
        out = []
        prev = None
        for (seq,) in self.db.execute("SELECT seq FROM records WHERE device_id=? ORDER BY seq", (device_id,)):
            if prev is not None and seq != prev + 1:
                out.append((prev + 1, seq - 1))
            prev = covered.get(seq, seq)
        return out


_SESSION_ROW = ("device_id", "seq", "unix_s", "duration_s", "rate_bpm", "kind", "completed", "before_hr",
                "before_rmssd", "before_coh", "during_hr", "during_rmssd", "during_coh", "after_hr", "after_rmssd",
                "after_coh", "resonance_hz", "practice")


def _state_name(code):
    """A state as its name (records.STATE_NAMES); None stays None (no evidence)."""
    if code is None or isinstance(code, str):
        return code
    return records.STATE_NAMES[code] if 0 <= code < len(records.STATE_NAMES) else str(code)


def _practice_name(d):
    """The session's practice by name; a payload from before the practice byte was breathing."""
    p = d.get("practice", 0)
    if isinstance(p, str):
        return p
    names = records.PRACTICE_NAMES
    return names[p] if 0 <= p < len(names) else str(p)


def _db_problem(path, e):
    text = str(e)
    if "not a database" in text or "malformed" in text or "disk image" in text:
        return "%s is not a soothe database (%s): pass another --db, or move it aside and sync again" % (path, text)
    if "locked" in text:
        return "%s is locked by another program: close it and try again" % path
    if "readonly" in text or "unable to open" in text:
        return "cannot open %s (%s): check that the file and its folder are writable" % (path, text)
    return "%s cannot be used as a database: %s" % (path, text)
