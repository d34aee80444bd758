"""Issue 15 #5 on the host: a boot that never met a host (its clock started at 0) is placed
by its neighbours when its span provably fits between them, and otherwise stays undated and
says why; placement never shows 1970 nor a guess as a fact.  Old 0.3 databases still open.
The records are made with the firmware's own codec, as the device frames them."""
import sqlite3

from soothe import cli, dating
from soothe.store import SCHEMA_VERSION, UNDATED_BEFORE_S, Store
from soothe_fw.log import records

W0 = 1767600000  # 2026-01-05, the wall time the first boot starts at


def boot(seq, counter, wall_s, minutes):
    """[(seq, type, payload, boot, up_ms)] of one boot: BOOT at uptime 0.2 s, a MINUTE
    every 60 s from uptime 5.25 s, an event in the middle.  wall_s None: clock never set
    (its payload times are the uptime, as on an ESP32 powered up away from the host)."""
    base = wall_s or 0
    buf = bytearray(records.MAX_PAYLOAD)
    out = []
    n = records.encode_boot(buf, base, wall_s is not None, records.FIRMWARE_VERSION, "test")
    out.append((seq, records.BOOT, bytes(buf[:n]), counter, 200))
    mb = records.MinuteBuilder()
    for k in range(minutes):
        up = 5250 + 60000 * k
        mb.reset(base + up // 1000, up % 1000)
        for i in range(70):
            mb.add(i * 850, 850, 0)
        n = mb.finish(3, 7000, 450, 500, 80, 100)
        seq += 1
        out.append((seq, records.MINUTE, bytes(mb.buf[:n]), counter, up))
        if k == minutes // 2:
            seq += 1
            n = records.encode_event(buf, base + up // 1000, up % 1000, records.EV_BUTTON, b"short")
            out.append((seq, records.EVENT, bytes(buf[:n]), counter, up))
    return out


def _end(recs):
    return recs[-1][4]  # uptime of the boot's last record (a minute's start)


LAST_BEAT_MS = 69 * 850  # a minute's last beat, after its start


def _store(tmp_path, *boots):
    s = Store(tmp_path / "d.db")
    s.note_device("dev", records.FIRMWARE_VERSION, W0)
    for b in boots:
        s.add_batch("dev", b)
    return s


def _minutes(s, first, last):
    return [u for (u,) in s.db.execute("SELECT unix_s FROM minutes WHERE device_id='dev' AND seq BETWEEN ? AND ? "
                                       "ORDER BY seq", (first, last))]


def test_a_hostless_boot_that_fits_between_its_neighbours_is_placed_with_its_bound(tmp_path, capsys):
    a = boot(1, 1, W0, 30)
    b = boot(a[-1][0] + 1, 2, None, 20)
    a_end_ms = W0 * 1000 + _end(a) + LAST_BEAT_MS
    spare_ms = 100000  # the wearer's day: 100 s between A's last record and C's start, less B
    c_start_s = (a_end_ms + _end(b) + spare_ms) // 1000
    c = boot(b[-1][0] + 1, 3, c_start_s, 5)
    s = _store(tmp_path, a, b, c)
    rows = dating.place(s, "dev")
    assert [r[4] for r in rows] == ["clock", "neighbours", "clock"]
    placed = rows[1]
    spare = c_start_s * 1000 - a_end_ms - _end(b) - LAST_BEAT_MS + 1000  # B's span: to its last minute's last beat
    assert abs(placed[5] - (a_end_ms + spare // 2)) <= 1000
    # half the spare time, plus 1 s: the neighbours' rows hold whole seconds
    assert spare // 2 <= placed[6] <= spare // 2 + 1500
    mins = _minutes(s, b[0][0], b[-1][0])
    last_beat = s.db.execute("SELECT MAX(t_unix_ms) FROM beats WHERE seq BETWEEN ? AND ?",
                             (b[0][0], b[-1][0])).fetchone()[0]
    assert len(mins) == 20 and min(mins) * 1000 >= a_end_ms and last_beat <= c_start_s * 1000 + 1000
    assert all(59 <= y - x <= 61 for x, y in zip(mins, mins[1:]))
    # the beats moved with their minutes, to the ms
    first_beat = s.db.execute("SELECT MIN(t_unix_ms) FROM beats WHERE seq=?", (b[1][0],)).fetchone()[0]
    assert first_beat == placed[5] + 5250
    assert s.undated_minutes("dev") == 0
    assert dating.placed_minutes(s.db, "dev") == (20, (placed[6] + 999) // 1000)
    # a second pass (the next sync) keeps the placement
    assert dating.place(s, "dev")[1] == placed
    assert _minutes(s, b[0][0], b[-1][0]) == mins
    s.close()
    assert cli.main(["sessions", "--db", str(tmp_path / "d.db")]) == 0
    out = capsys.readouterr().out
    assert "20 minute(s) dated by their neighbours" in out and "1970" not in out


def test_a_hostless_boot_stays_undated_when_the_window_is_too_wide_or_too_short(tmp_path):
    a = boot(1, 1, W0, 10)
    b = boot(a[-1][0] + 1, 2, None, 20)
    a_end_s = (W0 * 1000 + _end(a)) // 1000
    for name, c_start_s, why in (("wide", a_end_s + 3 * 3600, "anywhere in a 2 h 38 min stretch"),
                                 ("short", a_end_s + 15 * 60, "does not fit between its neighbours")):
        d = tmp_path / name
        d.mkdir()
        c = boot(b[-1][0] + 1, 3, c_start_s, 5)
        s = _store(d, a, b, c)
        rows = dating.place(s, "dev")
        assert [r[4] for r in rows] == ["clock", "undated", "clock"]
        assert why in rows[1][7]
        assert all(u < UNDATED_BEFORE_S for u in _minutes(s, b[0][0], b[-1][0]))  # never moved
        assert s.undated_minutes("dev") == 20
        s.close()


def test_a_hostless_boot_waits_for_a_later_dated_boot_then_is_placed(tmp_path):
    a = boot(1, 1, W0, 10)
    b1 = boot(a[-1][0] + 1, 2, None, 15)
    b2 = boot(b1[-1][0] + 1, 3, None, 12)  # two host-less boots in a row: placed back to back
    s = _store(tmp_path, a, b1, b2)
    rows = dating.place(s, "dev")
    assert [r[4] for r in rows] == ["clock", "undated", "undated"]
    assert "no dated boot after it yet" in rows[2][7]
    a_end_ms = W0 * 1000 + _end(a) + LAST_BEAT_MS
    c = boot(b2[-1][0] + 1, 4, (a_end_ms + _end(b1) + _end(b2) + 240000) // 1000, 3)
    s.add_batch("dev", c)
    rows = dating.place(s, "dev")
    assert [r[4] for r in rows] == ["clock", "neighbours", "neighbours", "clock"]
    assert rows[2][5] == rows[1][5] + rows[1][3] and rows[1][6] == rows[2][6]  # back to back
    m1, m2 = _minutes(s, b1[0][0], b1[-1][0]), _minutes(s, b2[0][0], b2[-1][0])
    assert m1[-1] < m2[0] and m1[0] * 1000 >= a_end_ms
    s.close()


def test_a_database_of_format_0_3_opens_reads_and_takes_new_records(tmp_path, capsys):
    """A database written by the host of format 0.3 (schema 2, records without boot or
    uptime) opens, keeps its rows, answers `sessions`, and the 0.4 dating leaves it alone."""
    path = tmp_path / "old.db"
    con = sqlite3.connect(str(path))
    con.executescript("""
CREATE TABLE devices (device_id TEXT PRIMARY KEY, version TEXT, first_sync_unix REAL, last_sync_unix REAL);
CREATE TABLE records (device_id TEXT NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL, payload BLOB NOT NULL,
    PRIMARY KEY (device_id, seq));
CREATE TABLE minutes (device_id TEXT NOT NULL, seq INTEGER NOT NULL, unix_s INTEGER NOT NULL, state TEXT,
    quality_pct INTEGER, hr_bpm REAL, rmssd_ms REAL, sdnn_ms REAL, coherence REAL, resonance_hz REAL,
    beats INTEGER, PRIMARY KEY (device_id, seq));
CREATE TABLE beats (device_id TEXT NOT NULL, seq INTEGER NOT NULL, idx INTEGER NOT NULL, t_unix_ms INTEGER NOT NULL,
    rr_ms INTEGER NOT NULL, flag INTEGER NOT NULL, PRIMARY KEY (device_id, seq, idx));
CREATE TABLE events (device_id TEXT NOT NULL, seq INTEGER NOT NULL, unix_ms INTEGER NOT NULL, kind TEXT, data BLOB,
    PRIMARY KEY (device_id, seq));
CREATE TABLE sessions (device_id TEXT NOT NULL, seq INTEGER NOT NULL, unix_s INTEGER NOT NULL, duration_s INTEGER,
    rate_bpm REAL, kind TEXT, completed INTEGER,
    before_hr REAL, before_rmssd REAL, before_coh REAL, during_hr REAL, during_rmssd REAL, during_coh REAL,
    after_hr REAL, after_rmssd REAL, after_coh REAL, resonance_hz REAL, PRIMARY KEY (device_id, seq));
CREATE TABLE logs (device_id TEXT NOT NULL, epoch INTEGER NOT NULL, log_id TEXT NOT NULL UNIQUE,
    PRIMARY KEY (device_id, epoch));
CREATE TABLE lost (device_id TEXT NOT NULL, first_seq INTEGER NOT NULL, count INTEGER NOT NULL, reason TEXT,
    PRIMARY KEY (device_id, first_seq));
PRAGMA user_version=2;
""")
    con.execute("INSERT INTO devices VALUES ('dev', '0.3.0', 0, 0)")
    con.commit()
    con.close()
    s = Store(path)  # migrates: the 0.3 rows go in through the 0.3-shaped batch (no time fields)
    s.add_batch("dev", [r[:3] for r in boot(1, 1, W0, 12)])
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION  # the newest (issue 19 added a step)
    assert s.db.execute("SELECT COUNT(*) FROM records WHERE boot IS NULL").fetchone()[0] == 14
    assert dating.place(s, "dev") == []
    s.add_batch("dev", boot(15, 1, W0 + 3600, 3))  # the device updated to 0.4: its records carry time
    assert [r[4] for r in dating.place(s, "dev")] == ["clock"]
    s.close()
    assert cli.main(["sessions", "--db", str(path)]) == 0
    assert "2026-01-05" in capsys.readouterr().out
