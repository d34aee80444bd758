"""Fault sweeps of the log and its sync (`make faults`, `soothe bench --only faults`).

- damage: every single-bit flip and every zeroed 4 KB block of a 2 h log's files (the
  firmware's RecordLog, written as the app writes it); per damaged image: boot (open),
  logging (append + flush + read back, no seq reused), sync (everything readable
  reaches the host, without a hole) and loss reported exactly (the seqs the device
  declares lost are exactly the records the damage touched);
- noisy line: `soothe sync` runs through a proxy that flips, drops, duplicates and
  injects bytes at a per-byte rate and pulls the cable now and then, until host ==
  device; the number of runs it takes;
- fuzz: random and CRC-valid frames at the device's command handler; nothing is
  deleted or changed without the session's nonce.
The device side runs in this process (firmware/soothe_fw/link/handler.py + logstore.py under CPython,
the same code as on the device) behind a pyserial-like loopback, so a sweep of
10^5 cases takes minutes, not days.  Slow sweeps: `python -m soothe_tools.faults`.
"""
import asyncio
import os
import random
import shutil
import sqlite3
import struct
import sys
import tempfile
import time

import serial

from soothe.device import Device, DeviceError
from soothe_fw.log import records
from soothe_fw.link import wire
from soothe.store import Store
from soothe.sync import sync

from soothe_fw.link import handler as fw_link  # noqa: E402
from soothe_fw.log import logstore  # noqa: E402
from soothe_fw.log import settings as fw_settings  # noqa: E402

START_S = 1767600000

POWER_CUT_SWEEP = r"""
import gc, json, os, vfs
from soothe_fw.log import records
from soothe_sim.board import FileBlockDevice, PowerCut
from soothe_fw.log.logstore import RecordLog

IMG = %(img)r
N = %(n)d
TEAR = %(tear)d
ERASES = %(erases)s

def payload(seq):
    return bytes([(seq * 31 + j) & 0xFF for j in range(8 + (seq * 37) %% 150)])

def workload(log, state):
    # Appends N records (varied sizes), flushing every 3 and acking half-way;
    # `state` keeps what the writer knew was durable when the power went.
    for i in range(N):
        seq = log.append(records.EVENT, payload(log.next_seq), 8 + (log.next_seq * 37) %% 150)
        if i %% 3 == 2:
            log.flush()
            state["flushed"] = log.flushed_seq
        if i == N // 2:
            state["acked"] = log.ack(state["flushed"] - 4)
    log.close()
    state["flushed"] = log.flushed_seq

def mount(point):
    bdev = FileBlockDevice(IMG, blocks=24, tear_seed=TEAR, cut_erases=ERASES)
    if bdev.new:
        vfs.VfsLfs2.mkfs(bdev)
    vfs.mount(vfs.VfsLfs2(bdev), point)
    return bdev

def unmount(point):
    # A case leaves its mounts behind otherwise, and 150 of them fill the heap.
    try:
        vfs.umount(point)
    except Exception:
        pass
    gc.collect()

def read_all(root):
    log = RecordLog(root, segment_bytes=1024).open()
    seen = []
    for first in log.segments():
        for rtype, seq, p in log.iter_segment(first):
            # GAP records come from the full-flash policy (24 blocks fill up)
            seen.append((seq, rtype == records.GAP or bytes(p) == payload(seq)))
    return log, seen

def run_case(cut, k):
    try:
        os.remove(IMG)
    except OSError:
        pass
    state = {"flushed": 0, "acked": 0}
    bdev = mount("/a%%d" %% k)
    start = bdev.ops if ERASES else bdev.writes
    if cut >= 0:
        bdev.cut_after = start + cut  # the supply dies at the cut-th program of the workload
    cut_hit = False
    try:
        workload(RecordLog("/a%%d" %% k, segment_bytes=1024).open(), state)
    except PowerCut:
        cut_hit = True
    writes = (bdev.ops if ERASES else bdev.writes) - start
    bdev.f.close()
    unmount("/a%%d" %% k)
    # next boot
    try:
        bdev2 = mount("/b%%d" %% k)
    except OSError as e:
        return {"cut": cut, "mounted": False, "error": str(e)}
    log, seen = read_all("/b%%d" %% k)
    seqs = [s for s, _ in seen]
    lost = [s for s in range(max(log.acked_seq, 0) + 1, state["flushed"] + 1) if s not in seqs]
    # carry on logging after the reboot: seqs continue, nothing collides
    before = log.next_seq
    for _ in range(4):
        log.append(records.EVENT, payload(log.next_seq), 8 + (log.next_seq * 37) %% 150)
    log.close()
    _, seen2 = read_all("/b%%d" %% k)
    seqs2 = [s for s, _ in seen2]
    bdev2.f.close()
    unmount("/b%%d" %% k)
    return {"cut": cut, "hit": cut_hit, "writes": writes, "mounted": True, "lost": lost,
            "bad_payload": [s for s, ok in seen2 if not ok],
            "dups": len(seqs2) - len(set(seqs2)), "ordered": seqs2 == sorted(seqs2),
            "continues": before > state["flushed"] and seqs2[-4:] == list(range(before, before + 4)),
            "acked": log.acked_seq, "acked_known": state["acked"], "flushed": state["flushed"]}

total = run_case(-1, 0)["writes"]
cuts = %(cuts)s
if cuts is None:
    cuts = list(range(total + 1))
results = []
for i, c in enumerate(cuts):
    if TEAR >= 0:
        TEAR = (TEAR * 1103515245 + 12345) %% 2147483648  # a fresh tear offset per cut
    results.append(run_case(c, i + 1))
print(json.dumps({"total": total, "results": results}))
"""


def power_cut_sweep(work, n=160, tear=11, erases=True, cuts=None):
    """Runs POWER_CUT_SWEEP under MicroPython: a cut at every program (and erase) of an
    n-record workload, torn at pseudo-random offsets.  Returns the tallies."""
    import json
    import subprocess

    from soothe.fw import micropython_binary, micropython_env

    code = POWER_CUT_SWEEP % {"img": os.path.join(work, "pc.img"), "n": n, "cuts": repr(cuts), "tear": tear,
                              "erases": erases}
    t0 = time.time()
    proc = subprocess.run([micropython_binary(), "-c", code], capture_output=True, text=True, timeout=7200,
                          env=micropython_env())
    if proc.returncode:
        raise RuntimeError("power-cut sweep failed: %s" % proc.stderr[-500:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    ok = [r for r in res["results"] if r["mounted"] and not r["lost"] and not r["bad_payload"] and not r["dups"]
          and r["ordered"] and r["continues"]]
    return {"ops": res["total"], "cuts": len(res["results"]), "hit": sum(r.get("hit", False) for r in res["results"]),
            "ok": len(ok), "seconds": time.time() - t0,
            "failures": [r for r in res["results"] if r not in ok][:5]}


class LoopClock:
    is_set = True

    def __init__(self):
        self.ms = START_S * 1000

    def unix_ms(self):
        return self.ms

    def unix_s(self):
        return self.ms // 1000

    def ticks_ms(self):
        return int(time.monotonic() * 1000)

    def set_unix_ms(self, ms):
        before, self.ms = self.ms, ms
        return before

    def at(self, ticks):  # clock.Clock's interface for LIVE frames: the time does not move here
        pass

    def pack_wall_ms(self, buf, pos):
        struct.pack_into("<Q", buf, pos, self.ms)


class Mangler:
    """Flips, drops, duplicates and injects bytes, each byte hit with probability `rate`."""

    def __init__(self, rng, rate):
        self.rng = rng
        self.rate = rate
        self.faults = 0

    def __call__(self, data):
        if not self.rate or not data:
            return data
        rng = self.rng
        out = bytearray()
        i = 0
        n = len(data)
        while i < n:
            # Geometric skip to the next hit byte (one random draw per fault, not per byte).
            skip = int(random_log(rng) / -self.rate) if self.rate < 1 else 0
            if i + skip >= n:
                out += data[i:]
                break
            out += data[i : i + skip]
            i += skip
            self.faults += 1
            kind = rng.randrange(4)
            b = data[i]
            if kind == 0:
                out.append(b ^ (1 << rng.randrange(8)))
            elif kind == 1:
                pass  # dropped
            elif kind == 2:
                out += bytes([b, b])
            else:
                out += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
                out.append(b)
            i += 1
        return bytes(out)


def random_log(rng):
    import math

    return math.log(1.0 - rng.random())


class LoopSerial:
    """A pyserial-like port whose far end is the firmware's Link in this process.

    `mangle` damages bytes both ways; `cut_after` bytes read pull the cable."""

    def __init__(self, ln, outbox, mangle=None, cut_after=None):
        self.link = ln
        self.outbox = outbox  # bytearray the device's send() appends to
        self.mangle = mangle or (lambda d: d)
        self.cut_after = cut_after
        self.seen = 0
        self.loop = asyncio.new_event_loop()
        self.timeout = 0

    @property
    def in_waiting(self):
        return len(self.outbox)

    def write(self, data):
        self.loop.run_until_complete(self.link.feed(self.mangle(bytes(data))))
        return len(data)

    def read(self, n):
        data = bytes(self.outbox[:n])
        del self.outbox[:n]
        self.seen += len(data)
        if self.cut_after is not None and self.seen > self.cut_after:
            raise serial.SerialException("device reports readiness to read but returned no data")
        if not data:
            time.sleep(0.0005)
        return self.mangle(data)

    def flush(self):
        pass

    def reset_input_buffer(self):
        self.outbox.clear()

    def close(self):
        self.loop.close()


def device_link(log, device_id="loop-1"):
    outbox = bytearray()

    async def send(frame):
        outbox.extend(frame)

    ln = fw_link.Link(send, log, LoopClock(), fw_settings.Settings(), device_id)
    return ln, outbox


# ---- a 2 h log written the way the app writes it ------------------------------------
def write_day(root, minutes=120, seed=1, boots=(0, 60), segment_bytes=4096):
    """A log of `minutes` MINUTE records (Rice-coded RR), a BOOT per boot and some events,
    flushed once a minute like the app.  Returns the records as written [(seq, type, bytes)]."""
    rng = random.Random(seed)
    mb = records.MinuteBuilder()
    scratch = bytearray(records.MAX_PAYLOAD)
    log = None
    rr = 850
    for m in range(minutes):
        if m in boots:
            if log is not None:
                log.close()
            log = logstore.RecordLog(root, segment_bytes=segment_bytes, unix_s=lambda: START_S).open()
            n = records.encode_boot(scratch, START_S + 60 * m, True, records.FIRMWARE_VERSION, "loop")
            log.append(records.BOOT, scratch, n)
        mb.reset(START_S + 60 * m)
        t = 0
        while t < 60000:
            rr = max(500, min(1300, rr + rng.randrange(-40, 41)))
            mb.add(t, rr, 0 if rng.random() > 0.03 else 2)
            t += rr
        n = mb.finish(3, 7000, 450, 500, 80, 100)
        log.append(records.MINUTE, mb.buf, n)
        if m % 10 == 5:
            n = records.encode_event(scratch, START_S + 60 * m, 0, records.EV_STATE, b"soothe")
            log.append(records.EVENT, scratch, n)
        log.flush()
    log.close()
    return read_back(root)


def read_back(root):
    log = logstore.RecordLog(root).open()
    return [(seq, t, bytes(p)) for first in log.segments() for t, seq, p in log.iter_segment(first)]


def record_spans(root):
    """{(file name, offset): (seq, length)} of every record as it lies in the segment files."""
    spans = []
    d = os.path.join(root, "log")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".seg"):
            continue
        blob = open(os.path.join(d, name), "rb").read()
        pos = 0
        for _t, seq, p in records.iter_records(blob):
            n = len(p) + records.OVERHEAD
            spans.append((name, pos, n, seq))
            pos += n
    return spans


# ---- one damaged image: boot, logging, sync, loss reported exactly ------------------
def device_side_sync(log, from_seq=1, budget=900):
    """What a host gets over GET from `log` (device side only: read_into, the same
    record parsing and gap rules as the host).  Returns (records {seq: (type, bytes)}, lost set)."""
    buf = bytearray(wire.MAX_FRAME + 8)
    got = {}
    lost = set()
    seq = from_seq
    while seq <= log.flushed_seq:
        n, nxt, end = log.read_into(seq, buf, 0, budget, len(buf) - 4)
        if not n:
            break
        for t, s, p in records.iter_records(memoryview(buf)[:end]):
            k = records.declared_lost(t, s, p)
            if k:
                lost.update(range(s, s + k))
            else:
                got[s] = (t, bytes(p))
        seq = nxt
    return got, lost


def check_image(root, truth, damaged_seqs, full_sync_db=None):
    """Boots the log on a damaged image and checks the four properties; returns a dict."""
    res = {"boot": False, "logging": False, "sync": False, "loss_exact": False}
    try:
        log = logstore.RecordLog(root, segment_bytes=8192, unix_s=lambda: START_S).open()
    except Exception as e:  # noqa: BLE001 - reported, that is the point
        res["error"] = "boot: %r" % e
        return res
    res["boot"] = True
    top = truth[-1][0]
    try:
        seq = log.append(records.EVENT, b"after damage", 12)
        log.flush()
        res["logging"] = seq > top and any(s == seq for t, s, p in _all(log))
    except Exception as e:  # noqa: BLE001
        res["error"] = "logging: %r" % e
    if full_sync_db is not None:
        got, lost = _wire_sync(log, full_sync_db)
    else:
        got, lost = device_side_sync(log)
    want = {s: (t, p) for s, t, p in truth}
    intact = all(want.get(s, (None, None)) == v for s, v in got.items() if s <= top)
    covered = set(got) | lost
    res["sync"] = intact and covered >= set(range(1, log.flushed_seq + 1)) and not (set(got) & lost)
    res["lost"] = sorted(lost)
    res["loss_exact"] = lost == set(damaged_seqs) and all(s in got for s in want if s not in damaged_seqs)
    log.close()
    return res


def _all(log):
    for first in log.segments():
        for t, s, p in log.iter_segment(first):
            yield t, s, p


def _stored(store, lid):
    """What the host holds of log `lid`: {seq: (type, payload)} of the records it stored,
    and the set of seqs the device declared lost (their GAP records are not counted as got)."""
    got = {s: (t, bytes(p)) for s, t, p in store.db.execute(
        "SELECT seq, type, payload FROM records WHERE device_id=?", (lid,))}
    lost = set()
    for first, n, _why in store.lost(lid):
        lost.update(range(first, first + n))
        got.pop(first, None)
    return got, lost


def _wire_sync(log, db):
    """The real host sync (device.py, sync.py, store.py) over the loopback."""
    ln, outbox = device_link(log)
    dev = Device(LoopSerial(ln, outbox), timeout=0.05, retries=3)
    store = Store(db)
    try:
        r = sync(dev, store, set_clock=False)
        return _stored(store, r.log_id)
    finally:
        dev.close()
        store.close()


def damage_sweep(work, bit_step=1, zero_block=4096, minutes=120, full_sync_every=0, limit=None, out=None):
    """Flips every bit_step-th bit, then zeroes every zero_block-byte block, of the segment
    files of a `minutes` log; returns the tallies."""
    clean = os.path.join(work, "clean")
    truth = write_day(clean, minutes=minutes)
    spans = record_spans(clean)
    seg_bytes = {name: open(os.path.join(clean, "log", name), "rb").read() for name, _, _, _ in spans}
    cases = []
    for name, blob in sorted(seg_bytes.items()):
        nbits = len(blob) * 8
        cases += [("flip", name, b, b + 1) for b in range(0, nbits, bit_step)]
    for name, blob in sorted(seg_bytes.items()):
        cases += [("zero", name, 8 * o, 8 * min(len(blob), o + zero_block)) for o in range(0, len(blob), zero_block)]
    if limit:
        cases = cases[:: max(1, len(cases) // limit)]
    tally = {"cases": 0, "boot": 0, "logging": 0, "sync": 0, "loss_exact": 0, "records": len(truth),
             "log_bytes": sum(len(b) for b in seg_bytes.values()), "failures": []}
    img = os.path.join(work, "img")
    t0 = time.time()
    for i, (kind, name, b0, b1) in enumerate(cases):
        if os.path.exists(img):
            shutil.rmtree(img)
        shutil.copytree(clean, img)
        blob = bytearray(seg_bytes[name])
        if kind == "flip":
            blob[b0 >> 3] ^= 1 << (b0 & 7)
        else:
            blob[b0 >> 3 : b1 >> 3] = bytes((b1 - b0) >> 3)
        with open(os.path.join(img, "log", name), "wb") as f:
            f.write(blob)
        damaged = [seq for n, off, ln, seq in spans if n == name and off < (b1 + 7) >> 3 and off + ln > b0 >> 3]
        db = None
        if full_sync_every and i % full_sync_every == 0:
            db = os.path.join(work, "s%d.db" % i)
        r = check_image(img, truth, damaged, full_sync_db=db)
        tally["cases"] += 1
        for k in ("boot", "logging", "sync", "loss_exact"):
            tally[k] += bool(r[k])
        if not all(r[k] for k in ("boot", "logging", "sync", "loss_exact")) and len(tally["failures"]) < 10:
            tally["failures"].append({"kind": kind, "file": name, "bit": b0, "damaged": damaged,
                                      "lost": r.get("lost"), **{k: r[k] for k in ("boot", "logging", "sync",
                                                                                    "loss_exact")},
                                      "error": r.get("error")})
        if out and i and i % 5000 == 0:
            out.write("  damage sweep: %d/%d cases, %.0f s\n" % (i, len(cases), time.time() - t0))
            out.flush()
    tally["seconds"] = time.time() - t0
    return tally


# ---- sync through a noisy line ---------------------------------------------------------
def noisy_sync(work, rate=1e-3, minutes=120, seed=7, max_runs=40, cut_every=3):
    """`soothe sync` runs through a mangling proxy (rate per byte, both ways; every
    cut_every-th run the cable is pulled at a random point) until host == device."""
    root = os.path.join(work, "dev")
    truth = write_day(root, minutes=minutes, seed=seed)
    log = logstore.RecordLog(root, segment_bytes=8192).open()
    rng = random.Random(seed)
    db = os.path.join(work, "noisy.db")
    runs = faults = 0
    errors = []
    done = False
    t0 = time.time()
    while runs < max_runs and not done:
        runs += 1
        ln, outbox = device_link(log)
        mangle = Mangler(rng, rate)
        cut = rng.randrange(2000, 20000) if cut_every and runs % cut_every == 1 else None
        dev = Device(LoopSerial(ln, outbox, mangle, cut_after=cut), timeout=0.05, retries=6)
        store = Store(db)
        try:
            r = sync(dev, store, set_clock=False)
            done = store.max_seq(r.log_id) >= truth[-1][0] and log.acked_seq >= truth[-1][0]
        except DeviceError as e:
            errors.append(str(e))
        finally:
            faults += mangle.faults
            dev.close()
            store.close()
    con = sqlite3.connect(db)
    stored = [(s, t, bytes(p)) for s, t, p in con.execute("SELECT seq, type, payload FROM records ORDER BY seq")]
    con.close()
    return {"runs": runs, "done": done, "equal": stored == truth, "records": len(truth), "faults": faults,
            "errors": len(errors), "last_errors": errors[-3:], "seconds": time.time() - t0, "rate": rate}


# ---- fuzzed frames at the command handler ------------------------------------------------
def fuzz_frames(work, n=100000, seed=3):
    """n inputs (random bytes, and CRC-valid frames of every opcode with random bodies) at the
    device's Link.  Returns crash count and what changed without a session nonce."""
    root = os.path.join(work, "fuzz")
    write_day(root, minutes=20)
    log = logstore.RecordLog(root, segment_bytes=8192).open()
    ln, outbox = device_link(log)
    before = (log.acked_seq, dict(ln.settings.values), ln.clock.ms)
    rng = random.Random(seed)
    ops = [wire.HELLO, wire.TIME, wire.GET, wire.ACK, wire.CONFIG, wire.LIVE, wire.REPL, wire.SESSION, wire.DATA,
           0x00, 0x42, 0x7F, 0xFF]
    loop = asyncio.new_event_loop()
    crashes = bad_answers = 0
    t0 = time.time()
    for i in range(n):
        if rng.random() < 0.4:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
        else:
            op = rng.choice(ops)
            if op == wire.SESSION:
                op = wire.LIVE  # a breathing session may start: allowed without a session, but not this test's point
            data = b"\x00" + wire.encode(op, bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30))))
        try:
            loop.run_until_complete(ln.feed(data))
        except Exception:  # noqa: BLE001 - counted
            crashes += 1
        if len(outbox) > 65536 or i % 1000 == 999:
            for fr in wire.Deframer(limit=4096).feed(bytes(outbox)):
                try:
                    wire.decode(fr)
                except wire.FrameError:
                    bad_answers += 1
            outbox.clear()
    loop.close()
    after = (log.acked_seq, dict(ln.settings.values), ln.clock.ms)
    return {"inputs": n, "crashes": crashes, "bad_answers": bad_answers, "acked_changed": after[0] != before[0],
            "settings_changed": after[1] != before[1], "clock_changed": after[2] != before[2],
            "seconds": time.time() - t0}


def run(out=sys.stdout, quick=False, skip=()):
    """Prints the sweeps' figures beside their targets (quick: samples of each; skip: names
    of sweeps to leave out, e.g. "damage", the longest)."""
    def line(text):
        out.write(text + "\n")
        out.flush()

    def sub(name):
        os.makedirs(os.path.join(work, name))
        return os.path.join(work, name)

    with tempfile.TemporaryDirectory(prefix="soothe-faults-") as work:
        t = damage_sweep(work, bit_step=41 if quick else 1, full_sync_every=200, out=out,
                         limit=1 if "damage" in skip else None)
        line("damage sweep, 2 h log (%d records, %d log bytes): %d damaged images (every %sbit flip and every "
             "zeroed 4 KB block of the segment files): boot %d, logging %d, sync %d, loss reported exactly %d "
             "of %d in %.0f s (target: all)" % (t["records"], t["log_bytes"], t["cases"], "41st " if quick else "",
                                                t["boot"], t["logging"], t["sync"], t["loss_exact"], t["cases"],
                                                t["seconds"]))
        for f in t["failures"]:
            line("  FAILED %r" % f)
        s = sim_block_sweep(sub("blocks"), blocks=list(range(0, 200, 13)) if quick else None)
        line("zeroed blocks of the 2 h littlefs image, firmware booted on each (%d records): %d images; boot %d, "
             "logging %d, sync %d, loss reported exactly %d; %d image(s) lost records (%d in all, all declared) "
             "in %.0f s (target: all)" % (s["records"], s["images"], s["boot"], s["logging"], s["sync"],
                                         s["loss_exact"], sum(1 for r in s["results"] if r.get("lost")),
                                         sum(r.get("lost", 0) for r in s["results"]), s["seconds"]))
        for r in s["results"]:
            if not all(r[k] for k in ("boot", "logging", "sync", "loss_exact")):
                line("  FAILED %r" % r)
        p = power_cut_sweep(sub("power"), n=160, cuts=list(range(0, 600, 9)) if quick else None)
        line("power cut at %s program and erase of a 160-record workload (torn at pseudo-random offsets, torn "
             "erases): %d cut(s) of %d operations, %d ok (mounts, no flushed record lost, none twice, seqs go on) "
             "in %.0f s (target: all)" % ("every 9th" if quick else "every", p["cuts"], p["ops"], p["ok"],
                                         p["seconds"]))
        for f in p["failures"]:
            line("  FAILED %r" % f)
        a = app_cut_sweep(sub("app"), cuts=6 if quick else 60)
        line("whole app cut %d times over a simulated hour (%d flash programs), reboot + sync: %d ok (durable "
             "records intact, no hole, reboot follows) in %.0f s (target: all)"
             % (a["cuts"], a["programs"], a["ok"], a["seconds"]))
        for f in a["failures"]:
            line("  FAILED %r" % f)
        for seed in (7, 8, 9):
            r = noisy_sync(sub("noisy%d" % seed), rate=1e-3, seed=seed)
            line("noisy line 1e-3/byte both ways + a pulled cable every 3rd run (seed %d): %d sync run(s), "
                 "host == device: %s (%d records, %d faults injected, %d run(s) ended in an error) in %.0f s "
                 "(target: yes, <= 10 runs)" % (seed, r["runs"], "yes" if r["equal"] and r["done"] else "NO",
                                                 r["records"], r["faults"], r["errors"], r["seconds"]))
        f = fuzz_frames(work, n=20000 if quick else 100000)
        line("fuzz: %d inputs at the command handler: %d crashes, %d malformed answers; without the session "
             "nonce: acked changed %s, settings changed %s, clock changed %s (%.0f s; target: 0, 0, no, no, no)"
             % (f["inputs"], f["crashes"], f["bad_answers"], f["acked_changed"], f["settings_changed"],
                f["clock_changed"], f["seconds"]))



# ---- zeroed blocks of a real littlefs image, booted by the real firmware -----------------
def _reference(port):
    """Every flushed record on a simulated device, read with GET and never acknowledged."""
    from soothe.device import open_port

    dev = Device(open_port(port))
    try:
        hello = dev.hello()
        out, seq = [], hello["oldest_seq"]
        while seq <= hello["newest_seq"]:
            batch, seq, _ = dev.get(seq, 8192)
            if not batch:
                break
            out += [r[:3] for r in batch]  # (seq, type, payload): what the store's records hold
        return hello, out
    finally:
        dev.close()


def sim_block_sweep(work, duration="2h", boot="3m", blocks=None, seed=3, out=None):
    """Zeroes each used 4 KB block of a simulated device's flash image (after `duration` of
    wearing), boots the real firmware on it for `boot`, and syncs.  Per image: boot (the
    firmware ran to the end), logging (the new boot's minutes reached the host), sync
    (no error, no hole) and loss exact (what the host lacks of the undamaged log is
    exactly what the device declared lost, and nothing stored differs from it)."""
    from soothe.device import open_port
    from soothe.simulator import Simulator

    clean = os.path.join(work, "clean.img")
    sim = Simulator(clean, seed=seed, duration=duration)
    with sim:
        sim.wait_stopped(timeout=1800)
        _, ref = _reference(sim.port)
    img = open(clean, "rb").read()
    used = [b for b in range(len(img) // 4096) if img[b * 4096 : (b + 1) * 4096] != b"\xff" * 4096]
    if blocks is not None:
        used = [used[i % len(used)] for i in blocks]
    want = {s: (t, p) for s, t, p in ref}
    results = []
    t0 = time.time()
    for b in used:
        path = os.path.join(work, "z%d.img" % b)
        damaged = bytearray(img)
        damaged[b * 4096 : (b + 1) * 4096] = bytes(4096)
        open(path, "wb").write(damaged)
        r = {"block": b, "boot": False, "logging": False, "sync": False, "loss_exact": False}
        sim = Simulator(path, seed=seed + 1, duration=boot)
        try:
            with sim:
                sim.wait_stopped(timeout=300)
                r["boot"] = sim.alive()
                db = os.path.join(work, "z%d.db" % b)
                dev = Device(open_port(sim.port))
                store = Store(db)
                try:
                    lid = sync(dev, store, set_clock=False).log_id
                    got, lost = _stored(store, lid)
                    r["sync"] = not store.gaps(lid)
                finally:
                    dev.close()
                    store.close()
        except Exception as e:  # noqa: BLE001 - reported per image
            r["error"] = repr(e)[:200]
            results.append(r)
            continue
        top = ref[-1][0] if ref else 0
        new = [got[s][0] for s in got if s > top]
        r["logging"] = records.BOOT in new and new.count(records.MINUTE) >= 2
        missing = {s for s in want if s not in got}
        r["lost"] = len(lost)
        r["loss_exact"] = (all(want[s] == got[s] for s in want if s in got) and missing <= lost
                           and not {s for s in lost if s <= top} - missing)
        results.append(r)
        if out:
            out.write("  block %d: %s\n" % (b, " ".join("%s %s" % (k, "ok" if r[k] else "FAIL")
                                                         for k in ("boot", "logging", "sync", "loss_exact"))))
            out.flush()
    return {"records": len(ref), "images": len(results), "results": results, "seconds": time.time() - t0,
            **{k: sum(bool(r[k]) for r in results) for k in ("boot", "logging", "sync", "loss_exact")}}


def app_cut_sweep(work, duration="1h", cuts=60, seed=5, out=None):
    """Cuts the whole simulated device's supply `cuts` times spread over the flash programs
    of `duration` (one cut per flush interval at the default 60 s flush), reboots it on
    the same flash and syncs.  Per cut: every record durable before the cut arrives
    byte-identical, the seqs run without a hole (lost ones declared) and the reboot follows."""
    import re

    from soothe.device import open_port
    from soothe.simulator import Simulator

    ref_sim = Simulator(os.path.join(work, "ref.img"), seed=seed, duration=duration)
    with ref_sim:
        ref_sim.wait_stopped(timeout=1800)
        _, ref = _reference(ref_sim.port)
        stats = ref_sim.stats_line()
    total = int(re.search(r"writes=(\d+)", stats).group(1))
    results = []
    t0 = time.time()
    for i in range(cuts):
        cut = int((i + 0.5) * total / cuts)
        flash = os.path.join(work, "cut%d.img" % i)
        sim = Simulator(flash, seed=seed, duration=duration, cut_after_writes=cut)
        sim.start()
        sim.proc.wait(600)
        sim.stop()
        durable = [ln for ln in sim.stderr_lines if "log durable up to seq" in ln]
        r = {"cut": cut, "ok": False}
        if not durable:
            r["error"] = "no durable line: %s" % sim.stderr_lines[-2:]
            results.append(r)
            continue
        flushed = int(durable[0].split("seq ")[1].split(")")[0])
        sim2 = Simulator(flash, seed=seed, duration="2m")
        with sim2:
            sim2.wait_stopped(timeout=300)
            dev = Device(open_port(sim2.port))
            store = Store(os.path.join(work, "cut%d.db" % i))
            try:
                res = sync(dev, store, set_clock=False)
                got = [(s, t, bytes(p)) for s, t, p in store.db.execute(
                    "SELECT seq, type, payload FROM records WHERE device_id=? ORDER BY seq", (res.log_id,))]
            finally:
                dev.close()
                store.close()
        seqs = []
        for s, t, p in got:
            seqs += range(s, s + max(1, records.declared_lost(t, s, p)))
        after = [t for s, t, p in got if s > flushed and not records.declared_lost(t, s, p)]
        r.update(flushed=flushed, contiguous=seqs == list(range(1, len(seqs) + 1)),
                 durable_intact=got[:flushed] == ref[:flushed], reboot=bool(after) and after[0] == records.BOOT,
                 lost=len(seqs) - len(got) + sum(1 for s, t, p in got if records.declared_lost(t, s, p)))
        r["ok"] = r["contiguous"] and r["durable_intact"] and r["reboot"]
        results.append(r)
        if out:
            out.write("  cut at program %d: durable %d, %s\n" % (cut, flushed, "ok" if r["ok"] else "FAIL %r" % r))
            out.flush()
    return {"programs": total, "cuts": len(results), "ok": sum(r["ok"] for r in results),
            "seconds": time.time() - t0, "failures": [r for r in results if not r["ok"]][:5]}


if __name__ == "__main__":
    run(quick="--quick" in sys.argv, skip=[a.split("=", 1)[1] for a in sys.argv if a.startswith("--skip=")])
