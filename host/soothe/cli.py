"""`soothe` command line: a table of commands, each a thin wrapper over the library.

COMMANDS maps every command name to (handler, builder, help), after mpremote's `_COMMANDS`
(tools/mpremote/mpremote/main.py).  The builder adds the command's options to its argparse
parser, using the shared option helpers below (add_port, add_db, add_device, add_dates,
add_range) so each option is written once.  The handler is `do_x(args) -> exit code`; it
lives in commands.py, or in the feature's own module, and calls the library (no SQL: rows
come from store.py / query.py).  Input the user can fix raises commands.CommandError("what
to fix"): main() prints it as ONE line `soothe: error: ...` and exits 2; other failures map
to one line and exit 1 in main() as well.  Never a traceback.

Adding a command, e.g. `soothe mark` (issue 19):
  1. the logic in its own module (host/soothe/marks.py), callable by tests without the CLI;
  2. in that module, `def do_mark(args):` that raises CommandError for bad input, opens the
     store with `commands.StoreFor(args)` (or `commands.open_store(args.db)`) and a device with
     `commands.open_device(args.port)`, prints, and returns 0;
  3. here, a builder `def _build_mark(p): add_range(p); p.add_argument(...)`;
  4. one row in COMMANDS: `"mark": (marks.do_mark, _build_mark, "one-line help")` (the row's
     place is the command's place in `soothe --help`).  Keep the handler's module light at
     import (numpy, matplotlib, rich: import them inside the handler), as commands.py does.
"""
import argparse
import os
import sqlite3
import subprocess
import sys

from . import commands as c
from . import marks, programme
from .commands import CommandError  # noqa: F401  (kept importable as soothe.cli.CommandError)
from .device import DeviceError
from .store import StoreError

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(EXIT_USAGE, "soothe: error: %s\n" % message)


# ---- shared option helpers: each option is defined once --------------------------------------

def add_port(p, help="serial port (default: auto-detect)"):
    p.add_argument("--port", help=help)


def add_db(p):
    p.add_argument("--db", help="SQLite database (default: ~/.local/share/soothe/soothe.db)")


def add_device(p):
    p.add_argument("--device", help="device id (default: the one synced last)")


def add_dates(p, day=True):
    """--day, or --from/--to: local calendar days (query.resolve reads them)."""
    if day:
        p.add_argument("--day", metavar="DATE", help="one local day, e.g. 2026-01-05")
    p.add_argument("--from", dest="from_", metavar="DATE", help="first local day (inclusive)")
    p.add_argument("--to", metavar="DATE", help="last local day (inclusive)")


def add_range(p, day=True):
    """What commands.StoreFor(args) needs: --db, --device and the dates."""
    add_db(p)
    add_device(p)
    add_dates(p, day)


# ---- builders: one per command ---------------------------------------------------------------

def _build_sim(p):
    src = p.add_mutually_exclusive_group()
    src.add_argument("--ppg", metavar="FILE", help="feed the pulse sensor from a CSV recording")
    src.add_argument("--synthetic", action="store_true", help="built-in generator with known beats (default)")
    p.add_argument("--rate", type=int, default=100, metavar="HZ", help="sample rate, 25..500 (default 100)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument("--plan", help="generator plan, e.g. rest:10m,stress:5m (kinds: rest stress soothe active nocontact)")
    p.add_argument("--flash", default="soothe-flash.img", metavar="IMAGE", help="littlefs image file (kept between runs)")
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--speed", type=float, metavar="X", help="virtual seconds per real second")
    speed.add_argument("--fast", action="store_true", help="as fast as possible (default)")
    p.add_argument("--duration", metavar="D", help="simulate this much wearing (90s, 10m, 2h), then stop the clock")
    p.add_argument("--trace", metavar="FILE", help="write LED/motor commands with their virtual time here")
    p.add_argument("--press", action="append", default=[], metavar="T:KIND",
                   help="press the button at virtual time T (short or long), e.g. 600s:short")
    p.add_argument("--device-id", help="device id the simulator reports (default: sim-<seed>)")
    p.add_argument("--start", metavar="DATE[THH:MM]",
                   help="local date and time the simulated wearing starts (default: now)")
    p.add_argument("--heapsize", help="MicroPython heap, e.g. 64k like an ESP32 without PSRAM")


def _build_sync(p):
    add_port(p, "serial port (default: auto-detect an ESP32 by USB VID:PID)")
    add_db(p)


def _build_replay(p):
    p.add_argument("file", metavar="FILE", help="CSV: one sample per row, or columns with a header row")
    p.add_argument("--rate", type=int, required=True, metavar="HZ", help="sample rate of the recording, 25..500")
    p.add_argument("--column", metavar="NAME", help="column to read (header name, or 0-based index without a header)")
    p.add_argument("--adc-bits", type=int, default=0, metavar="N",
                   help="the sensor's range in bits, 8..24 (default: inferred from the data)")
    p.add_argument("--json", action="store_true", help="one JSON object: beats, windows, summary (see README)")


def _build_bench(p):
    p.add_argument("--only", metavar="SECTIONS", help="comma-separated sections to run (default: all)")
    p.add_argument("--quick", action="store_true", help="fewer cases and shorter runs")


def _build_export(p):
    from .export import FORMATS, TABLES

    p.add_argument("--format", required=True, choices=FORMATS,
                   help="kubios: one RR (ms) per line, ok beats only; kubios-time: time_s,rr_ms keeping gaps")
    p.add_argument("--table", choices=TABLES, help="beats, minutes or sessions (csv default: beats; json default: all)")
    p.add_argument("--out", metavar="FILE", help="write here (created 0600) instead of stdout")
    add_range(p)


def _build_report(p):
    add_range(p)
    p.add_argument("--out", default="soothe-report", metavar="DIR", help="folder for index.html and plots")


def _build_monitor(p):
    add_port(p)
    p.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")


def _build_config(p):
    p.add_argument("action", choices=("get", "set"))
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE")
    add_port(p)


def _build_finder(p):
    p.add_argument("--abort", action="store_true", help="stop the finder or a breathing session")
    add_port(p)


def _build_deploy(p):
    add_port(p)
    p.add_argument("--board", default="esp32-devkitc", help="esp32-devkitc (default) or xiao-esp32s3")
    p.add_argument("--sensor", default="analog", choices=("analog", "max30102"))
    p.add_argument("--led", default="pwm-cathode", choices=("pwm-cathode", "pwm-anode", "ws2812"))
    p.add_argument("--motor", default="pwm", choices=("pwm", "drv2605", "drv2605-lra"))
    p.add_argument("--cpu-mhz", type=int, default=160, choices=(80, 160, 240), help="CPU clock (default 160)")
    p.add_argument("--sleep", choices=("light", "none"),
                   help="light sleep between MAX30102 bursts (default: light with max30102, else none)")
    p.add_argument("--accel", choices=("auto", "lis2dh12", "none"),
                   help="LIS2DH12 wrist accelerometer on the I2C bus (default auto: used when it answers)")


def _build_soak(p):
    p.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    p.add_argument("--heapsize", default="256k", help="MicroPython heap (default 256k, see tools/soothe_tools/soak.py)")


def _build_demo(p):
    p.add_argument("--duration", default="60m", help="how much wearing to simulate (default 60m)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="out/demo", help="folder for the flash image and database")


def _build_mark(p):
    from .marks import TAGS

    p.add_argument("action", nargs="?", default="list", choices=("list", "tag"),
                   help="list (default) or tag one mark")
    p.add_argument("id", nargs="?", metavar="ID", help="the mark's id (first column of `soothe mark`)")
    p.add_argument("tag", nargs="?", metavar="TAG", help="one of: %s" % ", ".join(TAGS))
    p.add_argument("--note", metavar="TEXT", help="your own words for the moment (kept on this computer only)")
    p.add_argument("--clear", action="store_true", help="remove the mark's tag and note")
    p.add_argument("--json", action="store_true", help="JSON instead of a table (see README)")
    add_range(p)


def _build_programme(p):
    add_range(p, day=False)
    p.add_argument("--json", action="store_true", help="JSON instead of tables (see README)")


# ---- the table: name -> (handler, builder, help); its order is the order in `soothe --help` ----

COMMANDS = {
    "sim": (c.do_sim, _build_sim, "run the real firmware on the simulated board; prints `port: /dev/pts/N`"),
    "sync": (c.do_sync, _build_sync, "sync the device's log to the local database and set its clock"),
    "replay": (c.do_replay, _build_replay, "run a PPG recording (CSV) through the firmware's beat and HRV engine"),
    "bench": (c.do_bench, _build_bench, "print accuracy, cost, log and wire figures against the targets"),
    "sessions": (c.do_sessions, add_range, "list the synced days and breathing sessions"),
    "export": (c.do_export, _build_export, "export RR intervals and summaries (csv, json, or Kubios RR text)"),
    "report": (c.do_report, _build_report,
               "write an HTML report (phone and desktop, SVG plots) for a day or a range"),
    "summary": (c.do_summary, add_range, "key figures per day as a terminal table (default: the last day)"),
    "mark": (marks.do_mark, _build_mark, "list the moments marked (double press); `mark tag ID TAG` tags one"),
    "programme": (programme.do_programme, _build_programme,
                  "two weeks: practice, marks by tag, resting RMSSD, before/after"),
    "monitor": (c.do_monitor, _build_monitor, "live HR, RMSSD, state and pacer phase from the device"),
    "config": (c.do_config, _build_config, "read or change the device's settings (validated before sending)"),
    "finder": (c.do_finder, _build_finder, "start (or --abort) the resonance-breathing finder on the device"),
    "deploy": (c.do_deploy, _build_deploy,
               "compile the firmware with mpy-cross and copy it with mpremote (keeps /data)"),
    "doctor": (c.do_doctor, add_port, "check a connected board: MicroPython, flash, RAM, sensor, LED and motor"),
    "soak": (c.do_soak, _build_soak, "days of wearing on the simulated board from the .mpy image on a small heap"),
    "demo": (c.do_demo, _build_demo, "simulate a stretch of wearing, sync it and print what arrived"),
}


def build_parser():
    parser = Parser(prog="soothe", description="Soothe: compassion-focused HRV biofeedback wearable, host tool.")
    parser.add_argument("--version", action="version", version="soothe %s" % _version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, (handler, builder, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        builder(p)
        p.set_defaults(func=handler)
    return parser


def _version():
    try:
        from importlib.metadata import version

        return version("soothe")
    except Exception:  # not installed (run from a source tree)
        return "unknown"


def _one_line(e):
    """The one line (without the `soothe: error: ` prefix) and the exit code for a failure."""
    if isinstance(e, CommandError):
        return str(e), EXIT_USAGE
    if isinstance(e, subprocess.TimeoutExpired):
        return ("%s did not finish within %d s: is the board answering? unplug and replug it"
                % (os.path.basename(str(e.cmd[0])), e.timeout)), EXIT_USAGE
    if isinstance(e, (StoreError, DeviceError)):
        return str(e), 1
    if isinstance(e, sqlite3.Error):
        return "the database cannot be read (%s): check --db, or move it aside and sync again" % e, 1
    if isinstance(e, OSError):
        where = " (%s)" % e.filename if getattr(e, "filename", None) else ""
        return "%s%s" % (e.strerror or e, where), 1
    # the last resort: one line, never a traceback
    return "unexpected %s: %s (please report this)" % (type(e).__name__, str(e)[:200]), 1


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args) or 0
    except BrokenPipeError:
        # `soothe export ... | head`: the reader has gone; stop quietly (Python docs, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("soothe: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - every failure is one line (see _one_line)
        message, code = _one_line(e)
        print("soothe: error: %s" % message, file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
