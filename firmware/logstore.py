"""Append-only record log in segment files on the flash filesystem.

Records (records.py) are buffered in RAM and written by flush(), the only
commit point on littlefs; only flushed records are offered to the host.  A new
segment starts after every boot and at about 64 KB, named by its first seq
(`%08x.seg`).  The host's acknowledged seq (low-water mark) lives in `acked`,
replaced atomically (temp file + rename).  Reading stops at the first bad record
of a segment (a torn write after a power cut) and carries on with the next one.

Full flash.  ACK deletes synced segments at once, so whatever fills the flash is
unsynced.  Free space is checked at each flush (statvfs walks littlefs, so not
per record) against a reserve:
- below 2 x reserve, `keep_rr` turns False: minutes keep their summary, not beats;
- below the reserve, flush drops what it holds instead of writing it, and rolls
  the seqs back so none is skipped; when space returns (the host synced), a GAP
  record says how many records were lost, so nothing unsynced vanishes silently.
Both stretches are logged as GAP records.  littlefs's statvfs can report more
free blocks than exist when nearly full (a wrap-around); that reads as full.
"""
import os
import struct

import records
from compat import const

_SEG_SUFFIX = ".seg"
_PENDING_MAX = const(4096)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class RecordLog:
    def __init__(self, root, segment_bytes=65536, reserve_bytes=32768, unix_s=None):
        self.root = root
        self.dir = root + "/log"
        self.segment_bytes = segment_bytes
        self._pending = bytearray(_PENDING_MAX)
        self._plen = 0
        self._file = None
        self._seg_size = 0
        self.next_seq = 1  # seq the next append gets
        self.flushed_seq = 0  # highest seq on flash
        self.acked_seq = 0
        self.flushes = 0
        self.reserve = reserve_bytes
        self.unix_s = unix_s or (lambda: 0)  # wall clock for GAP records
        self.keep_rr = True
        self.full = False
        self.dropped = 0  # records dropped since the flash filled (not yet reported)
        self.dropped_total = 0
        self._drop_from = 0
        self._rr_from = 0  # first seq without beats, while keep_rr is False
        self._gap = bytearray(16)

    # ---- start-up -----------------------------------------------------------
    def open(self):
        if not _exists(self.root):
            os.mkdir(self.root)
        if not _exists(self.dir):
            os.mkdir(self.dir)
        self.acked_seq = self._read_acked()
        last = 0
        for first in self.segments():
            last = max(last, first - 1)
            end = self._scan_last_seq(first)
            if end > last:
                last = end
        self.flushed_seq = last
        self.next_seq = max(last, self.acked_seq) + 1
        return self

    def segments(self):
        """First seqs of the segment files, oldest first."""
        firsts = []
        for name in os.listdir(self.dir):
            if name.endswith(_SEG_SUFFIX):
                try:
                    firsts.append(int(name[: -len(_SEG_SUFFIX)], 16))
                except ValueError:
                    pass
        firsts.sort()
        return firsts

    def _seg_path(self, first):
        return "%s/%08x%s" % (self.dir, first, _SEG_SUFFIX)

    def _read_acked(self):
        try:
            with open(self.root + "/acked", "rb") as f:
                data = f.read()
            if len(data) == 8 and records.crc32(data, 0, 4) == struct.unpack("<I", data[4:])[0]:
                return struct.unpack("<I", data[:4])[0]
        except OSError:
            pass
        return 0

    def _scan_last_seq(self, first):
        last = first - 1
        for _rtype, seq, _payload in self.iter_segment(first):
            last = seq
        return last

    @staticmethod
    def _read_head(f, mv, pos, expect):
        """Reads a record header into mv[pos:]; (type, length, seq) if it is the record
        `expect`, else None (end of segment, or a torn record: the rest is not trusted)."""
        if f.readinto(mv[pos : pos + records.HEADER]) != records.HEADER:
            return None
        h = records.parse_header(mv[pos : pos + records.HEADER])
        return h if h is not None and h[2] == expect else None

    @staticmethod
    def _read_body(f, mv, pos, size):
        """Reads the rest of a record whose header is at mv[pos:]; True if its CRC holds."""
        if f.readinto(mv[pos + records.HEADER : pos + size]) != size - records.HEADER:
            return False
        return records.check(mv[pos : pos + size])

    def iter_segment(self, first):
        """Yields (type, seq, payload) of one segment; stops at the first bad record.
        The payload is a view into one buffer: valid until the next record."""
        try:
            f = open(self._seg_path(first), "rb")
        except OSError:
            return
        try:
            mv = memoryview(bytearray(records.MAX_PAYLOAD + records.OVERHEAD))
            expect = first
            while True:
                h = self._read_head(f, mv, 0, expect)
                if h is None or not self._read_body(f, mv, 0, h[1] + records.OVERHEAD):
                    return
                yield h[0], h[2], mv[records.HEADER : records.HEADER + h[1]]
                expect += 1
        finally:
            f.close()

    # ---- writing ------------------------------------------------------------
    def append(self, rtype, payload, plen):
        """Buffers one record; returns its seq.  Flushes first if the buffer is full."""
        if self._plen + plen + records.OVERHEAD > _PENDING_MAX:
            self.flush()
        seq = self.next_seq
        self._plen = records.frame(self._pending, self._plen, rtype, seq, payload, plen)
        self.next_seq = seq + 1
        return seq

    def pending_bytes(self):
        return self._plen

    def free_bytes(self):
        """Free bytes on the log's filesystem; 0 when statvfs looks wrapped around."""
        try:
            st = os.statvfs(self.root)
        except OSError:
            return 0
        bsize, blocks, bfree = st[0], st[2], st[3]
        if bfree < 0 or bfree > blocks:
            return 0
        return bsize * bfree

    def _gap_record(self, lost_from, count, reason):
        n = records.encode_gap(self._gap, self.unix_s(), lost_from, count, reason)
        self.append(records.GAP, self._gap, n)

    def _check_space(self):
        free = self.free_bytes()
        full = free < self.reserve
        keep_rr = free >= 2 * self.reserve
        # State first: a GAP append that fills the buffer re-enters flush().
        was_full, dropped = self.full, self.dropped
        self.full = full
        if keep_rr != self.keep_rr:
            self.keep_rr = keep_rr
            if keep_rr:  # space is back: say which minutes lack their beats
                self._gap_record(self._rr_from, self.next_seq - self._rr_from, records.GAP_RR_PAUSED)
            else:
                self._rr_from = self.next_seq
        if was_full and not full and dropped:
            self.dropped = 0
            self._gap_record(self._drop_from, dropped, records.GAP_FLASH_FULL)

    def flush(self):
        """Commits buffered records to flash (littlefs commits on flush only)."""
        if not self._plen:
            return
        self._check_space()
        if self.full:
            n = self.next_seq - 1 - self.flushed_seq
            if not self.dropped:
                self._drop_from = self.flushed_seq + 1
            self.dropped += n
            self.dropped_total += n
            self.next_seq = self.flushed_seq + 1
            self._plen = 0
            return
        if self._file is None or self._seg_size >= self.segment_bytes:
            self._roll()
        f = self._file
        assert f is not None
        f.write(memoryview(self._pending)[: self._plen])
        f.flush()
        self._seg_size += self._plen
        self.flushed_seq = self.next_seq - 1
        self._plen = 0
        self.flushes += 1

    def _roll(self):
        if self._file is not None:
            self._file.close()
        first = struct.unpack_from("<I", self._pending, 4)[0]
        self._file = open(self._seg_path(first), "wb")
        self._seg_size = 0

    def close(self):
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    # ---- reading for the host ----------------------------------------------
    def oldest_seq(self):
        segs = self.segments()
        return max(segs[0], self.acked_seq + 1) if segs else self.flushed_seq + 1

    def read_into(self, from_seq, buf, pos, end, limit):
        """Copies whole flushed records with seq >= from_seq into buf from pos: up to `end`,
        or one record past it if it is the first (never past `limit`).  Reads straight
        from the file into buf (no allocation per record).  Returns (records, next_seq, pos)."""
        segs = self.segments()
        start = 0
        for i, first in enumerate(segs):
            if first <= from_seq:
                start = i
        n = 0
        next_seq = from_seq
        mv = memoryview(buf)
        for first in segs[start:]:
            try:
                f = open(self._seg_path(first), "rb")
            except OSError:
                continue
            try:
                expect = first
                while pos + records.HEADER <= limit:
                    h = self._read_head(f, mv, pos, expect)
                    if h is None:
                        break
                    seq = h[2]
                    size = h[1] + records.OVERHEAD
                    if seq > self.flushed_seq or pos + size > limit or (n and pos + size > end):
                        return n, next_seq, pos
                    if not self._read_body(f, mv, pos, size):
                        break
                    expect += 1
                    if seq >= next_seq:
                        pos += size
                        n += 1
                        next_seq = seq + 1
            finally:
                f.close()
        return n, next_seq, pos

    def ack(self, upto_seq):
        """Records the host's low-water mark atomically and deletes fully synced segments."""
        upto_seq = min(upto_seq, self.flushed_seq)
        if upto_seq <= self.acked_seq:
            return self.acked_seq
        data = bytearray(8)
        struct.pack_into("<I", data, 0, upto_seq)
        struct.pack_into("<I", data, 4, records.crc32(data, 0, 4))
        tmp = self.root + "/acked.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, self.root + "/acked")
        self.acked_seq = upto_seq
        segs = self.segments()
        for i in range(len(segs) - 1):  # never the newest: it may still grow
            if segs[i + 1] - 1 <= upto_seq:
                os.remove(self._seg_path(segs[i]))
        return upto_seq
