"""A 32-bit MicroPython unix port built twice from a MicroPython source tree, to measure the
device's heap as an ESP32 would hold it (issue 17): once with the soothe_fw package frozen
(bytecode in the image, as firmware/manifest.py builds the ESP32 firmware) and once with only
asyncio frozen (as a stock ESP32 firmware ships), where the package is loaded from .mpy into RAM.

    python -m soothe_tools.frozen build /path/to/micropython [--tag v1.27.0]
    python -m soothe_tools.frozen measure [--hours 24]

`build` clones the given MicroPython source (a checkout or a git repository, e.g. a clone of
https://github.com/micropython/micropython) at the tag into build/mp32/micropython, builds
mpy-cross and the two `MICROPY_FORCE_32BIT=1` binaries into build/mp32/ (needs gcc-multilib:
`apt-get install gcc-multilib`).  Nothing in `make test` needs this build; `soothe bench --only
cost` prints its figures when build/mp32 holds it and one line on how to build it otherwise.
The wasm port (tests/mp32.mjs) stays the test suite's 32-bit MicroPython.
"""
import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from soothe.fw import FIRMWARE_DIR

ROOT_DIR = FIRMWARE_DIR.parent
BUILD_DIR = ROOT_DIR / "build" / "mp32"
TAG = "v1.27.0"
# Optional unix-port features whose sources are git submodules (not needed by the firmware)
_NO_SUBMODULES = ("MICROPY_PY_BTREE=0", "MICROPY_PY_SSL=0", "MICROPY_PY_FFI=0", "MICROPY_USE_READLINE=0")
HOW = ("no 32-bit MicroPython build: `make mp32-frozen MICROPYTHON=/path/to/micropython` "
       "(a clone of github.com/micropython/micropython; needs gcc-multilib)")


def binaries():
    """{"frozen": path, "mpy": path, "mpy_cross": path} when the build is there, else None."""
    out = {k: BUILD_DIR / name for k, name in (("frozen", "micropython-frozen"), ("mpy", "micropython-mpy"),
                                                 ("mpy_cross", "mpy-cross"))}
    return out if all(p.exists() for p in out.values()) else None


def stale():
    """True when a soothe_fw source is newer than the frozen binary (rebuild: `build`)."""
    b = binaries()
    if b is None:
        return False
    built = b["frozen"].stat().st_mtime
    return any(p.stat().st_mtime > built for p in (FIRMWARE_DIR / "soothe_fw").rglob("*.py"))


def _manifest(name, frozen):
    path = BUILD_DIR / ("manifest-%s.py" % name)
    lines = ['include("$(MPY_DIR)/extmod/asyncio")  # a stock ESP32 firmware freezes asyncio too']
    if frozen:
        lines.append('package("soothe_fw", base_path=%r)  # as firmware/manifest.py' % str(FIRMWARE_DIR))
    path.write_text("\n".join(lines) + "\n")
    return path


def build(source, tag=TAG, jobs=2):
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    tree = BUILD_DIR / "micropython"
    if not (tree / "py" / "mpconfig.h").exists():
        subprocess.run(["git", "clone", "-q", "--shared" if Path(source, "objects").exists() else "--local",
                        "--no-checkout", str(source), str(tree)], check=True)
        subprocess.run(["git", "-C", str(tree), "checkout", "-q", tag], check=True)
    subprocess.run(["make", "-s", "-C", str(tree / "mpy-cross"), "-j%d" % jobs], check=True)
    shutil.copy(tree / "mpy-cross" / "build" / "mpy-cross", BUILD_DIR / "mpy-cross")
    # the build insists on micropython-lib (a submodule) for manifests; ours need none of it
    nolib = BUILD_DIR / "no-micropython-lib"
    nolib.mkdir(exist_ok=True)
    (nolib / "README.md").write_text("micropython-lib is not needed by the Soothe manifests\n")
    for name, frozen in (("mpy", False), ("frozen", True)):
        subprocess.run(["make", "-s", "-C", str(tree / "ports" / "unix"), "-j%d" % jobs, "MICROPY_FORCE_32BIT=1",
                        "MPY_CROSS_FLAGS=-march=x86", "MPY_LIB_DIR=%s" % nolib, *_NO_SUBMODULES,
                        "BUILD=build-soothe-%s" % name, "FROZEN_MANIFEST=%s" % _manifest(name, frozen)], check=True)
        shutil.copy(tree / "ports" / "unix" / ("build-soothe-%s" % name) / "micropython",
                    BUILD_DIR / ("micropython-" + name))
    return binaries()


def compile_mpy(dest, packages):
    """The packages' .py files as x86 .mpy (native code kept) in dest, for the 32-bit builds."""
    mpy_cross = str(BUILD_DIR / "mpy-cross")
    for pkg in packages:
        for src in sorted((FIRMWARE_DIR / pkg).rglob("*.py")):
            rel = src.relative_to(FIRMWARE_DIR).as_posix()
            out = Path(dest, rel[:-3] + ".mpy")
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([mpy_cross, "-march=x86", "-s", rel, "-o", str(out), str(src)], check=True)


def sim_day(build, hours=24, seed=3):
    """The whole device: the App's asyncio tasks on the simulated board (synthetic PPG and
    accelerometer, virtual clock) for `hours` under the 32-bit build "frozen" (soothe_fw in
    the binary; the simulator from .mpy) or "mpy" (both from .mpy).  Returns the board's
    figures: live_peak (after a collect, once a virtual minute), sim_share (the simulator's
    own modules and objects, measured before the App starts), device = the difference."""
    import re
    import tempfile

    from soothe.simulator import Simulator

    heap = {"frozen": "256k", "mpy": "320k"}[build]
    with tempfile.TemporaryDirectory() as work:
        code = os.path.join(work, "code")
        compile_mpy(code, ("soothe_sim",) if build == "frozen" else ("soothe_sim", "soothe_fw"))
        sim = Simulator(os.path.join(work, "flash.img"), seed=seed, duration="%dm" % (hours * 60), heapsize=heap)
        sim.binary = str(binaries()[build])
        sim.code_dir = code
        with sim:
            sim.wait_stopped(timeout=600 + hours * 3600)
            line = sim.stats_line()
    f = {k: int(v) for k, v in re.findall(r"(live_peak|sim_share|fired)=(\d+)", line)}
    f.update(heapsize=heap, hours=hours, device=f["live_peak"] - f["sim_share"])
    return f


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m soothe_tools.frozen")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("source", help="a MicroPython checkout or git repository")
    b.add_argument("--tag", default=TAG)
    m = sub.add_parser("measure", help="the App's day of hot paths (tools/probes/bench_device.py), both builds")
    m.add_argument("--hours", type=int, default=24)
    d = sub.add_parser("sim", help="the whole device (App tasks on the simulated board), both builds")
    d.add_argument("--hours", type=int, default=24)
    a = p.parse_args(argv)
    if a.cmd != "build" and a.hours < 1:
        print("frozen: --hours %d: give at least 1" % a.hours, file=sys.stderr)
        return 2
    if a.cmd == "build":
        if not Path(a.source).exists():
            print("frozen: %s not found: give a MicroPython checkout (git clone "
                  "https://github.com/micropython/micropython)" % a.source, file=sys.stderr)
            return 2
        build(a.source, a.tag)
        print("built %s" % BUILD_DIR)
        return 0
    if binaries() is None:
        print(HOW, file=sys.stderr)
        return 2
    if a.cmd == "sim":
        for kind in ("frozen", "mpy"):
            f = sim_day(kind, a.hours)
            print("32-bit %s, %d h simulated, -X heapsize=%s: live heap peak %d bytes, of which the simulator's own "
                  "%d: the device %d bytes; watchdog fired %d" % (kind, f["hours"], f["heapsize"], f["live_peak"],
                                                                 f["sim_share"], f["device"], f["fired"]))
        return 0
    from soothe_tools import bench

    bench.bench_frozen(sys.stdout, a.hours)
    return 0


if __name__ == "__main__":
    sys.exit(main())
