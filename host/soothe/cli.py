"""`soothe` command line: a table of commands, each a thin wrapper over the library.

Errors the user can fix print as one line `soothe: error: ...` with exit code 2.
"""
import argparse
import math
import sqlite3
import sys
import time
from pathlib import Path

from .device import Device, DeviceError, find_port, open_port
from .simulator import SimError, Simulator
from .store import Store, StoreError
from .sync import Progress, sync

EXIT_USAGE = 2


class CommandError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(EXIT_USAGE, "soothe: error: %s\n" % message)


def _parse_sim_common(p):
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
    p.add_argument("--device-id", help="device id the simulator reports")
    p.add_argument("--heapsize", help="MicroPython heap, e.g. 64k like an ESP32 without PSRAM")


def _make_sim(args):
    if args.ppg and not Path(args.ppg).is_file():
        raise CommandError("PPG file %s not found" % args.ppg)
    if not 25 <= args.rate <= 500:
        raise CommandError("--rate must be 25..500 Hz")
    if args.speed is not None and not (math.isfinite(args.speed) and args.speed > 0):
        raise CommandError("--speed must be above 0")
    from .fw import ppg_synth

    try:
        if args.duration:
            ppg_synth.parse_duration_ms(args.duration)
        if args.plan:
            ppg_synth.parse_plan(args.plan)
        for p in args.press:
            at, _, kind = p.partition(":")
            ppg_synth.parse_duration_ms(at)
            if kind not in ("short", "long"):
                raise ValueError("--press %s: use T:short or T:long" % p)
    except ValueError as e:
        raise CommandError(str(e)) from e
    return Simulator(args.flash, ppg=args.ppg, rate=args.rate, seed=args.seed, plan=args.plan,
                     speed=args.speed, duration=args.duration, trace=args.trace, presses=args.press,
                     device_id=args.device_id, heapsize=args.heapsize)


def do_sim(args):
    sim = _make_sim(args)
    try:
        port = sim.start()
    except SimError as e:
        raise CommandError(str(e)) from e
    print("port: %s" % port, flush=True)
    shown = 0
    try:
        while sim.alive():
            time.sleep(0.1)
            while shown < len(sim.stderr_lines):
                print(sim.stderr_lines[shown], flush=True)
                shown += 1
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    for line in sim.stderr_lines[shown:]:
        print(line, flush=True)
    if sim.proc.returncode in (0, -15, None):
        return 0
    why = [ln for ln in sim.stderr_lines if ln.strip()][-1:] or ["exit code %s" % sim.proc.returncode]
    print("soothe: error: the simulated device stopped: %s" % why[0].strip()[:200], file=sys.stderr)
    return 1


def _open_device(port):
    try:
        return Device(open_port(port or find_port()))
    except DeviceError as e:
        raise CommandError(str(e)) from e


def print_hello(hello, offset_ms=None):
    print("device %s, firmware %s, log seq %d..%d (acked %d)" % (
        hello["device_id"], hello["version"], hello["oldest_seq"], hello["newest_seq"], hello["acked_seq"]))
    if offset_ms is not None:
        print("device clock was %+.1f s off; set from this computer" % (offset_ms / 1000.0))


def do_sync(args):
    try:
        store = Store(args.db).lock()  # one sync per database; a second one says busy
    except StoreError as e:
        raise CommandError(str(e)) from e
    try:
        dev = _open_device(args.port)
    except CommandError:
        store.close()
        raise
    try:
        result = sync(dev, store, progress=Progress())
    except DeviceError as e:
        raise CommandError(str(e) + " - run sync again to resume") from e
    except KeyboardInterrupt:
        print("soothe: sync interrupted; what was stored is kept, run sync again to resume", file=sys.stderr)
        return 130
    finally:
        dev.close()
        store.close()
    print_hello(result.hello, result.clock_offset_ms)
    print(result.summary_line())
    return 0


def print_minutes(store, device_id, limit=10):
    rows = store.db.execute(
        "SELECT datetime(unix_s,'unixepoch'), state, quality_pct, hr_bpm, rmssd_ms, sdnn_ms, coherence, beats "
        "FROM minutes WHERE device_id=? ORDER BY unix_s", (device_id,)).fetchall()
    print("%-19s %-10s %4s %6s %7s %6s %5s %5s" % ("minute (UTC)", "state", "q%", "HR", "RMSSD", "SDNN", "coh", "beats"))
    step = max(1, len(rows) // limit)
    for r in rows[::step]:
        print("%-19s %-10s %4d %6.1f %7.1f %6.1f %5.2f %5d" % r)
    beats = store.db.execute("SELECT COUNT(*), SUM(flag=0) FROM beats WHERE device_id=?", (device_id,)).fetchone()
    print("%d minutes, %d beats (%d clean) stored for %s" % (len(rows), beats[0] or 0, beats[1] or 0, device_id))


def do_demo(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    flash = out / "flash.img"
    db = out / "soothe.db"
    for f in (flash, db):
        if f.exists():
            f.unlink()
    print("simulating %s of wearing on the simulated board (real firmware, MicroPython unix port)..." % args.duration)
    # A short press at 25 min: the wearer takes a 2 min breathing session, so the report has one.
    sim = Simulator(flash, seed=args.seed, duration=args.duration, trace=out / "trace.txt", presses=["1500s:short"])
    t0 = time.monotonic()
    with sim:
        print("port: %s" % sim.port, flush=True)
        try:
            sim.wait_stopped(timeout=600)
        except SimError as e:
            raise CommandError(str(e)) from e
        print("simulated %s in %.1f s" % (args.duration, time.monotonic() - t0))
        dev = Device(open_port(sim.port))
        store = Store(db)
        try:
            result = sync(dev, store, progress=Progress())
            print_hello(result.hello, result.clock_offset_ms)
            print(result.summary_line())
            print_minutes(store, result.hello["device_id"])
            from .query import resolve
            from .report import build_report

            index = build_report(store.db, resolve(store.db), out / "report")
        finally:
            dev.close()
            store.close()
    print("database: %s" % db)
    print("report: %s" % index)
    return 0


def _open_store(path):
    from .store import default_db_path

    p = Path(path) if path else default_db_path()
    if not p.exists():
        raise CommandError("no database at %s: run `soothe sync` first (or pass --db)" % p)
    try:
        return Store(p)
    except StoreError as e:
        raise CommandError(str(e)) from e


class _StoreFor:
    """`with _StoreFor(args) as (store, r):` the store and the range the options name."""

    def __init__(self, args, default="all"):
        self.args = args
        self.default = default

    def __enter__(self):
        self.store = _open_store(self.args.db)
        try:
            return self.store, _range(self.store, self.args, self.default)
        except CommandError:
            self.store.close()
            raise

    def __exit__(self, *exc):
        self.store.close()


def _range(store, args, default="all"):
    from .query import QueryError, resolve

    try:
        return resolve(store.db, args.device, getattr(args, "day", None), args.from_, args.to, default=default)
    except QueryError as e:
        raise CommandError(str(e)) from e


def do_sessions(args):
    from .export import print_sessions

    with _StoreFor(args) as (store, r):
        print_sessions(store.db, r, sys.stdout)
    return 0


def do_export(args):
    from .export import export

    with _StoreFor(args) as (store, r):

        def warn(msg):
            print("soothe: warning: %s" % msg, file=sys.stderr)

        if args.out:
            from .store import open_private

            out_path = Path(args.out)
            try:
                f = open_private(out_path, newline="")
            except OSError as e:
                raise CommandError("cannot write --out %s: %s" % (out_path, e.strerror or e)) from e
            with f:
                n = export(store.db, r, args.format, f, table=args.table, warn=warn)
            print("wrote %d %s row(s) for %s (%s) to %s" % (n, args.format, r.device_id, r.label, out_path),
                  file=sys.stderr)
        else:
            n = export(store.db, r, args.format, sys.stdout, table=args.table, warn=warn)
        if n == 0:
            warn("nothing stored for %s in %s" % (r.device_id, r.label))
    return 0


def do_monitor(args):
    from .monitor import monitor

    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        raise CommandError("--seconds must be above 0")
    dev = _open_device(args.port)
    try:
        n = monitor(dev, sys.stdout, seconds=args.seconds, in_place=sys.stdout.isatty())
    except DeviceError as e:
        raise CommandError(str(e)) from e
    finally:
        dev.close()
    if n == 0:
        print("soothe: no live updates: is the sensor on the skin?", file=sys.stderr)
    return 0


def do_config(args):
    from .fw import settings as fw_settings

    keys = sorted(fw_settings.SCHEMA)
    if args.key is not None and args.key not in fw_settings.SCHEMA:
        raise CommandError("unknown setting %r (known: %s)" % (args.key, ", ".join(keys)))
    if args.action == "set":
        if args.key is None or args.value is None:
            raise CommandError("config set needs KEY VALUE, e.g. soothe config set led_brightness_pct 10")
        try:  # the firmware's own validation, before the device is asked
            fw_settings.Settings().set(args.key, args.value)
        except fw_settings.ConfigError as e:
            raise CommandError("%s; the device keeps its previous value" % e) from e
    elif args.value is not None:
        raise CommandError("config get takes one KEY (or none to list all)")
    dev = _open_device(args.port)
    try:
        if args.action == "set":
            k, v = dev.config(args.key, args.value)
            print("%s = %s (saved on the device)" % (k, v))
        else:
            for key in [args.key] if args.key else keys:
                k, v = dev.config(key)
                print("%s = %s" % (k, v))
    except DeviceError as e:
        raise CommandError(str(e)) from e
    finally:
        dev.close()
    return 0


def do_finder(args):
    dev = _open_device(args.port)
    try:
        accepted, running = dev.session(0 if args.abort else 2)
    except DeviceError as e:
        raise CommandError(str(e)) from e
    finally:
        dev.close()
    if args.abort:
        print("finder stopped" if accepted and running == 3 else
              ("stopped a breathing session" if accepted else "nothing was running"))
    elif accepted:
        print("resonance finder started: follow the pacer for about 10 min; the best rate becomes your default")
    else:
        print("the device is already running a session (kind %d); stop it first with `soothe finder --abort`"
              % running)
        return 1
    return 0


def _report_progress():
    if not sys.stderr.isatty():
        return None
    from rich.progress import Progress as RichProgress

    bar = RichProgress(transient=True)
    task = bar.add_task("analysing days", total=None)
    bar.start()

    def update(done, total):
        bar.update(task, completed=done, total=total)
        if done >= total:
            bar.stop()

    return update


def do_report(args):
    from .report import ReportError, build_report

    with _StoreFor(args) as (store, r):
        try:
            index = build_report(store.db, r, args.out, progress=_report_progress())
        except ReportError as e:
            raise CommandError(str(e)) from e
    print("report: %s" % index)
    return 0


def do_summary(args):
    from rich.console import Console

    from .report import ReportError, print_summary

    with _StoreFor(args, default="last") as (store, r):
        try:
            print_summary(store.db, r, Console(width=160))
        except ReportError as e:
            raise CommandError(str(e)) from e
    return 0


def _release_repl(port):
    """Asks a running Soothe app to hand the REPL back (restores Ctrl-C); harmless otherwise."""
    from .fw import wire

    try:
        dev = Device(open_port(port), timeout=0.5, retries=0)
    except DeviceError:
        return
    try:
        dev.exchange(wire.REPL)
    except (DeviceError, OSError):
        pass
    finally:
        dev.close()


def _repl_port(args):
    """The board's port (given or found), with a running Soothe app asked to free the REPL."""
    try:
        port = args.port or find_port()
    except DeviceError as e:
        raise CommandError(str(e)) from e
    _release_repl(port)
    return port


def do_deploy(args):
    from .deploy import BOARDS, DeployError, Deployer, board_txt

    if args.board not in BOARDS:
        raise CommandError("--board %s: use one of %s" % (args.board, ", ".join(BOARDS)))
    try:
        board_txt(args.board, args.sensor, args.led, args.motor, args.cpu_mhz, args.sleep)  # bad options: no board
    except DeployError as e:
        raise CommandError(str(e)) from e
    port = _repl_port(args)
    try:
        Deployer(port).deploy(args.board, args.sensor, args.led, args.motor, cpu_mhz=args.cpu_mhz, sleep=args.sleep,
                              accel=args.accel)
    except (DeployError, FileNotFoundError) as e:
        raise CommandError(str(e)) from e
    return 0


def do_doctor(args):
    from .deploy import DeployError, Deployer, doctor_report

    port = _repl_port(args)
    try:
        res = Deployer(port).doctor()
    except (DeployError, FileNotFoundError) as e:
        raise CommandError(str(e)) from e
    lines, problems = doctor_report(res)
    for line in lines:
        print(line)
    return 1 if problems else 0


def do_soak(args):
    from .soak import SoakError, format_soak, run_soak

    if not math.isfinite(args.days) or args.days <= 0:
        raise CommandError("--days %s: give a number of days above 0, e.g. --days 7" % args.days)
    try:
        r = run_soak(args.days, heapsize=args.heapsize)
    except SoakError as e:
        raise CommandError(str(e)) from e
    print(format_soak(r))
    return 0 if r["ok"] else 1


def _add_range(p, day=True):
    p.add_argument("--db", help="SQLite database (default: ~/.local/share/soothe/soothe.db)")
    p.add_argument("--device", help="device id (default: the one synced last)")
    if day:
        p.add_argument("--day", metavar="DATE", help="one local day, e.g. 2026-01-05")
    p.add_argument("--from", dest="from_", metavar="DATE", help="first local day (inclusive)")
    p.add_argument("--to", metavar="DATE", help="last local day (inclusive)")


def do_replay(args):
    import json

    from .replay import ReplayError, format_text, run_replay

    try:
        result = run_replay(args.file, args.rate, args.column, adc_bits=args.adc_bits)
    except ReplayError as e:
        raise CommandError(str(e)) from e
    if args.json:
        json.dump(result, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        format_text(result, sys.stdout)
    return 0


def do_bench(args):
    try:
        from . import bench
    except ImportError as e:
        raise CommandError("bench needs the bench extra (%s): run `make bench`" % e) from e
    sections = args.only.split(",") if args.only else list(bench.SECTIONS)
    unknown = [s for s in sections if s not in bench.SECTIONS]
    if unknown:
        raise CommandError("--only %s: choose from %s" % (",".join(unknown), ",".join(bench.SECTIONS)))
    bench.run(sections, quick=args.quick)
    return 0


def build_parser():
    parser = Parser(prog="soothe", description="Soothe: compassion-focused HRV biofeedback wearable, host tool.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("sim", help="run the real firmware on the simulated board; prints `port: /dev/pts/N`")
    _parse_sim_common(p)
    p.set_defaults(func=do_sim)

    p = sub.add_parser("sync", help="sync the device's log to the local database and set its clock")
    p.add_argument("--port", help="serial port (default: auto-detect an ESP32 by USB VID:PID)")
    p.add_argument("--db", help="SQLite database (default: ~/.local/share/soothe/soothe.db)")
    p.set_defaults(func=do_sync)

    p = sub.add_parser("replay", help="run a PPG recording (CSV) through the firmware's beat and HRV engine")
    p.add_argument("file", metavar="FILE", help="CSV: one sample per row, or columns with a header row")
    p.add_argument("--rate", type=int, required=True, metavar="HZ", help="sample rate of the recording, 25..500")
    p.add_argument("--column", metavar="NAME", help="column to read (header name, or 0-based index without a header)")
    p.add_argument("--adc-bits", type=int, default=0, metavar="N",
                   help="the sensor's range in bits, 8..24 (default: inferred from the data)")
    p.add_argument("--json", action="store_true", help="one JSON object: beats, windows, summary (see README)")
    p.set_defaults(func=do_replay)

    p = sub.add_parser("bench", help="print accuracy, cost, log and wire figures against the targets")
    p.add_argument("--only", metavar="SECTIONS", help="comma-separated sections to run (default: all)")
    p.add_argument("--quick", action="store_true", help="fewer cases and shorter runs")
    p.set_defaults(func=do_bench)

    p = sub.add_parser("sessions", help="list the synced days and breathing sessions")
    _add_range(p)
    p.set_defaults(func=do_sessions)

    from .export import FORMATS, TABLES

    p = sub.add_parser("export", help="export RR intervals and summaries (csv, json, or Kubios RR text)")
    p.add_argument("--format", required=True, choices=FORMATS, help="kubios: one RR (ms) per line")
    p.add_argument("--table", choices=TABLES, default="beats", help="csv only: beats (default), minutes or sessions")
    p.add_argument("--out", metavar="FILE", help="write here (created 0600) instead of stdout")
    _add_range(p, day=False)
    p.set_defaults(func=do_export)

    p = sub.add_parser("report", help="write an HTML report with PNG plots for a day or a range")
    _add_range(p)
    p.add_argument("--out", default="soothe-report", metavar="DIR", help="folder for index.html and plots")
    p.set_defaults(func=do_report)

    p = sub.add_parser("summary", help="key figures per day as a terminal table (default: the last day)")
    _add_range(p)
    p.set_defaults(func=do_summary)

    p = sub.add_parser("monitor", help="live HR, RMSSD, state and pacer phase from the device")
    p.add_argument("--port", help="serial port (default: auto-detect)")
    p.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    p.set_defaults(func=do_monitor)

    p = sub.add_parser("config", help="read or change the device's settings (validated before sending)")
    p.add_argument("action", choices=("get", "set"))
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE")
    p.add_argument("--port", help="serial port (default: auto-detect)")
    p.set_defaults(func=do_config)

    p = sub.add_parser("finder", help="start (or --abort) the resonance-breathing finder on the device")
    p.add_argument("--abort", action="store_true", help="stop the finder or a breathing session")
    p.add_argument("--port", help="serial port (default: auto-detect)")
    p.set_defaults(func=do_finder)

    p = sub.add_parser("deploy", help="compile the firmware with mpy-cross and copy it with mpremote (keeps /data)")
    p.add_argument("--port", help="serial port (default: auto-detect)")
    p.add_argument("--board", default="esp32-devkitc", help="esp32-devkitc (default) or xiao-esp32s3")
    p.add_argument("--sensor", default="analog", choices=("analog", "max30102"))
    p.add_argument("--led", default="pwm-cathode", choices=("pwm-cathode", "pwm-anode", "ws2812"))
    p.add_argument("--motor", default="pwm", choices=("pwm", "drv2605", "drv2605-lra"))
    p.add_argument("--cpu-mhz", type=int, default=160, choices=(80, 160, 240), help="CPU clock (default 160)")
    p.add_argument("--sleep", choices=("light", "none"),
                   help="light sleep between MAX30102 bursts (default: light with max30102, else none)")
    p.add_argument("--accel", choices=("auto", "lis2dh12", "none"),
                   help="LIS2DH12 wrist accelerometer on the I2C bus (default auto: used when it answers)")
    p.set_defaults(func=do_deploy)

    p = sub.add_parser("doctor", help="check a connected board: MicroPython, flash, RAM, sensor, LED and motor")
    p.add_argument("--port", help="serial port (default: auto-detect)")
    p.set_defaults(func=do_doctor)

    p = sub.add_parser("soak", help="days of wearing on the simulated board from the .mpy image on a small heap")
    p.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    p.add_argument("--heapsize", default="200k", help="MicroPython heap (default 200k, see soak.py)")
    p.set_defaults(func=do_soak)

    p = sub.add_parser("demo", help="simulate a stretch of wearing, sync it and print what arrived")
    p.add_argument("--duration", default="60m", help="how much wearing to simulate (default 60m)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="out/demo", help="folder for the flash image and database")
    p.set_defaults(func=do_demo)

    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args) or 0
    except CommandError as e:
        print("soothe: error: %s" % e, file=sys.stderr)
        return EXIT_USAGE
    except (StoreError, DeviceError) as e:
        print("soothe: error: %s" % e, file=sys.stderr)
        return 1
    except sqlite3.Error as e:
        print("soothe: error: the database cannot be read (%s): check --db, or move it aside and sync again"
              % e, file=sys.stderr)
        return 1
    except OSError as e:
        where = " (%s)" % e.filename if getattr(e, "filename", None) else ""
        print("soothe: error: %s%s" % (e.strerror or e, where), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("soothe: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the last resort: one line, never a traceback
        print("soothe: error: unexpected %s: %s (please report this)" % (type(e).__name__, str(e)[:200]),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
