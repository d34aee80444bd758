"""`soothe sessions`, `export`, `monitor`, `config` and `finder` against the simulated device."""
import csv
import io
import json
import os
import sqlite3
import stat
import subprocess

import pytest

from soothe_fw.log import records
from soothe.simulator import Simulator


def run(cmd, *args, timeout=60):
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """40 min of wearing with a breathing session at 12 min, synced with the CLI."""
    from conftest import BIN, sim_sync

    cmd = [str(BIN / "soothe")]
    tmp = tmp_path_factory.mktemp("synced")
    db = tmp / "s.db"
    sim_sync(tmp / "f.img", db, cli=True, timeout=180, seed=11, duration="40m", presses=["720s:short"])
    return cmd, db, tmp


def test_sessions_lists_days_and_the_breathing_session(synced):
    cmd, db, _ = synced
    out = run(cmd, "sessions", "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert "Days for sim-0011" in out.stdout
    assert "Breathing sessions (1)" in out.stdout
    row = [ln for ln in out.stdout.splitlines() if " manual " in ln]
    assert len(row) == 1 and "120s" in row[0] and "6.0/m" in row[0] and "yes" in row[0]


def test_export_kubios_is_one_rr_per_line_matching_the_store(synced):
    cmd, db, _ = synced
    out = run(cmd, "export", "--format", "kubios", "--db", str(db))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    con = sqlite3.connect(db)
    # format 2: only beats fit for HRV (flag ok)
    expect = [r[0] for r in con.execute("SELECT rr_ms FROM beats b WHERE flag = 0 AND NOT EXISTS (SELECT 1 FROM "
                                        "minutes m WHERE m.state = 'no-reading' AND b.t_unix_ms >= m.unix_s * 1000 "
                                        "AND b.t_unix_ms < m.unix_s * 1000 + 60000) ORDER BY t_unix_ms, seq, idx")]
    assert [int(x) for x in lines] == expect and len(expect) > 2000
    assert all(300 <= int(x) <= 2000 for x in lines)


def test_export_csv_and_json_to_a_private_file(synced):
    cmd, db, tmp = synced
    out_csv = tmp / "beats.csv"
    r = run(cmd, "export", "--format", "csv", "--db", str(db), "--out", str(out_csv))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(os.stat(out_csv).st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert rows[0].keys() >= {"time_local", "unix_ms", "rr_ms", "flag", "flag_name"}
    assert all(int(b["unix_ms"]) > int(a["unix_ms"]) for a, b in zip(rows, rows[1:]))
    r = run(cmd, "export", "--format", "csv", "--table", "minutes", "--db", str(db))
    mins = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(mins) == 40 and {m["state"] for m in mins} <= set(records.STATE_NAMES)
    r = run(cmd, "export", "--format", "json", "--db", str(db))
    doc = json.loads(r.stdout)
    assert doc["device_id"] == "sim-0011" and len(doc["minutes"]) == 40
    assert len(doc["beats"]) == len(rows)
    assert doc["sessions"][0]["kind"] == "manual" and doc["sessions"][0]["completed"] == 1
    assert any(e["kind"] == "boot" and e["data"]["board"] == "sim" for e in doc["events"])


@pytest.mark.parametrize("args,message", [
    (["--from", "2026-13-01"], "--from '2026-13-01': use a date like 2026-01-05"),
    (["--from", "2026-02-02", "--to", "2026-02-01"], "--to 2026-02-01 is before --from 2026-02-02"),
    (["--device", "nope"], "no device 'nope' in the database"),
])
def test_export_bad_range_is_a_one_line_error(synced, args, message):
    cmd, db, _ = synced
    r = run(cmd, "export", "--format", "csv", "--db", str(db), *args)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr


def test_export_empty_range_and_missing_db_say_so(synced, tmp_path):
    cmd, db, _ = synced
    r = run(cmd, "export", "--format", "kubios", "--db", str(db), "--from", "2020-01-01", "--to", "2020-01-02")
    assert r.returncode == 2 and r.stdout == "" and "nothing stored for sim-0011" in r.stderr
    r = run(cmd, "sessions", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 2 and "run `soothe sync` first" in r.stderr


def test_monitor_config_and_finder_on_a_running_device(tmp_path, soothe_cmd):
    sim = Simulator(tmp_path / "live.img", seed=12, speed=30)
    with sim:
        port = sim.port
        # config: validated on the host with the firmware's own schema, then stored on the device
        r = run(soothe_cmd, "config", "set", "led_brightness_pct", "250", "--port", port)
        assert r.returncode == 2 and "led_brightness_pct" in r.stderr and r.stderr.count("\n") == 1
        r = run(soothe_cmd, "config", "set", "led_brightness_pct", "12", "--port", port)
        assert r.returncode == 0 and "led_brightness_pct    12 %" in r.stdout, r.stdout + r.stderr
        r = run(soothe_cmd, "config", "get", "--port", port)
        assert "led_brightness_pct    12 %" in r.stdout and "pacer_rate            6.0 breaths/min" in r.stdout
        # natural units for a scaled key: 6.5 breaths/min is stored as pacer_rate_x10 = 65
        r = run(soothe_cmd, "config", "set", "pacer_rate", "6.5", "--port", port)
        assert r.returncode == 0 and "pacer_rate            6.5 breaths/min" in r.stdout, r.stdout + r.stderr
        r = run(soothe_cmd, "config", "get", "pacer_rate_x10", "--port", port)
        assert "6.5 breaths/min" in r.stdout and all(len(ln) <= 80 for ln in r.stdout.splitlines())
        r = run(soothe_cmd, "config", "get", "no_such_key", "--port", port)
        assert r.returncode == 2 and "unknown setting 'no_such_key'" in r.stderr
        # monitor: live beats while the device runs
        r = run(soothe_cmd, "monitor", "--port", port, "--seconds", "4")
        assert r.returncode == 0, r.stderr
        beats = [ln for ln in r.stdout.splitlines() if "HR " in ln]
        assert all(len(ln) <= 80 for ln in r.stdout.splitlines())  # an 80-column terminal, piped
        assert len(beats) >= 5 and all("pacer off" in ln for ln in beats)
        # the finder, started from the host, shows as pacer phases in the monitor
        r = run(soothe_cmd, "finder", "--port", port)
        assert r.returncode == 0 and "resonance finder started" in r.stdout, r.stdout + r.stderr
        r = run(soothe_cmd, "finder", "--port", port)
        assert r.returncode == 1 and "already running" in r.stdout
        r = run(soothe_cmd, "monitor", "--port", port, "--seconds", "4")
        phases = {ln.split("pacer ")[1].split()[0] for ln in r.stdout.splitlines() if "pacer " in ln}
        assert phases >= {"inhale", "exhale"} and "6.5/min" in r.stdout, r.stdout[-500:]
        r = run(soothe_cmd, "finder", "--abort", "--port", port)
        assert r.returncode == 0 and "finder stopped" in r.stdout


class _Imgs(__import__("html.parser").parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def _check_svg(path):
    """A real plot: an SVG document with drawn paths and text, not an empty figure."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg"), path
    tags = [el.tag.rsplit("}", 1)[-1] for el in root.iter()]
    assert tags.count("path") > 20 and tags.count("text") > 5, (path, tags.count("path"), tags.count("text"))


def test_report_writes_html_with_valid_plots(synced):
    cmd, db, tmp = synced
    out_dir = tmp / "report"
    r = run(cmd, "report", "--db", str(db), "--out", str(out_dir), timeout=180)
    assert r.returncode == 0, r.stderr
    index = out_dir / "index.html"
    assert r.stdout.strip() == "report: %s" % index
    page = index.read_text()
    p = _Imgs()
    p.feed(page)
    assert "name=viewport" in page and "<source media='(max-width: 640px)'" in page
    assert any(s.startswith("timeline-") for s in p.srcs) and any(s.startswith("session-") for s in p.srcs)
    for src in p.srcs + [s.split("srcset='")[1].split("'")[0] for s in page.split("<source")[1:]]:
        assert "/" not in src and "http" not in src  # local files next to the page, no network
        _check_svg(out_dir / src)
        assert stat.S_IMODE(os.stat(out_dir / src).st_mode) == 0o600
    text = " ".join(p.text)
    assert "not a diagnosis" in text and "breathing session" in text and "How to read this" in text
    assert "Trends across days appear once the range covers two days" in text
    assert "before" in text and "during" in text and "after" in text and "of worn time" in text


def test_report_across_two_days_has_trends_and_summary_table(tmp_path, soothe_cmd):
    import datetime as dt
    import time as _time

    # 23:20 local time on 5 Jan 2026: an hour of wearing crosses midnight.
    start = int(_time.mktime(dt.datetime(2026, 1, 5, 23, 20).timetuple()))
    from conftest import sim_sync

    db = tmp_path / "two.db"
    sim_sync(tmp_path / "two.img", db, cli=True, timeout=180, seed=13, duration="60m", start=start)
    r = run(soothe_cmd, "report", "--db", str(db), "--out", str(tmp_path / "rep"), timeout=180)
    assert r.returncode == 0, r.stderr
    p = _Imgs()
    p.feed((tmp_path / "rep" / "index.html").read_text())
    assert "trends.svg" in p.srcs and sum(s.startswith("timeline-") for s in p.srcs) == 2
    _check_svg(tmp_path / "rep" / "trends.svg")
    r = run(soothe_cmd, "summary", "--db", str(db), "--from", "2026-01-05", "--to", "2026-01-06")
    assert r.returncode == 0, r.stderr
    assert "2026-01-05" in r.stdout and "2026-01-06" in r.stdout and "RMSSD" in r.stdout
    assert "not a diagnosis" in " ".join(r.stdout.split())  # wrapped to the terminal's width
    r = run(soothe_cmd, "summary", "--db", str(db))  # the last day by default
    assert "2026-01-06" in r.stdout and "2026-01-05 " not in r.stdout.split("Soothe summary")[1].split("\n", 1)[0]


def test_report_and_summary_on_an_empty_range_say_so(synced):
    cmd, db, tmp = synced
    for sub in (["report", "--out", str(tmp / "empty")], ["summary"]):
        r = run(cmd, *sub, "--db", str(db), "--day", "2020-02-02")
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "no data for sim-0011 in 2020-02-02" in r.stderr


@pytest.mark.parametrize("args,message", [
    (["monitor", "--seconds", "0", "--port", "/dev/null"], "--seconds must be above 0"),
    (["config", "set", "led_brightness_pct", "--port", "/dev/null"], "config set needs KEY VALUE"),
    (["config", "get", "led_brightness_pct", "7", "--port", "/dev/null"], "config get takes one KEY"),
    (["config", "set", "pacer_rate_x10", "90", "--port", "/dev/null"], "pacer_rate_x10"),
    (["export", "--format", "xml"], "invalid choice: 'xml'"),
])
def test_command_option_errors_are_one_line_before_any_device_is_opened(soothe_cmd, args, message):
    r = run(soothe_cmd, *args)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
