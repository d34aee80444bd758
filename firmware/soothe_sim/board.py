"""Simulated board for the MicroPython unix port: the real firmware, fake hardware.

- pulse sensor: a CSV recording or the synthetic generator (ppg_synth) with known beats;
- accelerometer: the generator's movement as a 25 Hz FIFO (none with a recording or --no-accel);
- LED and motor: every command is written with its virtual time to a trace file;
- button: presses scheduled in virtual time (--press 600s:short, long, double, pick2);
- clock: virtual; asyncio's own ticks are redirected, so `asyncio.sleep_ms`
  in the firmware sleeps in virtual time, as fast as possible or at --speed X;
- flash: a littlefs2 image in a file (vfs.VfsLfs2 over FileBlockDevice);
- serial: stdin/stdout, which `soothe sim` connects to a pseudo-terminal.

Arguments: [--ppg FILE --rate HZ | --synthetic --seed N --plan P] [--flash IMG]
               [--speed X | --fast] [--duration D] [--trace FILE] [--press T:short|long|double|pickN]
               [--plan-file FILE] [--device-id ID] [--start UNIX_S] [--cut-after-writes N] [--no-accel]
               [--loop-source SECONDS]  (the generator run once, then looped: see loopsource.py)
"""
import gc
import sys
import os
import asyncio

from soothe_sim import ppg_synth
from soothe_sim import motion_synth  # noqa: F401  (the accelerometer's movement model: loaded first, while the heap is young)
from soothe_fw.clock import Clock
from soothe_fw.link.serial import StdioSerial
from soothe_fw.compat import ticks_add, ticks_diff

BLOCK_SIZE = 4096


class PowerCut(BaseException):
    """Raised when the simulated supply dies (--cut-after-writes)."""


class VirtualTime:
    """Virtual milliseconds that drive asyncio's scheduler (patched into asyncio.core)."""

    def __init__(self, speed=0.0, stop_ms=-1):
        self.now = 0  # asyncio's ticks (wrapping as the port's ticks do)
        self.start = 0
        self.el = 0  # virtual ms since install (never wraps)
        self.speed = speed
        self.stop_ms = stop_ms
        self.stopped = False
        self.reports = []  # callables returning a line printed when the clock stops
        self._on_stop = []
        self.progress_ms = 0  # --progress: a `sim: at t=N s` line every this many virtual ms
        self._next_progress = 0

    def ticks_ms(self):
        return self.now

    def on_stop(self, fn):
        self._on_stop.append(fn)

    def elapsed_ms(self):
        return self.el

    def install(self):
        import asyncio.core as core  # type: ignore[import-not-found]  # MicroPython-only module
        import time

        # The C task queue stamps the tasks it wakes (create_task, events, I/O) with
        # the real ticks.  Virtual time starts 2**40 ms (35 years) ahead of real time,
        # so such tasks are always due at once and never move the virtual clock.  On a
        # 32-bit port ticks wrap at 2**30 and differences are +-2**29 ms (6.2 days): there
        # it starts 2**20 ms (17 min) ahead, which holds for ~6 virtual days.
        ahead = (1 << 40) if sys.maxsize > (1 << 32) else (1 << 20)
        self.now = self.start = ticks_add(time.ticks_ms(), ahead)  # type: ignore[attr-defined,assignment]
        core.ticks = self.ticks_ms
        io = core._io_queue
        real_wait = io.wait_io_event
        vt = self

        def wait_io_event(dt):
            if dt <= 0:
                real_wait(dt)
                return
            if vt.stopped:
                real_wait(-1)  # the clock has stopped: only the serial port is alive
                return
            if vt.progress_ms and vt.el >= vt._next_progress:
                sys.stderr.write("sim: at t=%d s\n" % (vt._next_progress // 1000))
                vt._next_progress += vt.progress_ms
            head = core._task_queue.peek()
            ahead = ticks_diff(head.ph_key, vt.now) if head is not None else dt
            if vt.stop_ms >= 0 and vt.el + ahead > vt.stop_ms:
                vt.stopped = True
                for fn in vt._on_stop:
                    fn()
                el = vt.elapsed_ms()
                sys.stderr.write("sim: stopped at t=%d.%03d s\n" % (el // 1000, el % 1000))
                for line in vt.reports:
                    sys.stderr.write(line() + "\n")
                real_wait(-1)
                return
            if vt.speed <= 0:
                real_wait(0)
                head = core._task_queue.peek()
                if head is not None and ticks_diff(head.ph_key, vt.now) > 0:
                    vt.el += ticks_diff(head.ph_key, vt.now)
                    vt.now = head.ph_key  # nothing else to do before then: jump
                return
            # --speed X: serial input may end the wait early; the clock moves only by
            # the real time that passed (times X), never straight to the next task.
            t0 = time.ticks_ms()
            real_wait(int(dt / vt.speed))
            step = int(time.ticks_diff(time.ticks_ms(), t0) * vt.speed)
            if step > dt:
                step = dt
            if step > 0:
                vt.now = ticks_add(vt.now, step)  # type: ignore[type-var]
                vt.el += step

        io.wait_io_event = wait_io_event


class FileBlockDevice:
    """Block device over an image file; counts programs and erases (flash wear).

    Power cut (`cut_after_writes`): the supply dies at that program (or, with
    cut_erases, at that program-or-erase).  The torn program lands half its bytes, or
    with tear_seed >= 0 a pseudo-random number of them; a torn erase sets a
    pseudo-random prefix of the block to 0xFF and leaves the rest as it was."""

    def __init__(self, path, blocks=512, cut_after_writes=-1, tear_seed=-1, cut_erases=False):
        self.path = path
        self.blocks = blocks
        self.writes = 0
        self.erases = 0
        self.ops = 0  # programs, plus erases when cut_erases: the index a cut counts in
        self.cut_after = cut_after_writes
        self.tear_seed = tear_seed
        self.cut_erases = cut_erases
        self.dead = False
        self.new = False
        try:
            size = os.stat(path)[6]
        except OSError:
            size = 0
        if size == 0:  # missing, or created empty (0600) by `soothe sim`
            self.new = True
            with open(path, "wb") as f:
                chunk = b"\xff" * BLOCK_SIZE
                for _ in range(blocks):
                    f.write(chunk)
        self.f = open(path, "r+b")

    def _torn(self, n):
        if self.tear_seed < 0:
            return n // 2
        return ((self.tear_seed + 1) * 2654435761 + self.ops * 40503) % (n + 1)

    def _cut_now(self):
        idx = self.ops if self.cut_erases else self.writes
        return self.cut_after >= 0 and idx >= self.cut_after

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * BLOCK_SIZE + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=None):
        if offset is None:
            offset = 0
        if self.dead:
            raise PowerCut()  # no supply: nothing more reaches the flash
        if self._cut_now():
            # Power dies mid-program: some of the bytes land, then nothing more.
            self.dead = True
            self.f.seek(block * BLOCK_SIZE + offset)
            self.f.write(memoryview(buf)[: self._torn(len(buf))])
            self.f.flush()
            raise PowerCut()
        self.writes += 1
        self.ops += 1
        self.f.seek(block * BLOCK_SIZE + offset)
        self.f.write(buf)
        self.f.flush()

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return BLOCK_SIZE
        if op == 6:
            if self.dead:
                raise PowerCut()
            if self.cut_erases:
                if self._cut_now():
                    self.dead = True
                    self.f.seek(arg * BLOCK_SIZE)
                    self.f.write(b"\xff" * self._torn(BLOCK_SIZE))
                    self.f.flush()
                    raise PowerCut()
                self.ops += 1
            self.erases += 1
            return 0
        if op == 3:
            self.f.flush()
        return 0


class SimSensor:
    adc_max = 4095
    flat_range = 8

    def __init__(self, source, rate_hz, vt):
        self.source = source
        self.rate_hz = rate_hz
        self.block = max(1, rate_hz // 4)  # 250 ms blocks, like a FIFO burst
        self.vt = vt
        self.blocks = 0
        self.exhausted = False
        self.hang_at = -1
        # Heap figures for `soothe bench`: live heap after a collect once a virtual
        # minute, and the lowest free heap seen just before it.
        self.heap_live_peak = 0
        self.heap_free_min = 1 << 30
        # Measuring the device's cost (--loop-source): no collect of the board's own making.
        self.heap_stats = not getattr(source, "cost_free", False)

    async def read_block(self, buf):
        if self.hang_at >= 0 and self.vt.elapsed_ms() >= self.hang_at:
            await asyncio.Event().wait()  # a sensor that never answers again (--hang-sense-at)
        await asyncio.sleep_ms(self.wait_ms())
        return self.read(buf)

    # As the ESP32's analog sensor: App.sense sleeps wait_ms() (asyncio's singleton, nothing
    # allocated) and then reads, instead of a read_block() coroutine per block.
    def wait_ms(self):
        if self.hang_at >= 0 and self.vt.elapsed_ms() >= self.hang_at:
            return 1 << 29  # a sensor that never answers again (--hang-sense-at)
        return (((self.blocks + 1) * self.block * 1000) // self.rate_hz) - self.vt.elapsed_ms()

    def read(self, buf):
        if self.hang_at >= 0 and self.vt.elapsed_ms() >= self.hang_at:
            return 0
        self.blocks += 1
        if self.blocks % 240 == 0 and self.heap_stats:
            free = gc.mem_free()
            if free < self.heap_free_min:
                self.heap_free_min = free
            gc.collect()
            live = gc.mem_alloc()
            if live > self.heap_live_peak:
                self.heap_live_peak = live
        n = 0 if self.exhausted else self.source.fill(buf, self.block)
        if n < self.block:
            # Recording finished: the sensor sees no skin (flat, as in no contact).
            self.exhausted = True
            for i in range(n, self.block):
                buf[i] = 0
        return self.block


class SimAccel:
    """board.accel: the generator's accelerometer stream, read as a chip's FIFO.

    Same movement as the PPG's motion artefact (ppg_synth), 25 Hz, x/y/z in mg.
    """

    def __init__(self, source):
        self.source = source
        self.rate_hz = source.accel_rate_hz

    def read_fifo(self, buf):
        return self.source.read_accel(buf)

    def deinit(self):
        pass


class Trace:
    """Writes actuator commands as lines: '<t_ms> <device> <values...>'."""

    def __init__(self, path, vt):
        self.vt = vt
        self.f = open(path, "w") if path else None

    def write(self, device, *values):
        if self.f is not None:
            self.f.write("%d %s %s\n" % (self.vt.elapsed_ms(), device, " ".join(str(v) for v in values)))
            self.f.flush()


class SimLED:
    """Allocates nothing for an unchanged colour (like the device's drivers); a change is
    written to the trace, when there is one."""

    def __init__(self, trace):
        self.trace = trace
        self.rgb = [0, 0, 0]
        self.changes = 0

    def set_rgb(self, r, g, b):
        rgb = self.rgb
        if r != rgb[0] or g != rgb[1] or b != rgb[2]:
            rgb[0] = r
            rgb[1] = g
            rgb[2] = b
            self.changes += 1
            if self.trace.f is not None:
                self.trace.write("led", r, g, b)


class SimMotor:
    def __init__(self, trace):
        self.trace = trace
        self.duty = 0

    def set(self, duty_pct):
        if duty_pct != self.duty:
            self.duty = duty_pct
            self.trace.write("motor", duty_pct)


class SimButton:
    """Pressed state as a function of virtual time, from a schedule of presses.

    A wearer's gesture at a time (`--press T:KIND`) becomes presses: short (200 ms),
    long (1.5 s), double (two 120 ms presses 150 ms apart: a mark), pickN (a short press
    that starts a practice, then N presses in its lead-in: the N-th of the practice menu).
    """

    SHORT_MS = 200
    LONG_MS = 1500
    QUICK_MS = 120  # one press of a double
    QUICK_GAP_MS = 150
    PICK_AFTER_MS = 1200  # the start press's gesture is complete (release + 400 ms) by then
    PICK_EVERY_MS = 500

    @classmethod
    def schedule(cls, at_ms, kind):
        """[(start_ms, duration_ms)] of the presses a gesture takes."""
        if kind in ("", "short"):
            return [(at_ms, cls.SHORT_MS)]
        if kind == "long":
            return [(at_ms, cls.LONG_MS)]
        if kind in ("double", "mark"):
            return [(at_ms, cls.QUICK_MS), (at_ms + cls.QUICK_MS + cls.QUICK_GAP_MS, cls.QUICK_MS)]
        if kind.startswith("pick") and kind[4:].isdigit() and 0 < int(kind[4:]) <= 9:
            return [(at_ms, cls.SHORT_MS)] + [(at_ms + cls.PICK_AFTER_MS + i * cls.PICK_EVERY_MS, cls.QUICK_MS)
                                              for i in range(int(kind[4:]))]
        raise ValueError("press kind %r: use short, long, double (or mark), pick1..pick9" % kind)

    def __init__(self, presses, vt):
        self.presses = presses  # [(start_ms, duration_ms)]
        self.vt = vt

    def pressed(self):
        now = self.vt.elapsed_ms()
        for start, dur in self.presses:
            if start <= now < start + dur:
                return True
        return False

    def watch(self, flag):
        """Sets `flag` at every scheduled press and release, in virtual time (the pin
        IRQ of the real board)."""
        asyncio.create_task(self._edges(flag))

    async def _edges(self, flag):
        for edge in sorted([s for s, _ in self.presses] + [s + d for s, d in self.presses]):
            wait = edge - self.vt.elapsed_ms()
            if wait >= 0:
                await asyncio.sleep_ms(wait)
                flag.set()


def _parse_args(argv):
    opts = {"ppg": None, "rate": 100, "seed": 1, "plan": None, "flash": "soothe-flash.img",
            "speed": 0.0, "duration": None, "trace": None, "press": [], "device_id": None,
            "start": 1767600000, "cut": -1, "loop": 0, "invert": False, "hang": -1, "accel": True,
            "progress": False}  # type: dict
    i = 0
    while i < len(argv):
        a = argv[i]
        val = argv[i + 1] if i + 1 < len(argv) else ""
        i += 2
        if a == "--ppg":
            opts["ppg"] = val
        elif a == "--rate":
            opts["rate"] = int(val)
        elif a == "--seed":
            opts["seed"] = int(val)
        elif a == "--plan":
            opts["plan"] = val
        elif a == "--plan-file":
            # Plans of any length: the unix port dies on a 256-byte argument (FIELD-NOTES).
            with open(val) as f:
                opts["plan"] = f.read().strip()
        elif a == "--flash":
            opts["flash"] = val
        elif a == "--speed":
            opts["speed"] = float(val)
        elif a == "--duration":
            opts["duration"] = ppg_synth.parse_duration_ms(val)
        elif a == "--trace":
            opts["trace"] = val
        elif a == "--press":
            at, _, kind = val.partition(":")
            opts["press"] += SimButton.schedule(ppg_synth.parse_duration_ms(at), kind)
        elif a == "--device-id":
            opts["device_id"] = val
        elif a == "--start":
            opts["start"] = int(val)
        elif a == "--hang-sense-at":
            opts["hang"] = ppg_synth.parse_duration_ms(val)
        elif a == "--loop-source":
            opts["loop"] = int(val)  # seconds of the generator made once, then looped (cost-free)
        elif a == "--cut-after-writes":
            opts["cut"] = int(val)
        elif a in ("--fast", "--synthetic", "--invert", "--no-accel", "--progress"):
            i -= 1
            if a == "--invert":
                opts["invert"] = True
            elif a == "--no-accel":
                opts["accel"] = False  # a PulseSensor on a DevKit: no accelerometer
            elif a == "--progress":
                opts["progress"] = True
        else:
            raise ValueError("unknown simulator option %s" % a)
    return opts


def _make_source(o):
    if o["ppg"]:
        from soothe_sim import csvsource

        return csvsource.CSVSamples(o["ppg"])
    plan = ppg_synth.parse_plan(o["plan"]) if o["plan"] else None
    g = ppg_synth.SyntheticPPG(o["rate"], plan, seed=o["seed"], inverted=o["invert"], record_beats=False)
    if o["loop"]:
        from soothe_sim.loopsource import LoopSource

        return LoopSource(g, o["loop"], max(1, o["rate"] // 4))
    return g


class SimWatchdog:
    """machine.WDT in virtual time: records the feeds; a gap over the timeout is a reset."""

    def __init__(self, vt, timeout_ms=8000):
        self.vt = vt
        self.timeout = timeout_ms
        self.last = 0
        self.feeds = 0
        self.max_gap = 0
        self.fired = 0

    def _gap(self, now):
        gap = now - self.last
        if gap > self.max_gap:
            self.max_gap = gap
        if gap > self.timeout:
            self.fired += 1
        return gap

    def feed(self):
        now = self.vt.elapsed_ms()
        self._gap(now)
        self.last = now
        self.feeds += 1

    def check(self):
        self._gap(self.vt.elapsed_ms())


class SimBoard:
    name = "sim"
    data_dir = "/flash"

    def __init__(self, argv):
        o = _parse_args(argv)
        self.opts = o
        self.vt = VirtualTime(o["speed"], o["duration"] if o["duration"] is not None else -1)
        self.vt.install()
        if o["progress"]:
            self.vt.progress_ms = 300000
        # Firmware ticks count from 0 like a fresh ESP32 (and fit its 30-bit ticks).
        # --start 0: a clock that starts at 0 and is not set, as on an ESP32 after power-up
        self.clock = Clock(self.vt.elapsed_ms, o["start"] * 1000, is_set=o["start"] > 0)
        self.heap_sim = 0  # bytes the simulator's own modules and objects hold (soothe_sim.main sets it)
        self.sensor = SimSensor(_make_source(o), o["rate"], self.vt)
        self.sensor.hang_at = o["hang"]
        # A recording has no accelerometer beside it, and --no-accel builds without one.
        src = self.sensor.source
        self.accel = SimAccel(src) if o["accel"] and hasattr(src, "read_accel") else None
        self.wdt = SimWatchdog(self.vt)
        self.vt.reports.append(self._stats_line)
        self.trace = Trace(o["trace"], self.vt)
        self.led = SimLED(self.trace)
        self.motor = SimMotor(self.trace)
        self.button = SimButton(o["press"], self.vt)
        self.serial = StdioSerial(chunk=256)
        self.device_id = o["device_id"] or "sim-%04d" % o["seed"]
        self.bdev = FileBlockDevice(o["flash"], cut_after_writes=o["cut"])

    def fs_mount(self):
        import vfs

        if self.bdev.new:
            vfs.VfsLfs2.mkfs(self.bdev)  # type: ignore[arg-type]
        # A mount failure on an existing image is an error, never a silent reformat.
        vfs.mount(vfs.VfsLfs2(self.bdev), self.data_dir)  # type: ignore

    def on_stop(self, fn):
        self.vt.on_stop(fn)

    def _stats_line(self):
        s = self.sensor
        total = gc.mem_alloc() + gc.mem_free()
        w = self.wdt
        w.check()
        return ("sim: heap live_peak=%d used_peak=%d total=%d; flash writes=%d erases=%d; wdt feeds=%d max_gap=%d "
                "fired=%d; sim_share=%d") % (
            s.heap_live_peak, total - s.heap_free_min if s.heap_free_min < total else 0, total,
            self.bdev.writes, self.bdev.erases, w.feeds, w.max_gap, w.fired, self.heap_sim)

    def wdt_feed(self):
        self.wdt.feed()

    def report_error(self, name, exc):
        if isinstance(exc, KeyboardInterrupt):  # Ctrl-C on `soothe sim` reaches us too: not a failure
            sys.stderr.write("sim: interrupted\n")
            return
        sys.stderr.write("sim: task %s failed: " % name)
        sys.print_exception(exc, sys.stderr)  # type: ignore[arg-type]

    def pacer_rate(self, rate_x10):
        """The simulated wearer breathes with the pacer (0: breathing on their own)."""
        pace = getattr(self.sensor.source, "pace", None)
        if pace:
            pace(rate_x10)

    def deinit(self):
        self.led.set_rgb(0, 0, 0)
        self.motor.set(0)
