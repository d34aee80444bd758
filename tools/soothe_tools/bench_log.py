"""`soothe bench --only log`: the all-day log and its sync, measured on the simulated board.

- runs the real firmware for a simulated day (2 h scaled x12 with --quick), then syncs
  it over the pty with the real host code;
- flash: log bytes per 24 h (records as stored), and block programs/erases counted
  by the simulated block device;
- wire: bytes on the wire both ways against record bytes carried (payload efficiency),
  and the time the same exchange takes at 115200 baud: bits / baud plus one assumed
  10 ms turnaround per request (USB-serial latency on an ESP32 bridge);
- fuzz: 100k garbage inputs through the device's frame parser and command handler
  (CPython; the same code runs under MicroPython in `make test`).
"""
import asyncio
import os
import random
import re
import tempfile
import time

from soothe.device import Device, open_port
from soothe_fw.log import records
from soothe_fw.link import wire
from soothe.simulator import Simulator
from soothe.store import Store
from soothe.sync import sync

BAUD = 115200
TURNAROUND_S = 0.010


class CountingPort:
    """Counts bytes and requests through a pyserial port."""

    def __init__(self, ser):
        self.ser = ser
        self.bytes_out = 0
        self.requests = 0

    def write(self, data):
        self.bytes_out += len(data)
        self.requests += 1
        return self.ser.write(data)

    def __getattr__(self, name):
        return getattr(self.ser, name)


def bench_log(out, quick=False):
    hours = 2 if quick else 24
    scale = 24 / hours
    with tempfile.TemporaryDirectory() as work:
        sim = Simulator(os.path.join(work, "flash.img"), seed=1, duration="%dh" % hours)
        t0 = time.time()
        with sim:
            sim.wait_stopped(timeout=3600)
            wall = time.time() - t0
            stats = sim.stats_line()
            port = CountingPort(open_port(sim.port))
            dev = Device(port)
            store = Store(os.path.join(work, "db"))
            t1 = time.time()
            result = sync(dev, store, set_clock=False)
            sync_wall = time.time() - t1
            dev.close()
            rec_bytes, n_rec, n_beats = store.db.execute(
                "SELECT SUM(length(payload)) + 12 * COUNT(*), COUNT(*), (SELECT COUNT(*) FROM beats) FROM records"
            ).fetchone()
            store.close()
    m = re.search(r"flash writes=(\d+) erases=(\d+)", stats)
    writes, erases = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    out.write("All-day log on the simulated board (%d h simulated in %.0f s%s)\n"
              % (hours, wall, ", figures scaled x%d to 24 h" % scale if scale != 1 else ""))
    out.write("  log: %d records, %d beats; %.1f KB per 24 h (target <= 150 KB); %.2f bytes per beat overall\n"
              % (n_rec, n_beats, rec_bytes * scale / 1000, rec_bytes / max(n_beats, 1)))
    out.write("  flash wear: %d block programs, %d erases = %.0f erases per hour (target <= 100)\n"
              % (writes, erases, erases / hours))
    wire_bytes = result.bytes + port.bytes_out
    out.write("  sync: %d bytes on the wire (%d in, %d out, %d requests) for %d record bytes: payload efficiency "
              "%.3f (goal >= 0.9)\n" % (wire_bytes, result.bytes, port.bytes_out, port.requests, rec_bytes,
                                         rec_bytes / wire_bytes))
    at_baud = wire_bytes * 10 / BAUD + port.requests * TURNAROUND_S
    out.write("  sync time for 24 h at %d baud: %.1f s (wire %.1f s + %d x %.0f ms turnaround; goal <= 15 s); "
              "over the pty here: %.1f s\n" % (BAUD, at_baud * scale, wire_bytes * 10 / BAUD * scale,
                                               port.requests * scale, TURNAROUND_S * 1000, sync_wall * scale))
    fuzz(out, 100000)


class FixedClock:
    """A device clock that never moves and ignores TIME (fuzzing the link needs no time)."""

    is_set = True

    def unix_ms(self):
        return 1767600000000

    def set_unix_ms(self, ms):
        return 1767600000000


def fuzz(out, cases):
    from soothe_fw.link import handler as link_mod
    from soothe_fw.log.logstore import RecordLog
    from soothe_fw.log.settings import Settings

    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as work:
        log = RecordLog(work).open()
        for i in range(50):
            log.append(records.EVENT, bytes([i]) * 30, 30)
        log.flush()
        answers = {"frames": 0, "errors": 0}

        async def send(frame):
            op, _ = wire.decode(frame[:-1])  # raises if the device ever sent a broken frame
            answers["frames"] += 1
            answers["errors"] += op == wire.ERR

        ln = link_mod.Link(send, log, FixedClock(), Settings(), "fuzz")
        ops = [wire.HELLO, wire.TIME, wire.GET, wire.ACK, wire.CONFIG, wire.LIVE, wire.SESSION, wire.DATA, 0, 0x42]

        async def main():
            crashes = 0
            for _ in range(cases):
                if rng.random() < 0.5:
                    data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
                else:
                    body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 24)))
                    data = b"\x00" + wire.encode(rng.choice(ops), body)
                try:
                    await ln.feed(data)
                except Exception:  # noqa: BLE001 - counted: any exception is a device crash
                    crashes += 1
            return crashes

        t0 = time.time()
        crashes = asyncio.run(main())
        out.write("  fuzz: %d garbage inputs to the frame parser and command handler in %.0f s: %d crash(es), "
                  "%d answer frames (%d ERR), all well-formed\n"
                  % (cases, time.time() - t0, crashes, answers["frames"], answers["errors"]))
