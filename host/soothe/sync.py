"""`soothe sync`: handshake, set the device clock, pull new records, store, then ACK.

Resumes from the highest seq already stored for the device: records are stored
(one transaction per batch) before they are acknowledged, so a sync cut at any
point loses nothing and the next one carries on.

Only a run contiguous from the asked seq is stored (device.get_partial); the
good prefix of an answer cut by a line error is stored and acknowledged.  The
batch size adapts to the line as XMODEM-1K/ZMODEM do: halved after an error
(down to one record per frame), doubled after each clean answer.  A log whose
epoch is new for the device (erased or reformatted flash) is stored as its own
log (store.log_id).
"""
import sys
import time
from dataclasses import dataclass, field

from . import dating
from .device import DeviceError
from soothe_fw.log import records


@dataclass
class SyncResult:
    hello: dict
    clock_offset_ms: int = 0
    new_records: int = 0
    bytes: int = 0
    seconds: float = 0.0
    days: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    log_id: str = ""
    lost: list = field(default_factory=list)  # [(first_seq, count, reason)] the device declared
    line_errors: int = 0
    undated_minutes: int = 0  # from boots that never met a host: kept, shown as undated, never as 1970
    batch_bytes: int = 0
    local_time: dict = field(default_factory=dict)
    boots: list = field(default_factory=list)  # dating.place rows of the log
    placed_minutes: int = 0  # dated by their neighbours (boots that never met a host)
    placed_bound_s: int = 0  # the widest bound among them

    def undated_why(self):
        """Why the undated boots stay undated (newest reasons first, at most two)."""
        out = []
        for b in reversed(self.boots):
            if b[4] == "undated" and b[7] and b[7] not in out:
                out.append(b[7])
        return out[:2]

    def summary_line(self):
        days = ", ".join(self.days) if self.days else "none"
        gaps = "%d gap(s)" % len(self.gaps) if self.gaps else "no gaps"
        lost = ""
        if self.lost:
            lost = "; device lost %d record(s) on flash (seqs %s)" % (
                sum(n for _, n, _ in self.lost),
                ", ".join("%d-%d" % (s, s + n - 1) if n > 1 else str(s) for s, n, _ in self.lost[:5]))
        log = "" if self.log_id in ("", self.hello["device_id"]) else " (new log %s)" % self.log_id
        undated = ""
        if self.placed_minutes:
            undated = "; %d minute(s) dated by their neighbours (within %d s)" % (
                self.placed_minutes, self.placed_bound_s)
        if self.undated_minutes:
            why = self.undated_why()
            undated += "; %d undated minute(s) (a boot that never met a host%s)" % (
                self.undated_minutes, ": " + "; ".join(why) if why else "")
        from .query import zone_label

        # Two lines, each under 80 columns when nothing was lost; days are local days, zone named.
        return "synced %d new record(s) from %s%s (%d bytes in %.1f s)\ndays (local time, %s): %s; %s%s%s" % (
            self.new_records, self.hello["device_id"], log, self.bytes, self.seconds, zone_label(), days, gaps,
            lost, undated)


class Progress:
    """One self-updating line on stderr: bytes, records and rate."""

    def __init__(self, stream=None, enabled=True):
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.t0 = time.monotonic()

    def update(self, nbytes, nrecords, newest_seq, seq):
        if not self.enabled:
            return
        dt = max(time.monotonic() - self.t0, 1e-6)
        total = max(newest_seq, 1)
        done = min(seq, total)
        width = 24
        filled = int(width * done / total)
        self.stream.write("\r[%s%s] %d records, %d bytes, %.1f kB/s" % (
            "#" * filled, "." * (width - filled), nrecords, nbytes, nbytes / dt / 1000))
        self.stream.flush()

    def done(self):
        if self.enabled:
            self.stream.write("\n")


MIN_BATCH = 256  # one record per DATA frame at most; a frame this size survives 1e-3 errors/byte 3 times in 4
MAX_FAILURES = 12  # answers in a row that brought nothing: give up this run (the next one resumes)


def local_time_settings(now_s=None, horizon_days=400):
    """The device settings for the host's time zone: {utc_offset_min, dst_next_s, dst_offset_min}.

    The next daylight-saving change is found by stepping the host's own zone rules
    (time.localtime) hour by hour, then to the second; dst_next_s is 0 when the zone
    has no change within horizon_days."""
    now_s = int(time.time() if now_s is None else now_s)

    def offset_min(t):
        return time.localtime(t).tm_gmtoff // 60

    here = offset_min(now_s)
    t = now_s
    end = now_s + horizon_days * 86400
    while t < end and offset_min(t + 3600) == here:
        t += 3600
    if t >= end:
        return {"utc_offset_min": here, "dst_next_s": 0, "dst_offset_min": here}
    lo, hi = t, t + 3600  # offset(lo) == here != offset(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if offset_min(mid) == here:
            lo = mid
        else:
            hi = mid
    return {"utc_offset_min": here, "dst_next_s": hi, "dst_offset_min": offset_min(hi)}


def set_local_time(device, now_s=None):
    """Quiet hours and day boundaries on the device follow the host's local time."""
    values = local_time_settings(now_s)
    for key in ("utc_offset_min", "dst_next_s", "dst_offset_min"):
        try:
            if int(device.config(key)[1]) != values[key]:  # unchanged: no flash write, no event
                device.config(key, values[key])
        except DeviceError:
            if key == "utc_offset_min":
                raise
            break  # firmware from before the daylight-saving keys: the offset alone
    return values


def sync(device, store, batch_bytes=8192, progress=None, set_clock=True, host_clock=None):
    """host_clock: the host's time in s (time.time; a test's own timeline for a simulated device)."""
    t0 = time.monotonic()
    hello = device.hello()
    fmt = ".".join(hello["version"].split(".")[:2])
    if fmt != records.FORMAT:
        # Decoding another format's records would store wrong RR intervals: touch nothing.
        raise DeviceError("device %s runs firmware %s, whose log format (%s) this host does not read "
                          "(it reads %s): update with `soothe deploy`; nothing on the device was changed"
                          % (hello["device_id"], hello["version"], fmt, records.FORMAT))
    result = SyncResult(hello=hello)
    dev_id = store.log_id(hello["device_id"], hello.get("epoch", 0))
    result.log_id = dev_id
    if set_clock:
        now_s = (host_clock or time.time)()
        now_ms = int(now_s * 1000)
        before = device.set_time(now_ms)
        result.clock_offset_ms = before - now_ms
        result.local_time = set_local_time(device, now_s)
    store.note_device(dev_id, hello["version"], time.time())
    stored = store.max_seq(dev_id)
    if hello["acked_seq"] < stored <= hello["newest_seq"]:
        device.ack(stored)  # stored last time but the ACK never arrived
    seq = max(stored + 1, hello["oldest_seq"])
    if stored and hello["oldest_seq"] > stored + 1:
        result.gaps.append((stored + 1, hello["oldest_seq"] - 1))
    newest = hello["newest_seq"]
    bytes_before = device.bytes_in
    first_new = None
    size = max(MIN_BATCH, min(batch_bytes, 65535))
    failures = 0
    while seq <= newest:
        batch, next_seq, newest_now, error = device.get_partial(seq, size)
        newest = max(newest, newest_now)
        if batch:
            result.new_records += store.add_batch(dev_id, batch)
            first_new = first_new if first_new is not None else batch[0][0]
            device.ack(next_seq - 1)  # the good prefix, even of an answer cut short
            seq = next_seq
            failures = 0
        if error is not None:
            result.line_errors += 1
            size = max(MIN_BATCH, size // 2)
            if not batch:
                failures += 1
                if failures >= MAX_FAILURES:
                    raise DeviceError("the line to the device is too noisy (%d answers in a row lost, last: %s); "
                                      "%d new record(s) stored" % (failures, error, result.new_records))
        else:
            size = min(batch_bytes, size * 2)
            if not batch:
                break
        result.bytes = device.bytes_in - bytes_before
        if progress:
            progress.update(result.bytes, result.new_records, newest, seq)
    result.batch_bytes = size
    if set_clock and not hello["clock_set"]:
        # This boot's clock was unset until now: date what it logged with the offset just applied
        # (the device's time_set event says the same when it arrives with the next sync).
        boot = store.last_seq_of_type(dev_id, records.BOOT)
        with store.db:
            store.redate(dev_id, boot, 1 << 62, -result.clock_offset_ms)
    # Boots that never met a host, placed by their neighbours where that is proven.
    result.boots = dating.place(store, dev_id)
    result.placed_minutes, result.placed_bound_s = dating.placed_minutes(store.db, dev_id)
    result.undated_minutes = store.undated_minutes(dev_id)
    if progress:
        progress.done()
    result.bytes = device.bytes_in - bytes_before
    result.seconds = time.monotonic() - t0
    if first_new is not None:
        result.days = store.dated_days_from(dev_id, first_new)
    result.gaps += [g for g in store.gaps(dev_id) if g not in result.gaps]
    result.lost = store.lost(dev_id)
    gap_events = store.event_count(dev_id, records.TYPE_NAMES[records.GAP]) - len(result.lost)
    if gap_events:
        result.gaps.append(("device reported", gap_events))
    return result
