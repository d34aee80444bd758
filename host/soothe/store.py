"""SQLite store of synced records: raw records plus decoded minutes, beats and events.

Every key starts with the device id, so two devices never mix.  A batch of
records goes in one transaction (INSERT OR IGNORE on device_id + seq) before
the device is told to ACK it.  The file is created 0600 in a 0700 folder.
"""
import os
import sqlite3
from pathlib import Path

from .fw import records

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


def ensure_private_file(path):
    """Creates `path` (and its folder) if missing, never truncating it; only the user may read it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
        ensure_private_file(self.path)
        self.db = sqlite3.connect(str(self.path))
        self.db.executescript(SCHEMA)

    def close(self):
        self.db.close()

    def max_seq(self, device_id):
        row = self.db.execute("SELECT MAX(seq) FROM records WHERE device_id=?", (device_id,)).fetchone()
        return row[0] or 0

    def note_device(self, device_id, version, now):
        with self.db:
            self.db.execute(
                "INSERT INTO devices VALUES (?,?,?,?) ON CONFLICT(device_id) DO UPDATE SET "
                "version=excluded.version, last_sync_unix=excluded.last_sync_unix",
                (device_id, version, now, now))

    def add_batch(self, device_id, batch):
        """Stores [(seq, type, payload)] in one transaction; returns how many were new."""
        new = 0
        with self.db:
            for seq, rtype, payload in batch:
                cur = self.db.execute("INSERT OR IGNORE INTO records VALUES (?,?,?,?)",
                                      (device_id, seq, rtype, payload))
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
        elif rtype == records.SESSION:
            b, du, a = d["before"], d["during"], d["after"]
            self.db.execute("INSERT OR IGNORE INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                device_id, seq, d["unix_s"], d["duration_s"], d["rate_bpm"], d["kind"], int(d["completed"]),
                b["hr_bpm"], b["rmssd_ms"], b["coherence"], du["hr_bpm"], du["rmssd_ms"], du["coherence"],
                a["hr_bpm"], a["rmssd_ms"], a["coherence"], d["resonance_hz"]))
        elif rtype in (records.BOOT, records.GAP):
            self.db.execute("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?)",
                            (device_id, seq, d["unix_s"] * 1000, records.TYPE_NAMES[rtype], payload))

    def seqs(self, device_id):
        return [r[0] for r in self.db.execute("SELECT seq FROM records WHERE device_id=? ORDER BY seq", (device_id,))]

    def gaps(self, device_id):
        """Missing seq ranges [(from, to)] in what is stored for a device."""
        out = []
        prev = None
        for (seq,) in self.db.execute("SELECT seq FROM records WHERE device_id=? ORDER BY seq", (device_id,)):
            if prev is not None and seq != prev + 1:
                out.append((prev + 1, seq - 1))
            prev = seq
        return out
