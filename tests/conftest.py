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
# MicroPython-side test code as real files (checked, tracebacks with file and line): case files
# whose functions interp.case / run_case call (mpcase.py: the convention), scripts run by
# interp.script(name, *args) / run_script, and helper modules any of them can import.
MP_TESTS = ROOT / "tests" / "firmware" / "mp"
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


def run_script(interpreter, name, *args, **kw):
    """Runs tests/firmware/mp/<name> under `interpreter` (sys.argv[1:] = args); returns its stdout."""
    return run_snippet(interpreter, None, script=name, args=args, **kw)


# The unix port stops with "FATAL: uncaught NLR" on a command-line argument of 256 bytes or
# more (shared/FIELD-NOTES.md): longer case arguments go through a file named "@path".
_ARG_MAX = 200


def run_case(interpreter, name, case, *args, **kw):
    """Runs the function `case` of tests/firmware/mp/<name> under `interpreter` with `args`
    (JSON values: the file ends with mpcase.main(globals()), which decodes them) -> the
    parsed JSON of the last line it printed (the function's result)."""
    encoded = json.dumps(list(args))
    if interpreter == "mp32" or len(encoded) < _ARG_MAX:
        out = run_script(interpreter, name, case, encoded, **kw)
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(encoded)
        try:
            out = run_script(interpreter, name, case, "@" + f.name, **kw)
        finally:
            os.unlink(f.name)
    return json.loads(out.strip().splitlines()[-1])


def run_mp32(chunks, timeout=300, dirs=None):
    """Runs code chunks (each its own top-level call) under the 32-bit MicroPython, with
    firmware/ (its packages), tools/probes and tests/fakes importable (or `dirs`: {port path: host dir}, first on sys.path)."""
    if isinstance(chunks, str):
        chunks = [chunks]
    dirs = dirs or {"/fakes": str(FAKES), "/mp": str(MP_TESTS), "/fw": str(FIRMWARE), "/probes": str(PROBES)}
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


def run_snippet(interpreter, code, timeout=120, heapsize=None, script=None, args=(), mkdirs=()):
    """Runs `code` with firmware/ importable; returns its stdout (raises on failure).
    With script=<file in tests/firmware/mp> (code None) that file runs instead, `args` in sys.argv[1:].
    `mkdirs`: folders the 32-bit port makes first (its file system is its own; see interp.tmpdir)."""
    if interpreter == "mp32":
        if script is not None:  # imported by name, so tracebacks name the file
            code = ["import sys; sys.argv[:] = %r" % ([script] + [str(a) for a in args]),
                    "import %s" % script[:-3]]
        if mkdirs:
            code = ["import os; " + "; ".join("os.mkdir(%r)" % d for d in mkdirs)] + (
                [code] if isinstance(code, str) else list(code))
        return run_mp32(code, timeout=max(timeout, 300))
    run = ["-c", code] if script is None else [str(MP_TESTS / script)] + [str(a) for a in args]
    if interpreter == "micropython":
        cmd = [micropython_binary()]
        if heapsize:
            cmd += ["-X", "heapsize=%s" % heapsize]
        cmd += run
        env = dict(os.environ, MICROPYPATH=".frozen:%s:%s:%s:%s" % (FAKES, MP_TESTS, FIRMWARE, PROBES))
    else:
        cmd = [sys.executable] + run
        env = dict(os.environ, PYTHONPATH="%s:%s:%s:%s" % (FAKES, MP_TESTS, FIRMWARE, PROBES))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=str(ROOT))
    if proc.returncode != 0:
        raise AssertionError("%s failed (%s):\n%s\n%s" % (interpreter, proc.returncode, proc.stdout, proc.stderr))
    return proc.stdout


@pytest.fixture(params=["cpython", "micropython", "mp32"])
def interp(request):
    """Parametrises a test over CPython, the 64-bit unix port and the 32-bit MicroPython
    (the ESP32's small-int range).  interp.case(file, func, *args) runs a function of a
    MicroPython-side test file in tests/firmware/mp/ -> its result; interp.script(file, *argv)
    runs such a file as a script -> the parsed JSON of its last line; interp(code) runs a
    one-line snippet the same way (programs belong in files: tests/docs/test_test_code_in_files.py)."""
    if request.param == "mp32":
        why = mp32_missing()
        if why:
            pytest.skip(why)

    made = []  # directories the 32-bit port must create first (its files live in memory)

    def run(code, **kw):
        out = run_snippet(request.param, code, mkdirs=made, **kw)
        return json.loads(out.strip().splitlines()[-1])

    def tmpdir(host_dir):
        """A fresh folder the firmware under test can write: host_dir itself, except on the
        32-bit WebAssembly port, whose file system is its own (a folder under its /tmp)."""
        if request.param != "mp32":
            return str(host_dir)
        d = "/tmp/t%d" % len(made)
        made.append(d)
        return d

    def script(name, *args, **kw):
        """Runs tests/firmware/mp/<name> (args in sys.argv[1:]) -> parsed JSON of its last line."""
        return json.loads(run_script(request.param, name, *args, mkdirs=made, **kw).strip().splitlines()[-1])

    def case(name, func, *args, **kw):
        """Runs func(*args) of tests/firmware/mp/<name> (see run_case) -> its result, via JSON."""
        return run_case(request.param, name, func, *args, mkdirs=made, **kw)

    run.name = request.param
    run.tmpdir = tmpdir
    run.script = script
    run.case = case
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


def sim_sync(flash, db, cli=False, set_clock=False, timeout=300, **sim_kw):
    """Starts the simulated device (the real firmware on the unix port) on the flash image
    `flash`, lets it run its `duration`, syncs it into the SQLite store `db` and stops it.

    cli=True syncs through the installed `soothe sync` (which sets the device clock) and
    returns the CompletedProcess, asserting exit 0; otherwise the library's sync() runs, with
    set_clock as given, and its SyncResult is returned.  sim_kw go to Simulator (seed, plan,
    duration, start, presses, trace, ...).  The same device can be synced again by calling
    this once more with the same flash and db."""
    from soothe.simulator import Simulator

    with Simulator(flash, **sim_kw) as sim:
        sim.wait_stopped(timeout=timeout)
        if cli:
            out = subprocess.run([str(BIN / "soothe"), "sync", "--port", sim.port, "--db", str(db)],
                                 capture_output=True, text=True, timeout=120)
            assert out.returncode == 0, out.stderr
            return out
        return sync_device(sim.port, db, set_clock=set_clock)


def sync_device(port, db, set_clock=False):
    """The library's sync of the device on `port` into the store `db` -> SyncResult."""
    from soothe.device import Device, open_port
    from soothe.store import Store
    from soothe.sync import sync

    dev = Device(open_port(port))
    store = Store(db)
    try:
        return sync(dev, store, set_clock=set_clock)
    finally:
        dev.close()
        store.close()


@pytest.fixture
def synced_sim(tmp_path):
    """synced_sim(name, **sim_kw) -> (SyncResult, db path): a simulated device run and synced
    into tmp_path/<name>.db (see sim_sync; module-scoped fixtures call sim_sync directly)."""

    def run(name="sim", **kw):
        db = tmp_path / (name + ".db")
        return sim_sync(tmp_path / (name + ".img"), db, **kw), db

    return run


def motor_changes(plan, length_ms):
    """[(ms from the start, motor duty)] at each change of a haptic plan (pacer.BreathPlan,
    practice.PracticePlan, practice.Cue) up to length_ms, ending at 0: the schedule a
    simulator trace is checked against."""
    out = []
    t = 0
    while t < length_ms:
        plan.at(t)
        if not out or out[-1][1] != plan.duty:
            out.append((t, plan.duty))
        t = plan.next_ms
    if out[-1][1] != 0:
        out.append((length_ms, 0))
    return out
