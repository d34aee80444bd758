"""Unworn time end to end: the simulated device (real firmware, realistic off-wrist
signals) -> sync -> export and report.  Minutes with no reading carry no HR or HRV,
no beat in them is `ok`, and summary, report and every export leave them out or mark
them unworn, so the figures are the worn time's."""
import csv
import io
import json
import sqlite3
import subprocess

import pytest


PLAN = "rest:6m,offwrist_daylight:5m,rest:4m,offwrist_dangling:5m,rest:3m,offwrist_table:4m,rest:3m"
OFF = [(6, 11), (15, 20), (23, 27)]  # minutes off the wrist


def run(cmd, *args):
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    from conftest import BIN, sim_sync

    cmd = [str(BIN / "soothe")]
    tmp = tmp_path_factory.mktemp("unworn")
    db = tmp / "s.db"
    sim_sync(tmp / "f.img", db, cli=True, seed=5, plan=PLAN, duration="30m")
    con = sqlite3.connect(db)
    t0 = con.execute("SELECT MIN(unix_s) FROM minutes").fetchone()[0]
    return cmd, db, con, t0


def _inside_off(t_s, t0, margin_s=0):
    return any(t0 + a * 60 + margin_s <= t_s < t0 + b * 60 - margin_s for a, b in OFF)


def test_unworn_minutes_are_no_reading_without_hr_and_no_beat_is_ok(synced):
    cmd, db, con, t0 = synced
    mins = con.execute("SELECT unix_s, state, hr_bpm, rmssd_ms FROM minutes ORDER BY unix_s").fetchall()
    assert len(mins) == 30
    # Every minute wholly off the wrist (after the first seconds of each stretch) is no-reading.
    for unix_s, state, hr, rmssd in mins:
        if _inside_off(unix_s, t0, margin_s=0) and _inside_off(unix_s + 59, t0):
            assert state == "no-reading", (unix_s - t0, state)
        if state == "no-reading":
            assert not hr and not rmssd  # no HR or HRV for unworn time
    worn = [m for m in mins if m[1] != "no-reading"]
    assert len(worn) >= 12 and all(55 < m[2] < 75 for m in worn if m[2])
    # No OK beat in a no-reading minute (the log and the LED agree), but for the 3 s
    # the device may take to see that contact is gone.
    lost = [r[0] for r in con.execute("SELECT unix_ms FROM events WHERE kind = 'contact_lost'")]
    assert len(lost) == 3
    ok_unworn = [r[0] for r in con.execute(
        "SELECT t_unix_ms FROM beats b WHERE flag = 0 AND EXISTS (SELECT 1 FROM minutes m "
        "WHERE m.state = 'no-reading' AND b.t_unix_ms >= m.unix_s * 1000 "
        "AND b.t_unix_ms < m.unix_s * 1000 + 60000)")]
    assert not [t for t in ok_unworn if not any(0 <= lt - t <= 3000 for lt in lost)]


def test_exports_leave_unworn_time_out_or_mark_it(synced):
    cmd, db, con, t0 = synced
    out = run(cmd, "export", "--format", "kubios", "--db", str(db))
    assert out.returncode == 0, out.stderr
    n_kubios = len(out.stdout.split())
    # issue 18: the Kubios export holds only beats fit for HRV (flag ok)
    n_worn = con.execute("SELECT COUNT(*) FROM beats b WHERE flag = 0 AND NOT EXISTS (SELECT 1 FROM minutes m "
                         "WHERE m.state = 'no-reading' AND b.t_unix_ms >= m.unix_s * 1000 "
                         "AND b.t_unix_ms < m.unix_s * 1000 + 60000)").fetchone()[0]
    n_all = con.execute("SELECT COUNT(*) FROM beats WHERE flag = 0").fetchone()[0]
    # The unworn stretches are left out of the RR series.  (The plan leaves and returns on
    # minute boundaries, so with no ok beat off the wrist (issue 13) every ok beat may be a
    # worn minute's: n_worn < n_all held only while off-wrist beats leaked as ok.)
    assert n_kubios == n_worn <= n_all
    assert "without a reading" in out.stderr
    out = run(cmd, "export", "--format", "csv", "--table", "minutes", "--db", str(db))
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    unworn = [r for r in rows if r["state"] == "no-reading"]
    assert len(unworn) >= 10 and all(float(r["hr_bpm"] or 0) == 0 for r in unworn)
    out = run(cmd, "export", "--format", "json", "--db", str(db))
    doc = json.loads(out.stdout)
    for m in doc["minutes"]:
        if m["state"] == "no-reading":
            assert not m["hr_bpm"] and not m["rmssd_ms"]


def test_summary_and_report_figures_are_the_worn_time(synced):
    cmd, db, con, t0 = synced
    out = run(cmd, "summary", "--db", str(db))
    assert out.returncode == 0, out.stderr
    from soothe import query, report
    from soothe.store import Store

    store = Store(db)
    try:
        r = query.resolve(store.db)
        a = report.analyse_day(store.db, r)
    finally:
        store.close()
    assert 55 < a["td"]["hr_bpm"] < 75  # the rest preset's 64 bpm, not noise off the wrist
    assert 15 < a["td"]["rmssd_ms"] < 70
    assert a["no_reading_min"] >= 10 and a["worn_min"] <= 20
