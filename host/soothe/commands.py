"""The `soothe` commands' handlers: `do_x(args)` gets the parsed options, calls the library
and returns the exit code (cli.py holds the table that maps each name to its handler and its
argparse builder).  Input the user can fix raises CommandError("what to fix"); cli.main prints
it as one line `soothe: error: ...` and exits 2.  No SQL here: rows come from store/query.

Shared by every command module (this one, marks.py, ...): CommandError, open_device(port),
open_store(db), StoreFor(args) (the store and the --device/--day/--from/--to range), and
report_progress() (a transient bar on a terminal).
"""
import importlib.util
import math
import os
import sys
import time
from pathlib import Path

from .device import Device, DeviceError, find_port, open_port
from .simulator import SimError, Simulator
from .store import Store, StoreError
from .sync import Progress, sync
from soothe_fw.log import records


class CommandError(Exception):
    """Bad input or a state the user can fix: printed as one line, exit code 2."""


def _make_sim(args, progress=False):
    if args.ppg and not Path(args.ppg).is_file():
        raise CommandError("PPG file %s not found" % args.ppg)
    if not 25 <= args.rate <= 500:
        raise CommandError("--rate must be 25..500 Hz")
    if args.speed is not None and not (math.isfinite(args.speed) and args.speed > 0):
        raise CommandError("--speed must be above 0")
    from soothe_sim import ppg_synth

    try:
        if args.duration:
            ppg_synth.parse_duration_ms(args.duration)
        if args.plan:
            ppg_synth.parse_plan(args.plan)
        for p in args.press:
            at, _, kind = p.partition(":")
            ppg_synth.parse_duration_ms(at)
            if kind not in ("short", "long", "double", "mark") and not (
                    kind[:4] == "pick" and kind[4:].isdigit() and 0 < int(kind[4:]) <= 9):
                raise ValueError("--press %s: use T:short, T:long, T:double (a mark) or T:pickN (start a practice, "
                                 "pick the N-th)" % p)
    except ValueError as e:
        raise CommandError(str(e)) from e
    start = parse_start(args.start) if args.start else int(time.time())
    if args.device_id is not None and not (1 <= len(args.device_id) <= 32 and args.device_id.isprintable()
                                           and " " not in args.device_id):
        raise CommandError("--device-id %r: use 1..32 printable characters without spaces" % args.device_id)
    return Simulator(args.flash, ppg=args.ppg, rate=args.rate, seed=args.seed, plan=args.plan,
                     speed=args.speed, duration=args.duration, trace=args.trace, presses=args.press,
                     device_id=args.device_id, heapsize=args.heapsize, start=start, progress=progress)


def parse_start(text):
    """'2026-01-05' (local midnight), '2026-01-05T08:30' or '2026-01-05 08:30' -> unix seconds."""
    import datetime as dt

    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError("--start %r: use a local date and time like 2026-01-05T08:30" % text) from None
    if when.tzinfo is not None:
        return int(when.timestamp())
    return int(time.mktime(when.timetuple()))


def parse_duration_s(text):
    from soothe_sim import ppg_synth

    try:
        return ppg_synth.parse_duration_ms(text) / 1000.0
    except ValueError as e:
        raise CommandError(str(e)) from e


def do_sim(args):
    show_progress = bool(args.duration) and sys.stderr.isatty()  # how far the virtual clock got
    sim = _make_sim(args, progress=show_progress)
    bar = None
    if show_progress:
        from rich.progress import BarColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

        total_s = parse_duration_s(args.duration)
        bar = RichProgress(TextColumn("simulating"), BarColumn(), TextColumn("{task.fields[at]}"),
                           TimeElapsedColumn(), transient=True)
        task = bar.add_task("sim", total=total_s, at="")
    try:
        port = sim.start()
    except SimError as e:
        raise CommandError(str(e)) from e
    print("port: %s" % port, flush=True)
    shown = 0
    interrupted = False
    if bar:
        bar.start()
    try:
        while sim.alive():
            time.sleep(0.1)
            while shown < len(sim.stderr_lines):
                line = sim.stderr_lines[shown]
                shown += 1
                if line.startswith("sim: interrupted"):
                    continue  # the process group's Ctrl-C reached the firmware as well
                if bar and line.startswith("sim: at t="):
                    t = int(line.split("=")[1].split()[0])
                    bar.update(task, completed=t, at="%d h %02d min" % (t // 3600, t // 60 % 60))
                    continue
                if bar and line.startswith("sim: stopped"):
                    bar.stop()
                    bar = None
                print(line, flush=True)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar:
            bar.stop()
        sim.stop()
    for line in sim.stderr_lines[shown:]:
        if not line.startswith(("sim: at t=", "sim: interrupted")) and not (interrupted and not line.strip()):
            print(line, flush=True)
    if interrupted:
        print("soothe: simulator stopped (Ctrl-C); the flash image %s keeps what was logged" % args.flash,
              file=sys.stderr)
        return 130
    if sim.proc.returncode in (0, -15, None):
        return 0
    why = [ln for ln in sim.stderr_lines if ln.strip()][-1:] or ["exit code %s" % sim.proc.returncode]
    print("soothe: error: the simulated device stopped: %s" % why[0].strip()[:200], file=sys.stderr)
    return 1


def check_port(port):
    """A named port that does not exist gets its own hint (not mpremote's 'in use by another program')."""
    if port and "://" not in port and not os.path.exists(port):
        raise CommandError("cannot open %s: no such serial port; is the board plugged in with a data cable? "
                           "(without --port soothe looks for it by USB id)" % port)


def open_device(port):
    check_port(port)
    try:
        return Device(open_port(port or find_port()))
    except DeviceError as e:
        raise CommandError(str(e)) from e


def clock_words(offset_ms):
    """'device clock set; it was 322 days behind' (offset = device minus this computer)."""
    s = abs(offset_ms) / 1000.0
    if s < 2:
        return "device clock set; it was already right (within 2 s)"
    if s < 120:
        amount = "%d s" % round(s)
    elif s < 7200:
        amount = "%d min" % round(s / 60)
    elif s < 2 * 86400:
        amount = "%.1f h" % (s / 3600)
    else:
        amount = "%d days" % round(s / 86400)
    return "device clock set; it was %s %s" % (amount, "behind" if offset_ms < 0 else "ahead")


def print_hello(hello, offset_ms=None):
    print("device %s, firmware %s, log seq %d..%d (acked %d)" % (
        hello["device_id"], hello["version"], hello["oldest_seq"], hello["newest_seq"], hello["acked_seq"]))
    if offset_ms is not None:
        print(clock_words(offset_ms))


def do_sync(args):
    try:
        store = Store(args.db).lock()  # one sync per database; a second one says busy
    except StoreError as e:
        raise CommandError(str(e)) from e
    try:
        dev = open_device(args.port)
    except CommandError:
        store.close()
        raise
    try:
        result = sync(dev, store, progress=Progress())
    except DeviceError as e:
        if dev.bytes_in == 0:  # nothing ever came back: resuming is not the fix
            raise CommandError("%s: no answer from the device on this port; is it running the Soothe firmware? "
                               "(`soothe doctor` checks the board, `soothe deploy` installs it)" % e) from e
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
    """A sample of stored minutes, local time with the zone named, within 80 columns."""
    from .query import all_minutes, beat_counts, local_time, zone_label

    rows = all_minutes(store.db, device_id)
    print("minutes, local time (%s):" % (zone_label(rows[0][0]) if rows else zone_label()))
    print("%-16s %-12s %5s %7s %8s %7s %5s %5s" % ("minute", "state", "good%", "HR bpm", "RMSSD ms", "SDNN ms",
                                                  "coh", "beats"))

    def num(v, fmt):
        return fmt % v if v is not None else "-"

    step = max(1, len(rows) // limit)
    for r in rows[::step]:
        # A minute with no reading carries no HR or HRV (the device logs zeros there): "-".
        fig = list(r[3:7]) if r[1] != "no-reading" else [None] * 4
        print("%-16s %-12s %5s %7s %8s %7s %5s %5s" % (
            local_time(r[0], "%Y-%m-%d %H:%M"), r[1][:12], num(r[2], "%d"), num(fig[0], "%.1f"), num(fig[1], "%.1f"),
            num(fig[2], "%.1f"), num(fig[3], "%.2f"), num(r[7], "%d")))
    n_beats, n_clean = beat_counts(store.db, device_id)
    print("%d minutes, %d beats (%d clean) stored for %s" % (len(rows), n_beats, n_clean, device_id))


def do_demo(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    flash = out / "flash.img"
    db = out / "soothe.db"
    for f in (flash, db):
        if f.exists():
            f.unlink()
    print("simulating %s of wearing (the real firmware on the MicroPython unix port)..." % args.duration)
    # A double press at 10 min marks a moment (its offer is let pass), and a short press at
    # 25 min starts a 2 min breathing session, so the report has one of each.
    # The wearing ends now, so the report shows today in local time.
    start = int(time.time() - parse_duration_s(args.duration))
    sim = Simulator(flash, seed=args.seed, duration=args.duration, trace=out / "trace.txt", presses=["600s:double", "1500s:short"],
                    start=start)
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
    print("database: %s" % _short_path(db))
    print("report: %s" % _short_path(index))
    return 0


def _short_path(p):
    """Relative to the working folder when inside it, so demo lines stay within 80 columns."""
    p = Path(p).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def open_store(path):
    from .store import default_db_path

    p = Path(path) if path else default_db_path()
    if not p.exists():
        raise CommandError("no database at %s: run `soothe sync` first (or pass --db)" % p)
    try:
        return Store(p)
    except StoreError as e:
        raise CommandError(str(e)) from e


class StoreFor:
    """`with StoreFor(args) as (store, r):` the store and the range the options name."""

    def __init__(self, args, default="all"):
        self.args = args
        self.default = default

    def __enter__(self):
        self.store = open_store(self.args.db)
        try:
            return self.store, store_range(self.store, self.args, self.default)
        except CommandError:
            self.store.close()
            raise

    def __exit__(self, *exc):
        self.store.close()


def store_range(store, args, default="all"):
    from .query import QueryError, resolve

    try:
        return resolve(store.db, args.device, getattr(args, "day", None), args.from_, args.to, default=default)
    except QueryError as e:
        raise CommandError(str(e)) from e


def do_sessions(args):
    from .export import print_sessions

    with StoreFor(args) as (store, r):
        print_sessions(store.db, r, sys.stdout)
    return 0


def do_export(args):
    from .export import export

    from .export import tables_for

    try:
        tables_for(args.format, args.table)
    except ValueError as e:
        raise CommandError(str(e)) from e
    with StoreFor(args) as (store, r):

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
        if n == 0:  # like report and summary: an empty range is an error, not an empty success
            raise CommandError("nothing stored for %s in %s: pick a range with data (`soothe sessions` lists days)"
                               % (r.device_id, r.label))
    return 0


def do_monitor(args):
    from .monitor import monitor

    if args.seconds is not None and not (math.isfinite(args.seconds) and args.seconds > 0):
        raise CommandError("--seconds must be above 0")
    dev = open_device(args.port)
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
    from . import settings_text
    from soothe_fw.log import settings as fw_settings

    keys = sorted(fw_settings.SCHEMA)
    name = args.key
    key = settings_text.resolve_key(name) if name is not None else None
    if name is not None and key is None:
        raise CommandError("unknown setting %r (known: %s)" % (name, ", ".join(
            sorted(settings_text.natural(k) for k in keys))))
    raw = None
    if args.action == "set":
        if key is None or args.value is None:
            raise CommandError("config set needs KEY VALUE, e.g. soothe config set pacer_rate 5.5")
        try:  # the firmware's own validation, before the device is asked
            raw = settings_text.to_raw(key, name, args.value)
            fw_settings.Settings().set(key, raw)
        except fw_settings.ConfigError as e:
            raise CommandError("%s; the device keeps its previous value" % e) from e
    elif args.value is not None:
        raise CommandError("config get takes one KEY (or none to list all)")
    dev = open_device(args.port)
    try:
        if args.action == "set":
            k, v = dev.config(key, raw)
            print("%s (saved on the device)" % settings_text.show(k, v))
        else:
            for k in [key] if key else keys:
                k, v = dev.config(k)
                print(settings_text.show(k, v))
    except DeviceError as e:
        raise CommandError(str(e)) from e
    finally:
        dev.close()
    return 0


def do_finder(args):
    dev = open_device(args.port)
    try:
        accepted, running = dev.session(0 if args.abort else 2)
    except DeviceError as e:
        raise CommandError(str(e)) from e
    finally:
        dev.close()
    # The reply's running byte is the session's kind (records.SESSION_KINDS) + 1, 0 for none.
    kind = records.SESSION_KINDS[running - 1] if 0 < running <= len(records.SESSION_KINDS) else "unknown"
    if args.abort:
        print("finder stopped" if accepted and kind == "finder" else
              ("stopped a session (%s)" % kind if accepted else "nothing was running"))
    elif accepted:
        print("resonance finder started: follow the pacer for about 10 min; the best rate becomes your default")
    else:
        print("the device is already running a session (%s); stop it first with `soothe finder --abort`" % kind)
        return 1
    return 0


def report_progress(label="analysing days"):
    """A transient progress bar on a terminal (None otherwise): returns update(done, total)."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress as RichProgress

    bar = RichProgress(transient=True, console=Console(stderr=True))
    task = bar.add_task(label, total=None)
    bar.start()

    def update(done, total):
        bar.update(task, completed=done, total=total)
        if done >= total:
            bar.stop()

    return update


def do_report(args):
    from .report import ReportError, build_report

    with StoreFor(args) as (store, r):
        try:
            index = build_report(store.db, r, args.out, progress=report_progress())
        except ReportError as e:
            raise CommandError(str(e)) from e
    print("report: %s" % index)
    return 0


def do_summary(args):
    from rich.console import Console

    from .report import ReportError, print_summary

    with StoreFor(args, default="last") as (store, r):
        try:
            print_summary(store.db, r, Console(highlight=False))  # the terminal's width (80 when piped)
        except ReportError as e:
            raise CommandError(str(e)) from e
    return 0


def _release_repl(port):
    """Asks a running Soothe app to hand the REPL back (restores Ctrl-C); harmless otherwise."""
    from soothe_fw.link import wire

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
    check_port(args.port)
    try:
        port = args.port or find_port()
    except DeviceError as e:
        raise CommandError(str(e)) from e
    _release_repl(port)
    if not _answers(port):
        raise CommandError("%s does not answer: is it a board running MicroPython? unplug and replug it, or try "
                           "another port" % port)
    return port


def _answers(port, seconds=3.0):
    """True when anything comes back after Ctrl-C and Enter (a MicroPython REPL prints a prompt)."""
    if "://" in port:
        return True
    try:
        ser = open_port(port)
    except DeviceError:
        return True  # let mpremote report why it cannot open the port
    try:
        ser.write(b"\r\x03\r")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if ser.read(64):
                return True
        return False
    except OSError:
        return True
    finally:
        ser.close()


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
    print("checking the board on %s with mpremote (up to a minute)..." % port, file=sys.stderr, flush=True)
    try:
        res = Deployer(port).doctor()
    except (DeployError, FileNotFoundError) as e:
        raise CommandError(str(e)) from e
    lines, problems = doctor_report(res)
    for line in lines:
        print(line)
    return 1 if problems else 0


def dev_tool(name):
    """A developer tool from tools/soothe_tools (bench, soak): installed into a source
    checkout's venv by `make setup`, never shipped in the soothe wheel."""
    import importlib

    try:
        return importlib.import_module("soothe_tools." + name)
    except ImportError as e:
        if not (e.name or "").startswith("soothe_tools"):
            raise
        raise CommandError("`soothe %s` is a developer tool (tools/soothe_tools): run `make setup` in a source "
                           "checkout of Soothe, then `make %s`" % (name, name)) from e


def do_soak(args):
    if not math.isfinite(args.days) or args.days <= 0:
        raise CommandError("--days %s: give a number of days above 0, e.g. --days 7" % args.days)
    soak = dev_tool("soak")
    SoakError, format_soak, run_soak = soak.SoakError, soak.format_soak, soak.run_soak
    try:
        r = run_soak(args.days, heapsize=args.heapsize, progress=report_progress("simulated seconds"))
    except SoakError as e:
        raise CommandError(str(e)) from e
    print(format_soak(r))
    return 0 if r["ok"] else 1


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
        bench = dev_tool("bench")
    except ImportError as e:
        raise CommandError("bench needs the bench extra (%s): run `make bench`" % e) from e
    sections = args.only.split(",") if args.only else list(bench.SECTIONS)
    unknown = [s for s in sections if s not in bench.SECTIONS]
    if unknown:
        raise CommandError("--only %s: choose from %s" % (",".join(unknown), ",".join(bench.SECTIONS)))
    missing = [m for m in ("heartpy", "neurokit2", "scipy") if importlib.util.find_spec(m) is None]
    if missing and "accuracy" in sections:  # the peer detectors; the other sections run without them  # checked up front: the peers are imported deep inside the accuracy section
        raise CommandError("bench needs the bench extra (missing: %s): run `make bench`, or "
                           "`pip install -e '.[bench]'`" % ", ".join(missing))
    if not sys.stderr.isatty():
        bench.run(sections, quick=args.quick)
        return 0
    from rich.console import Console

    # A spinner naming the running section; the figures print above it as they come.
    with Console(stderr=True).status("") as status:
        for i, name in enumerate(sections):
            status.update("bench: %s (%d of %d)..." % (name, i + 1, len(sections)))
            bench.run([name], quick=args.quick, out=sys.stdout)
    return 0
