"""Fixtures: run firmware snippets under CPython and the MicroPython unix port alike."""
import json
import os
import shutil
import subprocess
import tempfile
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
FAKES = ROOT / "tests" / "fakes"
PROBES = ROOT / "tools" / "probes"  # the MicroPython bench probes
BIN = Path(sys.executable).parent


def micropython_binary():
    return str(BIN / "micropython")


MP32_RUNNER = ROOT / "tests" / "mp32.mjs"
MP32_PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"


def mp32_missing():
    """Why the 32-bit MicroPython cannot run here (None when it can).  Only a missing
    Node.js is a reason to skip; `make setup` installs the npm package itself."""
    if not shutil.which("node"):
        return "node (Node.js) not on PATH: the 32-bit MicroPython is its WebAssembly port"
    if not MP32_PACKAGE.exists():
        raise AssertionError("node_modules/@micropython/micropython-webassembly-pyscript missing: run `make setup`")
    return None


def run_mp32(chunks, timeout=300, dirs=None):
    """Runs code chunks (each its own top-level call) under the 32-bit MicroPython, with
    firmware/ (its packages), tools/probes and tests/fakes importable (or `dirs`: {port path: host dir}, first on sys.path)."""
    if isinstance(chunks, str):
        chunks = [chunks]
    dirs = dirs or {"/fakes": str(FAKES), "/fw": str(FIRMWARE), "/probes": str(PROBES)}
    job = {"dirs": dirs, "path": list(dirs), "chunks": list(chunks)}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(job, f)
    try:
        proc = subprocess.run(["node", str(MP32_RUNNER), f.name], capture_output=True, text=True,
                              timeout=timeout, cwd=str(ROOT))
    finally:
        os.unlink(f.name)
    if proc.returncode != 0:
        raise AssertionError("mp32 failed (%s):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout


def run_snippet(interpreter, code, timeout=120, heapsize=None):
    """Runs `code` with firmware/ importable; returns its stdout (raises on failure)."""
    if interpreter == "mp32":
        return run_mp32(code, timeout=max(timeout, 300))
    if interpreter == "micropython":
        cmd = [micropython_binary()]
        if heapsize:
            cmd += ["-X", "heapsize=%s" % heapsize]
        cmd += ["-c", code]
        env = dict(os.environ, MICROPYPATH=".frozen:%s:%s:%s" % (FAKES, FIRMWARE, PROBES))
    else:
        cmd = [sys.executable, "-c", code]
        env = dict(os.environ, PYTHONPATH="%s:%s:%s" % (FAKES, FIRMWARE, PROBES))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=str(ROOT))
    if proc.returncode != 0:
        raise AssertionError("%s failed (%s):\n%s\n%s" % (interpreter, proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout


@pytest.fixture(params=["cpython", "micropython", "mp32"])
def interp(request):
    """Parametrises a test over CPython, the 64-bit unix port and the 32-bit MicroPython
    (the ESP32's small-int range); call interp(code) -> parsed JSON of the last line."""
    if request.param == "mp32":
        why = mp32_missing()
        if why:
            pytest.skip(why)

    made = []  # directories the 32-bit port must create first (its files live in memory)

    def run(code, **kw):
        if made:
            code = "import os\n" + "".join("os.mkdir(%r)\n" % d for d in made) + code
        out = run_snippet(request.param, code, **kw)
        return json.loads(out.strip().splitlines()[-1])

    def tmpdir(host_dir):
        """A fresh folder the firmware under test can write: host_dir itself, except on the
        32-bit WebAssembly port, whose file system is its own (a folder under its /tmp)."""
        if request.param != "mp32":
            return str(host_dir)
        d = "/tmp/t%d" % len(made)
        made.append(d)
        return d

    run.name = request.param
    run.tmpdir = tmpdir
    return run


@pytest.fixture
def mp32():
    """The 32-bit MicroPython: mp32(code_or_chunks) -> parsed JSON of the last printed line."""
    why = mp32_missing()
    if why:
        pytest.skip(why)

    def run(chunks, **kw):
        out = run_mp32(chunks, **kw)
        return json.loads(out.strip().splitlines()[-1])

    return run


@pytest.fixture(autouse=True, scope="session")
def _own_data_home(tmp_path_factory):
    """The tests never read or write the user's own database (~/.local/share/soothe): the
    default --db of every soothe run here, in-process or as a subprocess, is a fresh folder."""
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


@pytest.fixture
def soothe_cmd():
    return [str(BIN / "soothe")]
