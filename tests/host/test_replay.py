"""`soothe replay` runs the firmware's signal engine under MicroPython over a CSV recording."""
import json
import subprocess
from array import array

import pytest


from soothe_sim import ppg_synth  # noqa: E402


def _write_recording(path, plan, fs=100, seed=5, header="ppg,other"):
    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan(plan), seed=seed)
    buf = array("i", [0] * fs)
    total = g.total_ms * fs // 1000
    with open(path, "w") as f:
        f.write(header + "\n")
        while g.n < total:
            n = g.fill(buf, fs)
            for v in buf[:n]:
                f.write("%d,7\n" % v)
    return [t / 1e6 for t in g.beats_us]


def _replay(soothe_cmd, *args):
    return subprocess.run(soothe_cmd + ["replay", *map(str, args)], capture_output=True, text=True, timeout=120)


def test_replay_json_matches_known_beats_and_hand_computed_summary(tmp_path, soothe_cmd):
    csv = tmp_path / "rec.csv"
    truth = _write_recording(csv, "rest=70:2m,nocontact:10s,rest=70:20s")
    proc = _replay(soothe_cmd, csv, "--rate", 100, "--column", "ppg", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {"beats", "windows", "summary"}
    assert set(out["beats"][0]) >= {"t_s", "rr_ms", "ok"}
    assert set(out["windows"][0]) == {"t_s", "hr_bpm", "rmssd_ms", "sdnn_ms", "pnn50", "coherence", "resonance_hz",
                                      "motion_pct"}
    # Still all along; only the jump back from the flat line, when contact returns, is movement.
    assert {w["motion_pct"] for w in out["windows"] if w["t_s"] < 120} == {0}
    assert max(w["motion_pct"] for w in out["windows"]) <= 2
    # Every true beat in the 2 min rest segment (after a 5 s learning period) is found within 50 ms
    # once the constant fiducial offset (foot -> max slope) is removed.
    seg = [t for t in truth if 5 < t < 118]
    found = [b["t_s"] for b in out["beats"]]
    offsets = sorted(min(found, key=lambda f: abs(f - t)) - t for t in seg)
    off = offsets[len(offsets) // 2]
    missing = [t for t in seg if min(abs(f - t - off) for f in found) > 0.05]
    assert not missing
    # Summary equals the figures computed by hand from the OK beats listed.
    ok = [b for b in out["beats"] if b["ok"]]
    s = out["summary"]
    assert s["beats"] == len(ok)
    assert s["artefacts"] == len(out["beats"]) - len(ok)
    mean_rr = sum(b["rr_ms"] for b in ok) / len(ok)
    assert s["hr_bpm"] == pytest.approx(60000 / mean_rr, abs=0.2)
    assert 65 < s["hr_bpm"] < 75
    # The contact loss is reported as a no-reading stretch, with no windows inside it.
    assert any(120 <= g["from_s"] <= 123 and 130 <= g["to_s"] <= 140 for g in out["no_contact"]), out["no_contact"]
    gaps = out["no_contact"]
    assert not [w for w in out["windows"] if any(g["from_s"] < w["t_s"] < g["to_s"] for g in gaps)]
    assert not [w for w in out["windows"] if 123 < w["t_s"] <= 130]  # the wrist empty: none
    # Back on the wrist at 130 s, the windows return with the reading (within 5 s of contact).
    assert [w for w in out["windows"] if 130 < w["t_s"] <= 140]
    assert s["duration_s"] == pytest.approx(150, abs=0.01)


def test_replay_text_output_lists_beats_windows_and_summary(tmp_path, soothe_cmd):
    csv = tmp_path / "rec.csv"
    _write_recording(csv, "rest=60:40s", header="# plain, one sample per row")
    # Rewrite as a single column without a header.
    rows = [line.split(",")[0] for line in csv.read_text().splitlines()[1:]]
    csv.write_text("\n".join(rows) + "\n")
    proc = _replay(soothe_cmd, csv, "--rate", 100)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("beats")
    assert lines[-1].startswith("summary: 40 s at 100 Hz")
    assert any(l.strip().endswith(" ok") for l in lines)


@pytest.mark.parametrize("content,message", [
    ("", "is empty"),
    ("ppg\n", "has a header but no samples"),
    ("ppg\n1\n2\nbad\n", "line 4: 'bad' is not a number"),
    ("a,b\n1,2\n", "has no column 'ppg'"),
    (b"ppg\n1\n\xff\xfe\x00\x01\n", "line 3: not text (is it a CSV file?)"),
])
def test_replay_bad_csv_is_a_one_line_error(tmp_path, soothe_cmd, content, message):
    csv = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        csv.write_bytes(content)
    else:
        csv.write_text(content)
    proc = _replay(soothe_cmd, csv, "--rate", 100, "--column", "ppg")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert message in proc.stderr


@pytest.mark.parametrize("args,message", [
    (["--rate", "10"], "out of range: use 25..500"),
    (["--rate", "100", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_replay_bad_options(tmp_path, soothe_cmd, args, message):
    csv = tmp_path / "ok.csv"
    csv.write_text("1\n2\n")
    proc = _replay(soothe_cmd, csv, *args)
    assert proc.returncode == 2 and message in proc.stderr


def test_bench_unknown_section_is_a_one_line_error(soothe_cmd):
    proc = subprocess.run(soothe_cmd + ["bench", "--only", "accuracy,speed"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    from soothe_tools import bench

    assert proc.stderr.strip() == "soothe: error: --only speed: choose from %s" % ",".join(bench.SECTIONS)


def test_integer_recording_with_a_flat_start_is_not_rescaled(tmp_path, soothe_cmd):
    """A 10-bit sensor that sits flat before contact (HeartPy's data2.csv starts so):
    integers are counts and stay as they are.  Scaling them by the flat start's tiny
    span once pushed the whole pulse past the ADC ceiling, so every beat was noise."""
    fs = 100
    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan("rest:60s"), seed=7)
    buf = array("i", [0] * fs)
    path = tmp_path / "flat_start.csv"
    with open(path, "w") as f:
        while g.n < 60 * fs:
            g.fill(buf, fs)
            for v in buf:
                f.write("%d\n" % (515 if g.n <= 4 * fs else 515 + (v - 2048) // 6))
    proc = _replay(soothe_cmd, path, "--rate", fs, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    truth = [t / 1e6 for t in g.beats_us if t > 15e6]
    ok = [b for b in out["beats"] if b["t_s"] > 15 and b["ok"]]
    assert len(ok) >= 0.9 * len(truth), (len(ok), len(truth))
