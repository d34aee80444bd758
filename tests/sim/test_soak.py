"""A short soak: hours of wearing from the .mpy image on a small heap (make soak runs 7 days)."""
import subprocess


def test_short_soak_passes(soothe_cmd):
    r = subprocess.run(soothe_cmd + ["soak", "--days", "0.125"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    line = r.stdout.strip()
    assert line.startswith("soak PASSED: 0.12 days (180 min) at -X heapsize=216k")
    assert "watchdog fired 0" in line and "seqs contiguous: yes" in line and "180/180 minute records" in line


def test_soak_too_short_is_a_one_line_error(soothe_cmd):
    r = subprocess.run(soothe_cmd + ["soak", "--days", "0.001"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "soak at least 10 minutes" in r.stderr
