"""`soothe sync`: handshake, set the device clock, pull new records, store, then ACK.

Resumes from the highest seq already stored for the device: records are stored
(one transaction per batch) before they are acknowledged, so a sync cut at any
point loses nothing and the next one carries on.
"""
import sys
import time
from dataclasses import dataclass, field

from .device import DeviceError
from .fw import records


@dataclass
class SyncResult:
    hello: dict
    clock_offset_ms: int = 0
    new_records: int = 0
    bytes: int = 0
    seconds: float = 0.0
    days: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    local_time: dict = field(default_factory=dict)

    def summary_line(self):
        days = ", ".join(self.days) if self.days else "none"
        gaps = "%d gap(s)" % len(self.gaps) if self.gaps else "no gaps"
        return "synced %d new record(s) from %s (%d bytes in %.1f s); days: %s; %s" % (
            self.new_records, self.hello["device_id"], self.bytes, self.seconds, days, gaps)


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


def sync(device, store, batch_bytes=8192, progress=None, set_clock=True):
    t0 = time.monotonic()
    hello = device.hello()
    fmt = ".".join(hello["version"].split(".")[:2])
    if fmt != records.FORMAT:
        # Decoding another format's records would store wrong RR intervals: touch nothing.
        raise DeviceError("device %s runs firmware %s, whose log format (%s) this host does not read "
                          "(it reads %s): update with `soothe deploy`; nothing on the device was changed"
                          % (hello["device_id"], hello["version"], fmt, records.FORMAT))
    result = SyncResult(hello=hello)
    dev_id = hello["device_id"]
    if set_clock:
        now_ms = int(time.time() * 1000)
        before = device.set_time(now_ms)
        result.clock_offset_ms = before - now_ms
        result.local_time = set_local_time(device)
    store.note_device(dev_id, hello["version"], time.time())
    stored = store.max_seq(dev_id)
    if stored > hello["acked_seq"]:
        device.ack(stored)  # stored last time but the ACK never arrived
    seq = max(stored + 1, hello["oldest_seq"])
    if stored and hello["oldest_seq"] > stored + 1:
        result.gaps.append((stored + 1, hello["oldest_seq"] - 1))
    newest = hello["newest_seq"]
    bytes_before = device.bytes_in
    first_new = None
    while seq <= newest:
        batch, next_seq, newest = device.get(seq, batch_bytes)
        if not batch:
            break
        result.new_records += store.add_batch(dev_id, batch)
        first_new = first_new if first_new is not None else batch[0][0]
        device.ack(batch[-1][0])
        seq = next_seq
        result.bytes = device.bytes_in - bytes_before
        if progress:
            progress.update(result.bytes, result.new_records, newest, seq)
    if progress:
        progress.done()
    result.bytes = device.bytes_in - bytes_before
    result.seconds = time.monotonic() - t0
    if first_new is not None:
        rows = store.db.execute(
            "SELECT DISTINCT date(unix_s, 'unixepoch', 'localtime') FROM minutes WHERE device_id=? AND seq>=? ORDER BY 1",
            (dev_id, first_new)).fetchall()
        result.days = [r[0] for r in rows]
    result.gaps += [g for g in store.gaps(dev_id) if g not in result.gaps]
    gap_events = store.db.execute("SELECT COUNT(*) FROM events WHERE device_id=? AND kind=?",
                                  (dev_id, records.TYPE_NAMES[records.GAP])).fetchone()[0]
    if gap_events:
        result.gaps.append(("device reported", gap_events))
    return result
