"""Issue 15 #10: every command against a table of bad inputs.  Each must end with ONE line
on stderr saying what to fix, a non-zero exit, and no traceback (not even the CLI's
last-resort `unexpected ...` line, which would mean the input was not really handled).

Most cases call soothe.cli.main in-process (fast); a few go through the real `soothe`
executable to check the entry point the same way."""
import os
import shutil
import sqlite3
import subprocess

import pytest

from soothe import cli
from soothe_tools import faults
from soothe.store import Store

SAMPLE_DAY = "2026-01-05"  # faults.START_S is in it


@pytest.fixture(scope="module")
def dbs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli-bad")
    good = d / "good.db"
    log_root = str(d / "dev")
    faults.write_day(log_root, minutes=30)
    from soothe.device import Device
    from soothe.sync import sync

    ln, outbox = faults.device_link(faults.logstore.RecordLog(log_root).open())
    dev = Device(faults.LoopSerial(ln, outbox), timeout=0.05)
    store = Store(good)
    sync(dev, store, set_clock=False)
    store.close()
    paths = {"good": good}
    (d / "text.db").write_text("this is not a database\n")
    paths["text"] = d / "text.db"
    (d / "random.db").write_bytes(os.urandom(8192))
    paths["random"] = d / "random.db"
    blob = good.read_bytes()
    for n in (100, 1000, 5000):
        (d / ("trunc%d.db" % n)).write_bytes(blob[:n])
        paths["trunc%d" % n] = d / ("trunc%d.db" % n)
    (d / "folder.db").mkdir()
    paths["folder"] = d / "folder.db"
    for name, sql in (("newer", "PRAGMA user_version=99"),
                      ("nocolumn", "ALTER TABLE minutes DROP COLUMN beats"),
                      ("nominutes", "DROP TABLE minutes"),
                      ("nodevcol", "ALTER TABLE devices DROP COLUMN version")):
        p = d / ("%s.db" % name)
        shutil.copy(good, p)
        con = sqlite3.connect(p)
        con.execute(sql)
        con.commit()
        con.close()
        paths[name] = p
    (d / "empty.db").write_bytes(b"")
    paths["empty"] = d / "empty.db"
    paths["missing"] = d / "nowhere" / "x.db"
    paths["dir"] = d
    paths["file"] = d / "text.db"
    return paths


DB_CASES = ["text", "random", "trunc100", "trunc1000", "trunc5000", "folder", "newer", "nocolumn", "nominutes",
            "nodevcol", "empty", "missing"]
READERS = [["sessions"], ["summary"], ["export", "--format", "csv"], ["export", "--format", "json"],
           ["export", "--format", "kubios"], ["report", "--out", "{tmp}/rep"],
           ["mark"], ["mark", "--json"], ["mark", "tag", "1", "kind"], ["programme"]]  # issue 19
BAD_DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "yesterday", "", "2026-1-5x", "1969-12-31",
             "2201-01-01", "01/05/2026"]
DATE_FLAGS = [["sessions", "--day"], ["summary", "--day"], ["report", "--out", "{tmp}/rep", "--day"],
              ["export", "--format", "csv", "--from"], ["export", "--format", "json", "--to"],
              ["mark", "--day"], ["programme", "--from"]]


def _cases():
    cases = []
    for db in DB_CASES:
        for cmd in READERS:
            cases.append(("db-%s-%s" % (db, "-".join(a for a in cmd if not a.startswith("{"))),
                          cmd + ["--db", "{%s}" % db]))
    for flags in DATE_FLAGS:
        for date in BAD_DATES:
            cases.append(("date-%s-%s" % (flags[0], date or "blank"), flags + [date, "--db", "{good}"]))
    for cmd in (["sessions"], ["summary"], ["export", "--format", "csv"], ["report", "--out", "{tmp}/rep"]):
        cases.append(("range-" + cmd[0], cmd + ["--from", "2026-01-06", "--to", "2026-01-05", "--db", "{good}"]))
        cases.append(("both-" + cmd[0], cmd + ["--day", SAMPLE_DAY, "--from", SAMPLE_DAY, "--db", "{good}"]))
        cases.append(("device-" + cmd[0], cmd + ["--device", "nobody", "--db", "{good}"]))
        if cmd[0] != "sessions":  # sessions says "no data" for an empty day, and that is an answer
            cases.append(("nodata-" + cmd[0], cmd + ["--day", "2030-01-01", "--db", "{good}"]))
    for out in ("/proc/version/x.csv", "{tmp}/no/such/folder/x.csv", "{dir}", "/proc/self/nope.csv"):
        cases.append(("export-out-" + out, ["export", "--format", "csv", "--out", out, "--db", "{good}"]))
    for out in ("{file}", "/proc/version", "/proc/self/x", "/dev/null"):
        cases.append(("report-out-" + out, ["report", "--out", out, "--db", "{good}"]))
    for days in ("nan", "inf", "-inf", "-1", "0", "abc", "1e400", ""):
        cases.append(("soak-days-" + days, ["soak", "--days", days]))
    for sec in ("nan", "inf", "-1", "0", "x"):
        cases.append(("monitor-seconds-" + sec, ["monitor", "--seconds", sec, "--port", "/nonexistent/tty"]))
    for args in (["--rate", "0"], ["--rate", "x"], ["--rate", "100000"], ["--speed", "nan"], ["--speed", "-2"],
                 ["--speed", "inf"], ["--duration", "forever"], ["--duration", "-5m"], ["--plan", "bogus:10m"],
                 ["--press", "10s:twice"], ["--press", "soon:short"], ["--ppg", "/nonexistent.csv"],
                 ["--seed", "x"], ["--ppg", "{text}", "--synthetic"]):
        cases.append(("sim-" + "".join(args), ["sim", "--flash", "{tmp}/f.img"] + args))
    for port in ("/nonexistent/tty", "{file}", "{dir}", "/dev/null"):
        for cmd in (["sync", "--db", "{tmp}/s.db"], ["monitor", "--seconds", "1"], ["config", "get"],
                    ["finder"], ["config", "get", "led_brightness_pct"]):
            cases.append(("port-%s-%s" % (cmd[0], port), cmd + ["--port", port]))
    for db in ("text", "newer", "folder", "nocolumn"):
        cases.append(("sync-db-" + db, ["sync", "--db", "{%s}" % db, "--port", "/nonexistent/tty"]))
    for args in (["set", "nope", "1"], ["set", "led_brightness_pct", "500"], ["set", "led_brightness_pct", "nan"],
                 ["set", "led_brightness_pct"], ["get", "led_brightness_pct", "5"], ["get", "bogus"], ["set"]):
        cases.append(("config-" + "-".join(args), ["config"] + args + ["--port", "/nonexistent/tty"]))
    for args in (["{tmp}/none.csv", "--rate", "100"], ["{file}", "--rate", "0"], ["{file}", "--rate", "x"],
                 ["{dir}", "--rate", "100"], ["{random}", "--rate", "100"], ["{empty}", "--rate", "100"],
                 ["{file}", "--rate", "100", "--column", "nope"], ["{file}"]):
        cases.append(("replay-" + "-".join(a.strip("{}") for a in args), ["replay"] + args))
    cases += [("bench-only", ["bench", "--only", "bogus"]), ("deploy-board", ["deploy", "--board", "bogus"]),
              ("deploy-cpu", ["deploy", "--cpu-mhz", "7"]), ("unknown-cmd", ["frobnicate"]),
              ("demo-duration", ["demo", "--duration", "forever", "--out", "{tmp}/demo"]),
              ("demo-out", ["demo", "--out", "/proc/version/demo"]), ("demo-seed", ["demo", "--seed", "x"]),
              ("sessions-extra", ["sessions", "extra", "--db", "{good}"]),
              ("export-format", ["export", "--format", "xml", "--db", "{good}"]),
              ("export-table", ["export", "--format", "csv", "--table", "bogus", "--db", "{good}"])]
    return cases


CASES = _cases()


def test_the_table_has_at_least_150_bad_inputs():
    assert len(CASES) >= 150, len(CASES)


def _fill(argv, dbs, tmp_path):
    names = {k: str(v) for k, v in dbs.items()}
    names["tmp"] = str(tmp_path)
    return [a.format(**names) for a in argv]


@pytest.mark.parametrize("name,argv", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_and_a_nonzero_exit(name, argv, dbs, tmp_path, capsys):
    modes = {p: os.stat(p).st_mode for p in ("/tmp", str(dbs["dir"]))}
    try:
        code = cli.main(_fill(argv, dbs, tmp_path))
    except SystemExit as e:  # argparse
        code = e.code
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code not in (0, None), (name, out, err)
    assert len(lines) == 1 and lines[0].startswith("soothe"), (name, err)
    assert "Traceback" not in err and "unexpected" not in err, (name, err)
    assert {p: os.stat(p).st_mode for p in modes} == modes  # nothing chmodded on the way


def test_locked_database_gets_one_line(dbs, tmp_path, capsys):
    p = tmp_path / "locked.db"
    shutil.copy(dbs["good"], p)
    holder = sqlite3.connect(p)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code = cli.main(["sessions", "--db", str(p)])
    finally:
        holder.close()
    err = capsys.readouterr().err
    assert code != 0 and len(err.strip().splitlines()) == 1 and "locked" in err, err


@pytest.mark.parametrize("argv", [["sessions", "--db", "{text}"], ["soak", "--days", "nan"],
                                  ["summary", "--day", "9999-12-31", "--db", "{good}"],
                                  ["sim", "--ppg", "{text}", "--flash", "{tmp}/f.img", "--duration", "10s"]])
def test_the_real_executable_also_prints_one_line(argv, dbs, tmp_path, soothe_cmd):
    proc = subprocess.run(soothe_cmd + _fill(argv, dbs, tmp_path), capture_output=True, text=True, timeout=120)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr


def test_a_database_from_a_newer_soothe_is_refused_with_the_version_it_needs(dbs, capsys):
    code = cli.main(["sessions", "--db", str(dbs["newer"])])
    err = capsys.readouterr().err
    assert code != 0 and "database version 99" in err and "reads up to" in err


# Issue 15 #11: privacy
def test_data_folder_is_0700_and_report_out_keeps_the_mode_of_a_folder_it_did_not_make(dbs, tmp_path, monkeypatch,
                                                                                          capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    os.umask(0o022)
    Store().close()
    assert os.stat(tmp_path / "xdg" / "soothe").st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o1777)  # like /tmp
    assert cli.main(["report", "--out", str(shared), "--db", str(dbs["good"])]) == 0
    assert os.stat(shared).st_mode & 0o7777 == 0o1777
    assert cli.main(["report", "--out", str(tmp_path / "new" / "rep"), "--db", str(dbs["good"])]) == 0
    assert os.stat(tmp_path / "new" / "rep").st_mode & 0o777 == 0o700
    assert os.stat(tmp_path / "new").st_mode & 0o777 == 0o700
