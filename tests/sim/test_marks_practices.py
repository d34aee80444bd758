"""Issue 19 on the simulated device: a wearer who marks moments and picks practices.

The real firmware runs under MicroPython; the simulator presses the button as the plan's
wearer would (double = a mark, pickN = start a practice and pick the N-th of the menu in
its lead-in); the log is synced into a store, and the motor timeline of every practice
is checked against its schedule in the trace."""
import sqlite3

import pytest

from conftest import motor_changes

from soothe.device import Device, open_port
from soothe.simulator import Simulator
from soothe.store import Store
from soothe.sync import sync
from soothe_fw.feedback import practice as P
from soothe_fw.log import records
from soothe_fw.log.settings import SCHEMA

START_MS = 1767600000 * 1000  # the simulator's default wall clock at t = 0

# The wearer (default settings: the menu is breathing, imagery, compassion_break,
# body_scan, safe_place; breathing 120 s, the others 300/180/300/300 s).
PRESSES = [
    "150s:double",  # a mark at rest; the offer that follows is left unanswered
    "240s:pick3",  # compassion break (chosen)
    "500s:double",  # a mark during stress ...
    "503s:pick4",  # ... and its offer accepted with a body scan
    "900s:pick2",  # compassionate-self imagery
    "1300s:pick5",  # safe place ...
    "1400s:short",  # ... ended early with one press
    "1500s:short",  # breathing: no pick, the default
]


@pytest.fixture(scope="module")
def wearer(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("marks")
    trace = tmp / "trace.txt"
    with Simulator(tmp / "f.img", trace=str(trace), seed=3, plan="rest:5m,stress:6m,rest:19m", duration="30m",
                   presses=PRESSES) as sim:
        sim.wait_stopped(timeout=600)
        dev = Device(open_port(sim.port))
        store = Store(tmp / "s.db")
        try:
            sync(dev, store, set_clock=False)
        finally:
            dev.close()
            store.close()
    con = sqlite3.connect(tmp / "s.db")
    lines = [ln.split() for ln in trace.read_text().splitlines()]
    return con, lines


def events(con, kind):
    return [((t - START_MS) / 1000, bytes(d).decode()) for t, d in
            con.execute("SELECT unix_ms, data FROM events WHERE kind=? ORDER BY seq", (kind,))]


def stored(con, rtype):
    return [records.decode(rtype, p) for (p,) in
            con.execute("SELECT payload FROM records WHERE type=? ORDER BY seq", (rtype,))]


def test_marks_are_logged_with_the_minute_before_and_after(wearer):
    con, lines = wearer
    marks = stored(con, records.MARK)
    assert len(marks) == 2
    ev = events(con, "mark")
    assert [d for _, d in ev] == ["mark", "mark"]
    # the record carries the time of the press; the event, the gesture's completion 400 ms
    # after the second release (two 120 ms presses 150 ms apart: 790 ms in all)
    for (t, _), m, at in zip(ev, marks, (150000, 500000)):
        assert abs(m["unix_s"] * 1000 + m["ms"] - START_MS - at) <= 40  # polled every 20 ms
        assert 770 <= t * 1000 - at <= 830
    first, second = marks
    # at rest, a minute after with nothing else going on: both minutes have evidence
    assert first["before"]["hr"] and 50 < first["before"]["hr"] < 80 and first["before"]["ok_pct"] >= 80
    assert first["after"]["hr"] and 50 < first["after"]["hr"] < 80 and first["before"]["rmssd"] > 0
    # the second mark's practice began ~3 s later: its 'after' is too short to hold evidence
    assert second["before"]["hr"] > first["before"]["hr"] + 5  # stress
    assert second["after"]["hr"] is None and second["after"]["rmssd"] is None
    # one distinct soft tap acknowledges each mark (40 ms at 35 % of 60 = 21), then the offer's softer two
    motor = [(int(t), int(v[0])) for t, dev, *v in lines if dev == "motor"]
    for t, _ in ev:
        after = [m for m in motor if t * 1000 - 1 <= m[0] < t * 1000 + 2500]
        assert after[:2] == [(after[0][0], 21), (after[0][0] + 40, 0)], after
        assert [d for _, d in after[2:6]] == [15, 0, 15, 0]
        assert after[2][0] - after[0][0] == 1540


def test_offers_after_marks_are_gentle_and_answered(wearer):
    con, _ = wearer
    prompts = [d for _, d in events(con, "prompt")]
    # the first offer goes unanswered, the second is accepted; no threat prompt comes while busy
    assert prompts[:4] == ["offered-mark", "ignored", "offered-mark", "accepted"], prompts


def test_every_practice_kind_with_how_it_started_and_its_record(wearer):
    con, _ = wearer
    sessions = stored(con, records.SESSION)
    got = [(s["practice"], s["kind"], s["completed"]) for s in sessions]
    assert got == [("compassion_break", "manual", True), ("body_scan", "mark", True), ("imagery", "manual", True),
                   ("safe_place", "manual", False), ("breathing", "manual", True)]
    lengths = {"breathing": SCHEMA["session_s"][3]}
    for name in P.NAMES[1:]:
        lengths[name] = SCHEMA["practice_%s_s" % name][3]
    for s in sessions:
        if s["completed"]:
            lead = 0 if s["practice"] == "breathing" else 0.6
            assert s["duration_s"] == int(lengths[s["practice"]] + lead), s  # the end cue not counted
        assert 50 < s["before"]["hr_bpm"] < 110 and 50 < s["during"]["hr_bpm"] < 110
        assert s["after"]["hr_bpm"] > 0
    early = sessions[3]
    assert 94 <= early["duration_s"] <= 97  # 1400 s - (1300 s + picks + lead-in + start cue)
    assert [s["rate_bpm"] for s in sessions] == [0.0, 0.0, 6.0, 0.0, 6.0]  # paced rhythms only
    stops = [d for _, d in events(con, "session") if d in ("stop", "abort")]
    assert stops == ["stop", "stop", "stop", "abort", "stop"]


def _expected(practice, body_ms):
    plan = P.PracticePlan(practice, body_ms, 60, 4, 6, 60)
    return motor_changes(plan, plan.length_ms), plan.length_ms


def test_haptic_timing_of_every_practice_within_20_ms(wearer):
    con, lines = wearer
    motor = [(int(t), int(v[0])) for t, dev, *v in lines if dev == "motor"]
    starts = [(t, d.split()[1]) for t, d in events(con, "session") if d.startswith("practice ")]
    assert [n for _, n in starts] == ["compassion_break", "body_scan", "imagery", "safe_place", "breathing"]
    for t0, name in starts:
        if name == "safe_place":
            continue  # ended early: checked below
        k = P.NAMES.index(name)
        body = (SCHEMA["session_s"][3] if name == "breathing" else SCHEMA["practice_%s_s" % name][3]) * 1000
        expected, length = _expected(k, body)
        go = int(round(t0 * 1000))
        got = [m for m in motor if go - 30 <= m[0] <= go + length + 30]
        assert [d for _, d in got] == [d for _, d in expected], name
        offs = [g[0] - go - e[0] for g, e in zip(got, expected)]
        assert max(offs) - min(offs) <= 20 and abs(offs[0]) <= 20, (name, offs[:10])
    # the safe place ended at once on the press: its start cue and first stage cue, then silence
    t0 = [t for t, n in starts if n == "safe_place"][0]
    go = int(round(t0 * 1000))
    got = [m for m in motor if go - 30 <= m[0] < 1401000]
    expected, _ = _expected(P.SAFE_PLACE, 300000)
    early = [e for e in expected if e[0] < 1400000 - go - 1000]
    assert [d for _, d in got[:len(early)]] == [d for _, d in early]
    assert got[-1][1] == 0 and got[-1][0] < 1401000
