"""Fixtures: run firmware snippets under CPython and the MicroPython unix port alike."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
FAKES = ROOT / "tests" / "fakes"
BIN = Path(sys.executable).parent


def micropython_binary():
    return str(BIN / "micropython")


def run_snippet(interpreter, code, timeout=120, heapsize=None):
    """Runs `code` with firmware/ importable; returns its stdout (raises on failure)."""
    if interpreter == "micropython":
        cmd = [micropython_binary()]
        if heapsize:
            cmd += ["-X", "heapsize=%s" % heapsize]
        cmd += ["-c", code]
        env = dict(os.environ, MICROPYPATH=".frozen:%s:%s" % (FAKES, FIRMWARE))
    else:
        cmd = [sys.executable, "-c", code]
        env = dict(os.environ, PYTHONPATH="%s:%s" % (FAKES, FIRMWARE))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=str(ROOT))
    if proc.returncode != 0:
        raise AssertionError("%s failed (%s):\n%s\n%s" % (interpreter, proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout


@pytest.fixture(params=["cpython", "micropython"])
def interp(request):
    """Parametrises a test over both interpreters; call interp(code) -> parsed JSON of the last line."""

    def run(code, **kw):
        out = run_snippet(request.param, code, **kw)
        return json.loads(out.strip().splitlines()[-1])

    run.name = request.param
    return run


@pytest.fixture
def soothe_cmd():
    return [str(BIN / "soothe")]
