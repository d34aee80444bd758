"""What the wearer and the therapist read (issue 18), through the real `soothe` CLI:
simulator options, local time with the zone named, 80-column terminals, exports that
agree, config in natural units, and one-line errors without tracebacks."""
import csv
import datetime as dt
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import tty

import pytest

from soothe.simulator import Simulator

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# More than 255 bytes: the unix port dies with "FATAL: uncaught NLR" on such an argument.
LONG_PLAN = ",".join(["rest:60s", "stress:60s", "stress:60s", "soothe:60s", "soothe:60s", "nocontact:60s",
                      "rest:60s", "rest:60s"] * 3 + ["rest:45m"])


def run(cmd, *args, timeout=120, env=None, cwd=None):
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})), cwd=cwd)


def _local(y, mo, d, h=0, mi=0):
    return int(time.mktime(dt.datetime(y, mo, d, h, mi).timetuple()))


@pytest.fixture(scope="module")
def cli_sim(tmp_path_factory):
    """`soothe sim` with --start, --device-id, a compound duration and a >255-byte plan,
    synced, then stopped with Ctrl-C (SIGINT)."""
    from conftest import BIN

    cmd = [str(BIN / "soothe")]
    tmp = tmp_path_factory.mktemp("ux")
    db = tmp / "s.db"
    assert len(LONG_PLAN) > 255
    proc = subprocess.Popen(cmd + ["sim", "--flash", str(tmp / "f.img"), "--start", "2026-02-03T10:00",
                                   "--device-id", "band-7", "--duration", "1h5m", "--plan", LONG_PLAN,
                                   "--press", "1500s:short"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        port = proc.stdout.readline().strip().split(" ", 1)[1]
        stopped = proc.stdout.readline()
        assert stopped.startswith("sim: stopped at t=3900.000 s"), stopped + proc.stderr.read()
        sync = run(cmd, "sync", "--port", port, "--db", db)
        assert sync.returncode == 0, sync.stderr
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: to soothe and the firmware alike
        out, err = proc.communicate(timeout=30)
    return cmd, db, tmp, sync, proc.returncode, out + err


def test_sim_start_device_id_long_plan_and_ctrl_c(cli_sim):
    cmd, db, _, sync, code, err = cli_sim
    con = sqlite3.connect(db)
    first, n, dev = con.execute("SELECT MIN(unix_s), COUNT(*), MIN(device_id) FROM minutes").fetchone()
    assert dev == "band-7" and first == _local(2026, 2, 3, 10, 0) and n == 65
    # the plan's three 1 min no-contact segments are unworn minutes
    assert 2 <= con.execute("SELECT COUNT(*) FROM minutes WHERE state='no-reading'").fetchone()[0] <= 6
    # Ctrl-C: a plain sentence and exit 130, no empty "failed:" and no firmware traceback
    assert code == 130 and "simulator stopped (Ctrl-C)" in err and "failed:" not in err
    assert "Traceback" not in err
    assert "days (local time, " in sync.stdout and "2026-02-03" in sync.stdout
    assert re.search(r"device clock set; it was \d+ days behind", sync.stdout), sync.stdout


def test_compound_durations_in_the_firmware_parser(interp):
    r = interp.case("sim_cases.py", "durations")  # tests/firmware/mp/sim_cases.py
    assert r == [[90000, 90000, 600000, 48600000, 93600000, 5400000, 250], 6]


def test_long_plan_through_the_simulator_class(tmp_path):
    plan = ",".join(["rest:30s", "stress:30s"] * 20)  # 400 bytes, 20 min
    assert len(plan) > 255
    with Simulator(tmp_path / "p.img", plan=plan, duration="20m") as sim:
        sim.wait_stopped(timeout=120)
        assert "sim: stopped at t=1200.000 s" in sim.stderr_lines
    assert not any("FATAL" in ln for ln in sim.stderr_lines)


def test_json_export_has_units_flag_names_nulls_and_breaths_per_min(cli_sim):
    cmd, db, _, _, _, _ = cli_sim
    r = run(cmd, "export", "--format", "json", "--db", db)
    doc = json.loads(r.stdout)
    assert doc["format"] == "soothe-export/2" and doc["units"]["rr_ms"] == "ms"
    assert doc["units"]["breaths_per_min"] == "breaths/min" and "time_zone" in doc["range"]
    assert {b["flag_name"] for b in doc["beats"]} >= {"ok"} and all(isinstance(b["flag_name"], str)
                                                                    for b in doc["beats"])
    s = doc["sessions"][0]
    assert "rate_bpm" not in s and s["breaths_per_min"] == 6.0
    unworn = [m for m in doc["minutes"] if m["state"] == "no-reading"]
    assert unworn and all(m["rmssd_ms"] is None or m["rmssd_ms"] > 0 for m in doc["minutes"])
    assert any(m["coherence"] is None for m in doc["minutes"])  # not 0.0
    r = run(cmd, "export", "--format", "json", "--table", "sessions", "--db", db)
    doc = json.loads(r.stdout)
    assert "sessions" in doc and "beats" not in doc and "minutes" not in doc


def test_kubios_holds_only_ok_beats_and_kubios_time_keeps_gaps(cli_sim):
    cmd, db, _, _, _, _ = cli_sim
    con = sqlite3.connect(db)
    # ok beats of worn minutes (a no-reading minute's beats stay out, issue 13's worn_beats)
    ok = con.execute("SELECT t_unix_ms, rr_ms FROM beats b WHERE flag=0 AND NOT EXISTS (SELECT 1 FROM minutes m "
                     "WHERE m.state = 'no-reading' AND b.t_unix_ms >= m.unix_s * 1000 "
                     "AND b.t_unix_ms < m.unix_s * 1000 + 60000) ORDER BY t_unix_ms, seq, idx").fetchall()
    flagged = con.execute("SELECT COUNT(*) FROM beats WHERE flag!=0").fetchone()[0]
    assert flagged > 0
    r = run(cmd, "export", "--format", "kubios", "--db", db)
    assert [int(x) for x in r.stdout.split()] == [rr for _, rr in ok]
    assert "kubios-time" in r.stderr  # the gap warning names the variant that keeps them
    r = run(cmd, "export", "--format", "kubios-time", "--db", db)
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["time_s", "rr_ms"] and len(rows) - 1 == len(ok)
    times = [float(t) for t, _ in rows[1:]]
    assert times[0] == 0.0 and abs(times[-1] - (ok[-1][0] - ok[0][0]) / 1000) < 0.002
    assert max(b - a for a, b in zip(times, times[1:])) > 30  # the no-contact minutes show as a jump


@pytest.mark.parametrize("fmt", ["csv", "json", "kubios", "kubios-time"])
def test_day_and_table_work_for_every_format(cli_sim, fmt):
    cmd, db, _, _, _, _ = cli_sim
    r = run(cmd, "export", "--format", fmt, "--day", "2026-02-03", "--db", db)
    assert r.returncode == 0 and len(r.stdout) > 100, r.stderr
    r = run(cmd, "export", "--format", fmt, "--day", "2026-02-04", "--db", db)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "nothing stored for band-7 in 2026-02-04" in r.stderr
    r = run(cmd, "export", "--format", fmt, "--table", "minutes", "--db", db)
    if fmt.startswith("kubios"):
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "RR intervals only" in r.stderr
    else:
        assert r.returncode == 0
        n = len(json.loads(r.stdout)["minutes"]) if fmt == "json" else len(r.stdout.splitlines()) - 1
        assert n == 65


def test_closed_pipe_exits_quietly(cli_sim):
    cmd, db, _, _, _, _ = cli_sim
    r = subprocess.run(" ".join(cmd + ["export", "--format", "csv", "--db", str(db)]) + " | head -2",
                       shell=True, capture_output=True, text=True, timeout=60)
    assert len(r.stdout.splitlines()) == 2 and r.stderr == "", r.stderr


def _fits(text, width=80):
    return all(len(ln) <= width for ln in text.splitlines())


def test_sessions_and_summary_fit_80_columns_with_units_and_zone(cli_sim):
    cmd, db, _, _, _, _ = cli_sim
    for sub in ("sessions", "summary"):
        r = run(cmd, sub, "--db", db, env={"COLUMNS": "80", "TZ": os.environ.get("TZ", "")})
        assert r.returncode == 0 and _fits(r.stdout), r.stdout
        assert "HR bpm" in r.stdout and "RMSSD ms" in r.stdout and "local time (" in r.stdout
        assert "soothe %" in r.stdout and "2026-02-03" in r.stdout
    r = run(cmd, "sessions", "--db", db, env={"COLUMNS": "140"})
    assert "beats" in r.stdout and "before/during/after" in r.stdout  # wider terminal, more columns


def test_time_zone_is_named_in_sync_summary_and_report(tmp_path, soothe_cmd):
    """In Berlin (CET, UTC+01:00) the 23:30 start lands on the local day, the zone is named."""
    env = {"TZ": "Europe/Berlin"}
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    try:
        start = _local(2026, 1, 5, 23, 30)
    finally:
        del os.environ["TZ"]
        time.tzset()
    db = tmp_path / "b.db"
    with Simulator(tmp_path / "b.img", seed=5, duration="20m", start=start) as sim:
        sim.wait_stopped(timeout=120)
        r = run(soothe_cmd, "sync", "--port", sim.port, "--db", db, env=env)
    assert "days (local time, CET, UTC+01:00): 2026-01-05" in r.stdout, r.stdout
    r = run(soothe_cmd, "summary", "--db", db, env=dict(env, COLUMNS="80"))
    assert "local time (CET, UTC+01:00)" in r.stdout and "2026-01-05" in r.stdout
    r = run(soothe_cmd, "report", "--db", db, "--out", tmp_path / "rep", env=env)
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "local time (CET, UTC+01:00)" in page and "23:30" not in page.split("<body>")[0]


def test_demo_fits_80_columns_and_names_the_zone(tmp_path, soothe_cmd):
    r = run(soothe_cmd, "demo", "--duration", "30m", "--out", "demo", timeout=300, env={"TZ": "America/New_York"},
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _fits(r.stdout), [ln for ln in r.stdout.splitlines() if len(ln) > 80]
    assert "local time (E" in r.stdout and "UTC-0" in r.stdout  # EST/EDT, named
    assert "device clock set; it was" in r.stdout and "s off" not in r.stdout


def test_version(soothe_cmd):
    r = run(soothe_cmd, "--version")
    assert r.returncode == 0 and re.fullmatch(r"soothe \d+\.\d+\.\d+\n", r.stdout)


def _silent_pty():
    """A serial port where nothing ever answers."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


@pytest.mark.parametrize("args,message", [
    (["sync", "--port", "/dev/soothe-missing"], "no such serial port; is the board plugged in"),
    (["monitor", "--port", "/dev/soothe-missing"], "no such serial port"),
    (["config", "get", "--port", "/dev/soothe-missing"], "no such serial port"),
    (["doctor", "--port", "/dev/soothe-missing"], "no such serial port"),
    (["deploy", "--port", "/dev/soothe-missing"], "no such serial port"),
    (["sim", "--start", "yesterday"], "--start 'yesterday': use a local date and time like 2026-01-05T08:30"),
    (["sim", "--device-id", "a b"], "--device-id 'a b': use 1..32 printable characters"),
    (["sim", "--duration", "13h30"], "bad duration '13h30'"),
    (["config", "set", "pacer_rate", "9", "--port", "/dev/null"], "pacer_rate 9 is out of range: use 4.5..7.0"),
    (["config", "set", "pacer_rate", "5.55", "--port", "/dev/null"], "pacer_rate takes steps of 0.1"),
    (["export", "--format", "kubios", "--table", "sessions", "--db", "/dev/null"], "RR intervals only"),
])
def test_errors_are_one_line_with_the_right_hint(soothe_cmd, args, message):
    r = run(soothe_cmd, *args, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "in use by another program" not in r.stderr


def test_replay_refuses_an_ambiguous_csv_and_lists_its_columns(soothe_cmd, tmp_path):
    from conftest import ROOT

    sample = ROOT / "examples" / "sample-ppg.csv"
    r = run(soothe_cmd, "replay", sample, "--rate", 100)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "has 2 columns (time_s, ppg): name the PPG one with --column" in r.stderr
    headless = tmp_path / "two.csv"
    headless.write_text("0.00,2010\n0.01,2030\n")
    r = run(soothe_cmd, "replay", headless, "--rate", 100)
    assert r.returncode == 2 and "2 columns and no header: pick one with --column 0..1" in r.stderr
    # the shipped sample replays with --column, as the README shows
    r = run(soothe_cmd, "replay", sample, "--rate", 100, "--column", "ppg", "--json")
    s = json.loads(r.stdout)["summary"]
    assert r.returncode == 0 and 60 <= s["hr_bpm"] <= 76 and s["beats"] >= 80


def test_a_sync_and_a_doctor_that_never_hear_back_say_so(soothe_cmd):
    master, slave, port = _silent_pty()
    try:
        t0 = time.monotonic()
        r = run(soothe_cmd, "sync", "--port", port, "--db", "/tmp/never-created-%d.db" % os.getpid(), timeout=120)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "no answer from the device" in r.stderr and "run sync again to resume" not in r.stderr
        r = run(soothe_cmd, "doctor", "--port", port, timeout=120)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "does not answer" in r.stderr, r.stderr
        assert time.monotonic() - t0 < 90  # not the 300 s mpremote timeout
    finally:
        os.close(master)
        os.close(slave)


def test_bench_without_the_extra_is_a_one_line_hint(soothe_cmd):
    import importlib.util

    if all(importlib.util.find_spec(m) for m in ("heartpy", "neurokit2", "scipy")):
        pytest.skip("the bench extra is installed here")
    r = run(soothe_cmd, "bench", "--quick")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "make bench" in r.stderr, r.stderr


def test_monitor_is_a_live_panel_within_80_columns_with_sparklines_and_pacer(tmp_path, soothe_cmd):
    with Simulator(tmp_path / "m.img", seed=12, speed=30) as sim:
        r = run(soothe_cmd, "finder", "--port", sim.port)
        assert r.returncode == 0, r.stderr
        master, slave = os.openpty()
        os.set_blocking(master, False)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        proc = subprocess.Popen(soothe_cmd + ["monitor", "--port", sim.port, "--seconds", "5"], stdout=slave,
                                stderr=subprocess.PIPE, env=dict(os.environ, TERM="xterm-256color"))
        os.close(slave)
        chunks = []
        while proc.poll() is None:
            time.sleep(0.1)
            try:
                chunks.append(os.read(master, 65536))
            except (BlockingIOError, OSError):
                pass
        try:
            chunks.append(os.read(master, 65536))
        except (BlockingIOError, OSError):
            pass
        os.close(master)
        assert proc.returncode == 0, proc.stderr.read()
    text = ANSI.sub("", b"".join(chunks).decode(errors="replace")).replace("\r", "\n")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert lines and max(len(ln) for ln in lines) <= 80, max(lines, key=len)
    assert "soothe monitor" in text and "HR " in text and "RR " in text
    assert re.search("[▁▂▃▄▅▆▇█]{8}", text)  # HR/RR sparklines
    assert re.search(r"(▲ inhale|▼ exhale) at \d\.\d breaths/min", text)  # the pacer phase shows


def test_report_handles_states_generically_and_minutes_without_figures(tmp_path, monkeypatch):
    """States appended to records.STATE_NAMES (balanced, learning, or one this host has never
    heard of) get a colour, a pattern and words; minutes with NULL figures are gaps."""
    from soothe import query, report, store
    from soothe_fw.log import records

    names = tuple(records.STATE_NAMES)
    monkeypatch.setattr(records, "STATE_NAMES",
                        names + tuple(n for n in ("balanced", "learning", "mystery") if n not in names))
    styles = [report.state_style(s)[:3] for s in records.STATE_NAMES]
    assert len({s[1] for s in styles if s[1]}) == len([s for s in styles if s[1]])  # every pattern differs
    assert report.state_style("mystery")[3].startswith("a state this report")
    st = store.Store(tmp_path / "g.db")
    t0 = _local(2026, 4, 1, 9, 0)
    st.note_device("g-1", "0.2.0", time.time())
    names = ["learning", "balanced", "no-reading", "no-reading", "soothe", "mystery"]
    for i, name in enumerate(names):
        worn = name != "no-reading"
        st.db.execute("INSERT INTO minutes (device_id, seq, unix_s, state, quality_pct, hr_bpm, rmssd_ms, sdnn_ms, "
                      "coherence, resonance_hz, beats) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      ("g-1", i + 1, t0 + 60 * i, name, 100 if worn else None, 62.0 if worn else None,
                       40.0 if worn else None, 30.0 if worn else None, None, None, 60 if worn else 0))
    st.db.commit()
    r = query.resolve(st.db, day="2026-04-01")
    index = report.build_report(st.db, r, tmp_path / "rep")
    page = index.read_text()
    for name in ("balanced", "learning", "mystery"):
        assert "data-state='%s'" % name in page and "<b>%s</b>" % name in page
    assert "learning 25 % (1 min)" in page and "unworn or without a pulse reading" in page
    out = io.StringIO()
    from soothe.export import print_sessions

    print_sessions(st.db, r, out, width=80)
    assert "2026-04-01" in out.getvalue()


def test_every_setting_has_a_unit_and_words_and_natural_units_round_trip():
    from soothe import settings_text
    from soothe_fw.log import settings as fw_settings

    assert set(settings_text.DESCRIPTIONS) == set(fw_settings.SCHEMA)
    for key, (_, lo, hi, default) in fw_settings.SCHEMA.items():
        line = settings_text.show(key, default)
        assert all(len(ln) <= 80 for ln in line.splitlines()) and line.startswith(settings_text.natural(key)), line
        assert settings_text.resolve_key(settings_text.natural(key)) == key
    assert settings_text.to_raw("pacer_rate_x10", "pacer_rate", "5.5") == "55"
    assert settings_text.to_raw("soothe_coherence_x100", "soothe_coherence", "1.5") == "150"
    assert settings_text.to_raw("pacer_rate_x10", "pacer_rate_x10", "55") == "55"  # raw keys still work


def test_timeline_legend_names_everything_drawn(tmp_path):
    """Every prompt kind drawn (the grey 'offered' marks included), every state and the
    session box appear in the legend; the axis names the zone."""
    from soothe import query, report

    t0 = _local(2026, 4, 2, 9, 0)
    mins = [(t0 + 60 * i, s, 100, 64.0, 40.0, 30.0, 0.5, 0.1, 64)
            for i, s in enumerate(["soothe"] * 5 + ["threat"] * 5 + ["no-reading"] * 2 + ["drive"] * 3)]
    a = {"minutes": mins, "spans": report._spans(mins), "range": query.Range("x", t0, t0 + 3600, "2026-04-02"),
         "sessions": [{"unix_s": t0 + 120, "duration_s": 120}],
         "prompt_times": [(t0 + 400, "offered"), (t0 + 430, "accepted"), (t0 + 600, "ignored")]}
    report.plot_timeline(a, tmp_path / "t.svg")
    texts = re.findall(r"<text[^>]*>([^<]*)<", (tmp_path / "t.svg").read_text())
    for label in ("soothe", "threat", "drive", "unworn / no reading", "breathing session", "prompt offered",
                  "prompt accepted", "prompt ignored"):
        assert label in texts, (label, texts)
    assert "prompt snoozed" not in texts  # not drawn, not listed
    assert any(t.startswith("local time (") for t in texts)


def test_a_minute_with_no_reading_prints_no_heart_figures(monkeypatch, capsys):
    """The device logs zeros for an unworn minute's HR and HRV; the listing shows "-", never
    "0.0" as if a heart rate of zero had been measured."""
    from soothe import commands, query

    rows = [(1767600000, "drive", 98, 71.5, 40.2, 30.1, 0.5, 71),
            (1767600060, "no-reading", 35, 0.0, 0.0, 0.0, 0.0, 132)]
    monkeypatch.setattr(query, "all_minutes", lambda db, device_id: rows)
    monkeypatch.setattr(query, "beat_counts", lambda db, device_id: (203, 71))

    class Store:
        db = None

    commands.print_minutes(Store(), "dev")
    lines = capsys.readouterr().out.splitlines()
    worn = next(ln for ln in lines if " drive " in ln)
    unworn = next(ln for ln in lines if " no-reading " in ln)
    assert "71.5" in worn and "40.2" in worn
    assert unworn.split()[3:8] == ["35", "-", "-", "-", "-"] and "0.0" not in unworn
