"""Issue 19 end to end on the simulated device: a 14-day programme.

The real firmware runs under MicroPython for 8 minutes on each of 14 mornings (one flash
image, one device, synced with `soothe sync` after each).  Every day the wearer marks a
moment with a double press; on every third day they accept the practice offered after
the mark (breathing), on the others they pick a practice themselves (every kind over the
14 days; the 300 s ones are ended early with a press).  Then the marks are tagged with
`soothe mark tag`, and `soothe programme` and `soothe report` are checked against the
store.  Eight minutes a day is too little rest for a resting-RMSSD value: the programme
must say so rather than draw a trend."""
import datetime as dt
import json
import sqlite3
import subprocess
import time

import pytest

from soothe.simulator import Simulator

DAYS = 14
FIRST = dt.date(2026, 3, 2)
LENGTH_S = {1: 120, 2: 300, 3: 180, 4: 300, 5: 300}  # pickN -> default length (settings.py)


def plan_for(d):
    presses = ["90s:double"]
    if d % 3 == 0:
        presses.append("93s:pick1")  # the offer after the mark, accepted: breathing
    else:
        k = 1 + d % 5
        presses.append("200s:pick%d" % k)
        if LENGTH_S[k] > 180:
            presses.append("380s:short")  # ended early: always fine
    return presses


@pytest.fixture(scope="module")
def programme_db(tmp_path_factory):
    from conftest import BIN

    soothe_cmd = [str(BIN / "soothe")]
    tmp = tmp_path_factory.mktemp("prog-sim")
    db, img = tmp / "s.db", tmp / "f.img"
    for d in range(DAYS):
        day = FIRST + dt.timedelta(days=d)
        start = int(time.mktime(dt.datetime(day.year, day.month, day.day, 8, 0).timetuple()))
        with Simulator(img, seed=19, plan="rest:8m", duration="8m", start=start, presses=plan_for(d)) as sim:
            sim.wait_stopped(timeout=300)
            r = subprocess.run(soothe_cmd + ["sync", "--port", sim.port, "--db", str(db)], capture_output=True,
                               text=True, timeout=120)
            assert r.returncode == 0, r.stderr
    return tmp, db


def run(cmd, *args):
    r = subprocess.run(list(cmd) + list(args), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _day(unix_s):
    return dt.datetime.fromtimestamp(unix_s).date().isoformat()


def test_fourteen_simulated_days_tagged_and_viewed(programme_db, soothe_cmd):
    tmp, db = programme_db
    dbarg = ["--db", str(db)]
    con = sqlite3.connect(db)
    # one mark a day, each at the press (90 s after 08:00), with its minute before measured
    rows = con.execute("SELECT seq, unix_ms, before_hr, before_rmssd FROM marks ORDER BY seq").fetchall()
    assert all(hr and 40 < hr < 120 for _, _, hr, _ in rows)  # a minute of rest before each press
    assert [_day(u // 1000) for _, u, _, _ in rows] == [(FIRST + dt.timedelta(days=d)).isoformat()
                                                        for d in range(DAYS)]
    # tag three of them from the laptop, the way the README says
    run(soothe_cmd, "mark", "tag", "1", "self-critical", *dbarg)
    run(soothe_cmd, "mark", "tag", "2", "anxious", "--note", "before the exam", *dbarg)
    run(soothe_cmd, "mark", "tag", "5", "--note", "snapped at my brother", *dbarg)
    listed = json.loads(run(soothe_cmd, "mark", "--json", *dbarg))["marks"]
    assert len(listed) == DAYS and [m["id"] for m in listed] == list(range(1, DAYS + 1))
    assert (listed[1]["tag"], listed[1]["note"]) == ("anxious", "before the exam")
    view = json.loads(run(soothe_cmd, "programme", *dbarg, "--json"))
    assert [d["day"] for d in view["days"]] == [(FIRST + dt.timedelta(days=d)).isoformat() for d in range(DAYS)]
    # practice minutes by kind, prompted vs chosen, ended early: the store's sessions
    sess = con.execute("SELECT unix_s, duration_s, kind, practice, completed FROM sessions").fetchall()
    assert {s[3] for s in sess} == {"breathing", "imagery", "compassion_break", "body_scan", "safe_place"}
    assert sum(1 for s in sess if s[2] == "mark") == 5 and sum(1 for s in sess if s[4] == 0) >= 3
    for d in view["days"]:
        mine = [s for s in sess if _day(s[0]) == d["day"]]
        want = {}
        for s in mine:
            want[s[3]] = want.get(s[3], 0) + s[1] / 60.0
        assert set(d["practice_min"]) == set(want), d["day"]
        for k, v in want.items():
            assert d["practice_min"][k] == pytest.approx(v, abs=0.05)
        assert d["prompted"] == sum(1 for s in mine if s[2] in ("prompted", "mark"))
        assert d["chosen"] == sum(1 for s in mine if s[2] not in ("prompted", "mark"))
        assert d["ended_early"] == sum(1 for s in mine if s[4] == 0)
        # marks by tag
        tags = {}
        for m in listed:
            if _day(m["unix_ms"] // 1000) == d["day"]:
                label = m["tag"] or ("own words" if m["note"] else "untagged")
                tags[label] = tags.get(label, 0) + 1
        assert d["marks"] == tags
        # 8 minutes a day is too little rest reading: no number is made up
        assert d["resting_rmssd"]["ms"] is None
    assert view["marks_by_tag"] == {"self-critical": 1, "anxious": 1, "own words": 1, "untagged": DAYS - 3}
    assert view["trend"] is None
    words = " ".join(view["words"])
    assert "0 days had enough rest reading" in words and "none is drawn yet" in words
    assert "not a clinical measure" in words
    # the before/after change per kind, from the store's own columns
    for kind, e in view["prepost"].items():
        ch = [a - b for (a, b, k) in con.execute("SELECT after_rmssd, before_rmssd, practice FROM sessions "
                                                 "WHERE before_rmssd>0 AND after_rmssd>0") if k == kind]
        assert e["n"] == len(ch)
        if ch:
            assert e["mean_change_ms"] == pytest.approx(sum(ch) / len(ch))
    # and the report lists every mark with its tag, and has the programme section
    run(soothe_cmd, "report", *dbarg, "--from", FIRST.isoformat(),
        "--to", (FIRST + dt.timedelta(days=DAYS - 1)).isoformat(), "--out", str(tmp / "rep"))
    page = (tmp / "rep" / "index.html").read_text()
    assert page.count("<li data-mark=") == DAYS
    # the offered breathing began within the minute after each third mark: said, not left blank
    assert page.count("began soothing-rhythm breathing") == 5
    assert "self-critical" in page and "before the exam" in page and "Your programme" in page
    assert (tmp / "rep" / "programme.svg").exists() and (tmp / "rep" / "programme-narrow.svg").exists()
    con.close()
