"""Issue 19 on the host: MARK records and the SESSION practice byte decoded into the store
(no evidence stays NULL, never a number), the schema migration of an older database, the
host-only tags, `soothe mark` end to end (list, tag, note, clear, JSON, bad input as one
line), and what the body showed before each mark."""
import json
import os
import sqlite3
import stat
import struct
import subprocess
import time

import pytest

import programme_log as pl
from soothe import marks, query
from soothe.store import SCHEMA_VERSION, Store
from soothe_fw.log import records


def _store_with(tmp_path, batch, name="s.db"):
    store = Store(tmp_path / name)
    store.note_device(pl.DEVICE, records.FIRMWARE_VERSION, time.time())
    store.add_batch(pl.DEVICE, batch)
    return store


def test_a_mark_is_stored_with_null_for_no_evidence(tmp_path):
    w = pl.LogWriter()
    at = pl.local(pl.START_DAY, 10, 0, 5) * 1000 + 321
    w.mark(at, "threat", (81.25, 17.5, "threat", 95), (None, None, "no-reading", 10))
    store = _store_with(tmp_path, w.batch)
    row = store.db.execute("SELECT * FROM marks").fetchone()
    assert row == (pl.DEVICE, 1, at, "threat", 81.25, 17.5, "threat", 95, None, None, "no-reading", 10)
    m = marks.marks(store.db, pl.DEVICE)[0]
    assert m["id"] == 1 and m["after"]["hr_bpm"] is None and m["after"]["rmssd_ms"] is None
    assert m["time"] == query.local_time(at // 1000)
    # stored once: the same record again (a resumed sync) adds nothing
    assert store.add_batch(pl.DEVICE, w.batch) == 0
    assert store.db.execute("SELECT COUNT(*) FROM marks").fetchone()[0] == 1
    store.close()


def test_session_practice_byte_and_an_old_session_without_it(tmp_path):
    w = pl.LogWriter()
    t = pl.local(pl.START_DAY, 9)
    w.session(t, 300, "mark", "body_scan", False, 30.0, 33.0)
    # a 0.3-format session payload (no practice byte) is breathing
    n = records.encode_session(w.buf, t + 600, 120, 55, 0, True, (7000, 300, 50), (6800, 400, 150),
                               (6900, 320, 60), 90)
    w.seq += 1
    w.batch.append((w.seq, records.SESSION, bytes(w.buf[:n - 1])))
    store = _store_with(tmp_path, w.batch)
    rows = store.db.execute("SELECT kind, completed, practice, duration_s FROM sessions ORDER BY seq").fetchall()
    assert rows == [("mark", 0, "body_scan", 300), ("manual", 1, "breathing", 120)]
    r = query.Range(pl.DEVICE, t - 60, t + 3600, "x")
    assert [s["practice"] for s in query.sessions(store.db, r)] == ["body_scan", "breathing"]
    store.close()


def _old_database(path):
    """A database as the soothe before issue 19 left it (the schema before): no marks tables, no
    practice column, a session, and a MARK record it could only keep raw."""
    store = Store(path)
    store.note_device(pl.DEVICE, "0.3.0", time.time())
    w = pl.LogWriter()
    t = pl.local(pl.START_DAY, 9)
    w.session(t, 120, "manual", "breathing", True, 30.0, 33.0)
    w.mark(t * 1000 + 5000, "balanced", (70.0, 30.0, "balanced", 99), (69.0, 31.0, "soothe", 97))
    store.db.executemany("INSERT INTO records (device_id, seq, type, payload) VALUES (?,?,?,?)",
                         [(pl.DEVICE,) + r for r in w.batch])
    store._decode_into(pl.DEVICE, *w.batch[0])
    store.db.commit()
    store.close()
    con = sqlite3.connect(path)
    con.executescript("DROP TABLE marks; DROP TABLE mark_tags; ALTER TABLE sessions DROP COLUMN practice; "
                      "PRAGMA user_version=%d;" % (SCHEMA_VERSION - 1))
    con.close()


def test_an_older_database_is_migrated_in_place(tmp_path):
    path = tmp_path / "old.db"
    _old_database(path)
    con = sqlite3.connect(path)
    assert "practice" not in {r[1] for r in con.execute("PRAGMA table_info(sessions)")}
    con.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.db.execute("SELECT practice FROM sessions").fetchall() == [("breathing",)]
    # the MARK record the old host kept raw is decoded now, and can be tagged
    assert store.db.execute("SELECT seq, state_at_mark, after_state FROM marks").fetchall() == [
        (2, "balanced", "soothe")]
    marks.set_tag(store, pl.DEVICE, 1, "kind")
    store.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # opening again changes nothing
    store = Store(path)
    assert store.db.execute("SELECT tag FROM mark_tags").fetchall() == [("kind",)]
    store.close()


def test_a_database_whose_version_number_was_taken_by_another_step_gets_the_marks_tables(tmp_path):
    """A development database at this version made by another build (its own step under the
    same number): issue 19's idempotent step runs, nothing else changes."""
    path = tmp_path / "other.db"
    _old_database(path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version=%d" % SCHEMA_VERSION)
    con.commit()
    con.close()
    store = Store(path)
    assert store.db.execute("SELECT practice FROM sessions").fetchall() == [("breathing",)]
    assert store.db.execute("SELECT seq FROM marks").fetchall() == [(2,)]
    store.close()


@pytest.mark.parametrize("damage,words", [
    ("PRAGMA user_version=%d" % (SCHEMA_VERSION + 1), "written by a newer soothe"),
    ("ALTER TABLE marks DROP COLUMN after_ok_pct", "is damaged: table marks has no column after_ok_pct"),
])
def test_a_newer_or_damaged_database_is_one_line(tmp_path, damage, words, soothe_cmd):
    path = tmp_path / "bad.db"
    _store_with(tmp_path, [], "bad.db").close()
    con = sqlite3.connect(path)
    con.execute(damage)
    con.commit()
    con.close()
    for argv in (["mark"], ["mark", "tag", "1", "kind"], ["programme"]):
        r = subprocess.run(soothe_cmd + argv + ["--db", str(path)], capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and words in r.stderr, r.stderr


def _threat_day_store(tmp_path):
    batch, truth = pl.script()
    day_end = pl.local(pl.START_DAY, 23)
    keep = [b for b in batch if int.from_bytes(b[2][:4], "little") < day_end]
    return _store_with(tmp_path, keep), truth


def test_what_the_body_showed_before_each_mark(tmp_path):
    store, truth = _threat_day_store(tmp_path)
    ms = marks.marks(store.db, pl.DEVICE)
    assert len(ms) == 2
    threat = marks.body_before(store.db, pl.DEVICE, ms[0]["unix_ms"])
    # the threat stretch began at 08:44, the press was at 08:50:25
    assert threat["shown"] == "threat" and threat["threat_began_s"] == 6 * 60 + 25
    assert threat["threat_s"] == 6 * 60 + 25
    assert "had shown threat for about 6 minutes before you marked" in marks.body_words(threat)
    calm = marks.body_before(store.db, pl.DEVICE, ms[1]["unix_ms"])
    assert calm["shown"] == "no threat" and calm["threat_s"] == 0 and calm["reading_s"] == 600
    assert "did not show threat in the 10 minutes before" in marks.body_words(calm)
    # a mark with nothing logged before it: no evidence, said so
    early = marks.body_before(store.db, pl.DEVICE, pl.local(pl.START_DAY, 8, 3) * 1000)
    assert early["shown"] == "no evidence" and "too little heart reading" in marks.body_words(early)
    # threat that had eased before the press
    eased = marks.body_before(store.db, pl.DEVICE, pl.local(pl.START_DAY, 9, 0) * 1000)
    assert eased["shown"] == "threat" and eased["threat_began_s"] is None and eased["threat_s"] == 6 * 60
    assert "had eased by the time you marked it" in marks.body_words(eased)
    # threat for longer than the look-back: said as "or more", not as an exact length
    long = marks.body_before(store.db, pl.DEVICE, pl.local(pl.START_DAY, 8, 55) * 1000, lookback_s=300)
    assert long["threat_began_s"] == 300 and "for 5 minutes or more before" in marks.body_words(long)
    store.close()


def test_a_stretch_without_minutes_holds_no_state(tmp_path):
    """The device was off from 08:30 to 08:50 after a threat event at 08:20: the mark at
    08:52 has two minutes of reading before it, not 10 minutes of threat."""
    import random

    rng = random.Random(2)
    w = pl.LogWriter()
    for i in range(20, 30):
        t = pl.local(pl.START_DAY, 8, i)
        if i == 20:
            w.event(t * 1000, records.EV_STATE, b"threat")
        w.minute(t, "threat", 18.0, rng)
    for i in range(50, 54):
        w.minute(pl.local(pl.START_DAY, 8, i), "threat", 18.0, rng)
    store = _store_with(tmp_path, w.batch)
    b = marks.body_before(store.db, pl.DEVICE, pl.local(pl.START_DAY, 8, 52) * 1000)
    assert b["threat_s"] == 120 and b["threat_began_s"] == 120 and b["reading_s"] == 120
    store.close()


def test_state_minutes_stand_in_without_state_events(tmp_path):
    batch, _ = pl.script()
    day_end = pl.local(pl.START_DAY, 23)
    keep = [b for b in batch if int.from_bytes(b[2][:4], "little") < day_end
            and not (b[1] == records.EVENT and records.decode_event(b[2])["kind"] == "state")]
    store = _store_with(tmp_path, keep)
    m = marks.marks(store.db, pl.DEVICE)[0]
    b = marks.body_before(store.db, pl.DEVICE, m["unix_ms"])
    assert b["shown"] == "threat" and b["threat_began_s"] == 6 * 60 + 25  # 08:44's minute is threat
    store.close()


def run(cmd, *args):
    return subprocess.run(list(cmd) + list(args), capture_output=True, text=True, timeout=60)


def test_soothe_mark_lists_and_tags_end_to_end(tmp_path, soothe_cmd):
    store, truth = _threat_day_store(tmp_path)
    store.close()
    db = ["--db", str(tmp_path / "s.db")]
    r = run(soothe_cmd, "mark", *db)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80
    row1 = [ln for ln in lines if ln.lstrip().startswith("1 ")][0]
    assert "08:50" in row1 and "82 > 76" in row1 and "18 > 22" in row1 and "threat > threat" in row1
    assert "yes, 6 min" in row1
    row2 = [ln for ln in lines if ln.lstrip().startswith("2 ")][0]
    assert "68 > -" in row2 and "no" in row2.split()  # no reading after: a dash, never a number
    # tag, then add a note (the tag stays), then JSON shows both
    r = run(soothe_cmd, "mark", "tag", "1", "self-critical", *db)
    assert r.returncode == 0 and "self-critical" in r.stdout, r.stderr
    r = run(soothe_cmd, "mark", "tag", "1", "--note", "after the call  with  my sister", *db)
    assert r.returncode == 0, r.stderr
    r = run(soothe_cmd, "mark", "--json", *db)
    got = json.loads(r.stdout)
    m1 = got["marks"][0]
    assert (m1["tag"], m1["note"]) == ("self-critical", "after the call with my sister")
    assert m1["body_before"]["shown"] == "threat" and got["marks"][1]["after"]["hr_bpm"] is None
    assert m1["before"] == {"hr_bpm": 82.0, "rmssd_ms": 17.5, "state": "threat", "ok_pct": 96}
    # the store holds exactly that, on this computer only
    con = sqlite3.connect(tmp_path / "s.db")
    assert con.execute("SELECT seq, tag, note FROM mark_tags").fetchall() == [
        (m1["seq"], "self-critical", "after the call with my sister")]
    r = run(soothe_cmd, "mark", "tag", "2", "Kind", *db)  # case does not matter
    assert r.returncode == 0 and "kind" in r.stdout
    r = run(soothe_cmd, "mark", "tag", "1", "--clear", *db)
    assert r.returncode == 0 and "no tag" in r.stdout
    assert con.execute("SELECT seq, tag FROM mark_tags").fetchall() == [(got["marks"][1]["seq"], "kind")]
    con.close()
    r = run(soothe_cmd, "mark", "--day", "2026-03-03", *db)
    assert r.returncode == 0 and "no marks for" in r.stdout


@pytest.mark.parametrize("argv,words", [
    (["mark", "tag", "9", "kind"], "no mark 9 for prog-1: ids run from 1 to 2"),
    (["mark", "tag", "0", "kind"], "no mark 0"),
    (["mark", "tag", "one", "kind"], "mark id 'one': use the number"),
    (["mark", "tag", "1", "furious"], "use one of self-critical, anxious, angry, ashamed, kind"),
    (["mark", "tag", "1"], "give a tag"),
    (["mark", "tag"], "give the mark's id"),
    (["mark", "tag", "1", "--note", "   "], "--note is empty"),
    (["mark", "tag", "1", "--note", "x" * 201], "keep it to 200"),
    (["mark", "tag", "1", "--note", "a\x07b"], "control characters"),
    (["mark", "tag", "1", "kind", "--clear"], "--clear removes the tag and note: give it alone"),
    (["mark", "tag", "1", "kind", "--day", "2026-03-02"], "takes a mark id, not a date range"),
    (["mark", "2"], "invalid choice"),
    (["mark", "list", "3"], "`soothe mark` lists marks"),
    (["mark", "--day", "2026-02-30"], "--day '2026-02-30'"),
    (["mark", "--device", "nope"], "no device 'nope'"),
    (["mark", "tag", "1", "kind", "--device", "nope"], "no device 'nope'"),
    (["programme", "--to", "2026-03-01", "--from", "2026-03-05"], "is before --from"),
    (["programme", "--device", "nope"], "no device 'nope'"),
])
def test_bad_mark_input_is_one_line(tmp_path, argv, words, capsys):
    from soothe import cli

    store, _ = _threat_day_store(tmp_path)
    store.close()
    try:
        code = cli.main(argv + ["--db", str(tmp_path / "s.db")])
    except SystemExit as e:  # argparse's own errors (Parser.error: one line, exit 2)
        code = e.code
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1 and words in err and "unexpected" not in err, err


def test_no_database_and_no_marks_say_so(tmp_path, capsys):
    from soothe import cli

    assert cli.main(["mark", "--db", str(tmp_path / "none.db")]) == 2
    assert "no database at" in capsys.readouterr().err
    store = _store_with(tmp_path, pl.LogWriter().batch)
    w = pl.LogWriter()
    w.minute(pl.local(pl.START_DAY, 8), "balanced", 30.0, __import__("random").Random(1))
    store.add_batch(pl.DEVICE, w.batch)
    store.close()
    assert cli.main(["mark", "tag", "1", "kind", "--db", str(tmp_path / "s.db")]) == 2
    assert "no marks stored for prog-1 yet" in capsys.readouterr().err


def test_a_baseline_still_being_learnt_is_said_as_such(tmp_path):
    """The first days: a reading, but no state yet; the words say why nothing is known."""
    import random

    rng = random.Random(3)
    w = pl.LogWriter()
    for i in range(12):
        t = pl.local(pl.START_DAY, 8, i)
        if i == 0:
            w.event(t * 1000, records.EV_STATE, b"learning")
        w.minute(t, "learning", 35.0, rng)
    store = _store_with(tmp_path, w.batch)
    b = marks.body_before(store.db, pl.DEVICE, pl.local(pl.START_DAY, 8, 11) * 1000)
    assert b["shown"] == "no evidence" and b["learning_s"] == 600 and b["reading_s"] == 0
    assert "still learning your baseline" in marks.body_words(b)
    store.close()


def test_a_mark_logged_before_the_clock_was_set_is_dated_with_its_boot(tmp_path):
    """A boot that never met a host counts from 1970; its time_set event dates what it logged,
    marks included (they are never shown as 1970)."""
    w = pl.LogWriter()
    n = records.encode_boot(w.buf, 5, False, records.FIRMWARE_VERSION, "sim")
    w.put(records.BOOT, n)
    w.mark(1200 * 1000 + 250, "balanced", (70.0, 30.0, "balanced", 99), (70.0, 31.0, "balanced", 99))
    offset_ms = (pl.local(pl.START_DAY, 9) - 1000) * 1000
    w.event(1300 * 1000, records.EV_TIME_SET, struct.pack("<q", offset_ms))
    store = _store_with(tmp_path, w.batch)
    (unix_ms,) = store.db.execute("SELECT unix_ms FROM marks").fetchone()
    assert unix_ms == 1200 * 1000 + 250 + offset_ms  # 09:03:20.250 on the first day
    assert marks.marks(store.db, pl.DEVICE)[0]["time"] == query.local_time(pl.local(pl.START_DAY, 9, 3, 20))
    store.close()


from hypothesis import given, settings, strategies as st  # noqa: E402

_part = st.tuples(st.one_of(st.none(), st.integers(0, 0xFFFE)), st.one_of(st.none(), st.integers(0, 0xFFFE)),
                  st.integers(0, len(records.STATE_NAMES) - 1), st.integers(0, 100))


@settings(max_examples=60, deadline=None)
@given(unix_s=st.integers(946684800, 2 ** 32 - 1), ms=st.integers(0, 999),
       state=st.integers(0, len(records.STATE_NAMES) - 1), before=_part, after=_part)
def test_any_mark_the_device_can_write_is_stored_as_it_was_meant(tmp_path_factory, unix_s, ms, state, before, after):
    """Property: the store holds each field of any MARK payload, NULL exactly where the
    device said no evidence (0xFFFF), figures in their units."""
    buf = bytearray(records.MAX_PAYLOAD)

    def raw(p):
        hr, rmssd, st_, ok = p
        return (records.NO_EVIDENCE if hr is None else hr, records.NO_EVIDENCE if rmssd is None else rmssd, st_, ok)

    n = records.encode_mark(buf, unix_s, ms, state, raw(before), raw(after))
    store = Store(tmp_path_factory.mktemp("prop") / "p.db")
    store.add_batch("d", [(1, records.MARK, bytes(buf[:n]))])
    row = store.db.execute("SELECT * FROM marks").fetchone()
    store.close()
    want = ("d", 1, unix_s * 1000 + ms, records.STATE_NAMES[state])
    for hr, rmssd, st_, ok in (before, after):
        want += (None if hr is None else hr / 100.0, None if rmssd is None else rmssd / 10.0,
                 records.STATE_NAMES[st_], ok)
    assert row == want


def test_a_practice_begun_at_once_explains_a_missing_minute_after(tmp_path):
    from soothe import report

    w = pl.LogWriter()
    t = pl.local(pl.START_DAY, 10)
    w.mark(t * 1000, "threat", (80.0, 18.0, "threat", 95), (None, None, "soothe", 20))
    w.session(t + 3, 300, "mark", "imagery", True, 18.0, 25.0)
    w.mark((t + 900) * 1000, "balanced", (70.0, 30.0, "balanced", 95), (None, None, "no-reading", 0))
    store = _store_with(tmp_path, w.batch)
    ms = marks.marks_in(store.db, query.Range(pl.DEVICE, t - 3600, t + 3600, "x"))
    assert [m["practice_after"] for m in ms] == ["imagery", None]
    words = [report.mark_words(m) for m in ms]
    assert "the minute after: no reading, as you began compassionate-self imagery straight away" in words[0]
    assert "the minute after: no reading." in words[1]
    store.close()
