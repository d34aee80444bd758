"""Append-only record log in segment files on the flash filesystem.

Records (records.py) are buffered in RAM and written by flush(), the only
commit point on littlefs; only flushed records are offered to the host.  A new
segment starts after every boot and at about 64 KB, named by its first seq
(`%08x.seg`).  Small state lives in files replaced atomically (temp + rename):
- `acked`: the host's acknowledged seq (low-water mark);
- `hwm`: the highest seq ever handed to flash, written before each flush, so a
  boot never reuses a seq even when the newest records are damaged or torn;
- `epoch`: a random id made when the log is formatted; the host tells a new log
  of the same device (erased or reformatted flash) from a replay by it;
- `boot`: the boot counter, +1 at every open(); every record's header carries it with
  the clock's uptime (records.py), so the host can place a record on its boot's
  timeline even when the device never knew the date.  A damaged file is outdone by
  the highest counter in the newest segment, so a counter never repeats.

append() frames a record without its CRC; flush() seals the buffer first (a CRC-32
is a long int on a 32-bit port half the time: logging an event allocates nothing).

Damage never stops the device.  Reading skips a bad record by scanning for the
next valid frame (magic, sane length, CRC, a larger seq); an unreadable segment
(littlefs OSError 84 on a corrupted block) is skipped whole; a write that fails
rolls to a fresh segment.  Whatever seqs up to the high-water mark cannot be
read are declared to the host as GAP records (reason GAP_DAMAGED, first seq,
count) made on the fly at read time, so sync stores exactly what was lost.

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

from soothe_fw.log import records
from soothe_fw.compat import const

_SEG_SUFFIX = ".seg"
_PENDING_MAX = const(4096)
_SCAN_CHUNK = const(64)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _random_u32():
    try:
        b = os.urandom(4)
        return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) or 1
    except (AttributeError, OSError, NotImplementedError):
        import random

        return random.getrandbits(32) or 1


def _read_word(path):
    """The u32 in a small state file (value + CRC), or None if missing or damaged."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        if len(data) == 8 and records.crc32(data, 0, 4) == struct.unpack("<I", data[4:])[0]:
            return struct.unpack("<I", data[:4])[0]
    except OSError:
        pass
    return None


def _write_word(path, value, in_place=False):
    """Replaces a small state file atomically (temp file + rename); False if the flash refused.

    in_place: rewrite the file itself.  littlefs commits a file only when it is closed,
    so this is atomic there too, at one metadata commit instead of two; the CRC catches
    a file system that tears it, and the caller must survive that (read as None)."""
    data = bytearray(8)
    struct.pack_into("<I", data, 0, value)
    struct.pack_into("<I", data, 4, records.crc32(data, 0, 4))
    tmp = path if in_place else path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        if not in_place:
            os.rename(tmp, path)
        return True
    except OSError:
        return False


class RecordLog:
    def __init__(self, root, segment_bytes=65536, reserve_bytes=32768, unix_s=None, clock=None):
        self.root = root
        self.dir = root + "/log"
        self.segment_bytes = segment_bytes
        self._pending = bytearray(_PENDING_MAX)
        self._plen = 0
        self._file = None
        self._seg_size = 0
        self.next_seq = 1  # seq the next append gets
        self.flushed_seq = 0  # highest seq handed to flash (the readable ones may end sooner)
        self.acked_seq = 0
        self.epoch = 0
        self._hwm_saved = 0
        self.flushes = 0
        self.write_errors = 0  # flushes the flash refused (a fresh segment was tried)
        self.reserve = reserve_bytes
        self.unix_s = unix_s or (lambda: 0)  # wall clock for GAP records
        self.clock = clock  # clock.Clock: the uptime in each record's header (None: 0)
        self.boot = 0  # this boot's counter (open())
        self.keep_rr = True
        self.full = False
        self.dropped = 0  # records dropped since the flash filled (not yet reported)
        self.dropped_total = 0
        self._drop_from = 0
        self._rr_from = 0  # first seq without beats, while keep_rr is False
        self._gap = bytearray(16)
        # Reading allocates nothing: records are read into the caller's buffer (a GET reads
        # straight into the wire frame), the boot scan into the still empty pending buffer.

    # ---- start-up -----------------------------------------------------------
    def open(self):
        """Finds where the log stands; never fails on damage (the device must still measure)."""
        for path in (self.root, self.dir):
            if not _exists(path):
                try:
                    os.mkdir(path)
                except OSError:
                    pass
        if not self._listable():
            # The folder's own metadata is damaged: log into a fresh one beside it.
            n = 1
            while _exists("%s/log%d" % (self.root, n)) and n < 9:
                n += 1
            self.dir = "%s/log%d" % (self.root, n)
            try:
                os.mkdir(self.dir)
            except OSError:
                pass
        self.acked_seq = _read_word(self.root + "/acked") or 0
        hwm = _read_word(self.root + "/hwm") or 0
        # Two copies, written once at format: one damaged block must not start a new log.
        epoch = _read_word(self.root + "/epoch")
        if epoch is None:
            epoch = _read_word(self.root + "/epoch.2")
        if epoch is None:
            epoch = _random_u32()
            _write_word(self.root + "/epoch", epoch)
            _write_word(self.root + "/epoch.2", epoch)
        self.epoch = epoch
        last = max(hwm, self.acked_seq)
        segs = self.segments()
        # The pending buffer is empty until the first append: the boot scan reads into it.
        scratch = memoryview(self._pending if not self._plen else bytearray(records.MAX_PAYLOAD + records.OVERHEAD))
        boot = _read_word(self.root + "/boot") or 0
        if segs:
            last = max(last, segs[-1] - 1)
            for _rtype, seq, _size in self._valid(segs[-1], scratch, [0], len(scratch)):
                if seq > last:
                    last = seq
                b = struct.unpack_from("<H", scratch, 8)[0]
                if b > boot:
                    boot = b
            if not hwm:  # no high-water mark (older firmware, or damaged): every segment counts
                for first in segs[:-1]:
                    for _rtype, seq, _size in self._valid(first, scratch, [0], len(scratch)):
                        if seq > last:
                            last = seq
        self.flushed_seq = last
        self._hwm_saved = hwm
        self.next_seq = last + 1
        self.boot = boot % 0xFFFF + 1  # u16 in the header, never 0 (0: no time)
        _write_word(self.root + "/boot", self.boot)
        return self

    def _listable(self):
        try:
            os.listdir(self.dir)
            return True
        except OSError:
            return False

    def segments(self):
        """First seqs of the segment files, oldest first."""
        firsts = []  # type: list[int]
        try:
            names = os.listdir(self.dir)
        except OSError:
            return firsts
        for name in names:
            if name.endswith(_SEG_SUFFIX):
                try:
                    firsts.append(int(name[: -len(_SEG_SUFFIX)], 16))
                except ValueError:
                    pass
        firsts.sort()
        return firsts

    def _seg_path(self, first):
        return "%s/%08x%s" % (self.dir, first, _SEG_SUFFIX)

    @staticmethod
    def _try_record(f, off, size, mv, pos, limit):
        """Reads the record at file offset off into mv[pos:]; its length if intact, 0 if not,
        -1 if it does not fit before limit."""
        f.seek(off)
        h_end = pos + records.HEADER
        if off + records.OVERHEAD > size or f.readinto(mv[pos:h_end]) != records.HEADER:
            return 0
        h = records.parse_header(mv[pos:h_end])
        if h is None:
            return 0
        n = h[1] + records.OVERHEAD
        if off + n > size:
            return 0
        if pos + n > limit:
            return -1
        if f.readinto(mv[h_end : pos + n]) != n - records.HEADER:
            return 0
        return n if records.check(mv[pos : pos + n]) else 0

    @staticmethod
    def _next_magic(f, off, size, scan):
        """File offset of the next magic byte at or after off (size when none)."""
        while off < size:
            f.seek(off)
            got = f.readinto(scan)
            if not got:
                return size
            for i in range(got):
                if scan[i] == records.MAGIC:
                    return off + i
            off += got
        return size

    def _valid(self, first, mv, at, limit):
        """Yields (type, seq, length) of each intact record of one segment, each read into
        mv[at[0]:] (the caller may move at[0] on between records: a GET keeps what it took);
        (-1, 0, length) when the next record does not fit before limit.  A bad record is
        skipped by scanning (through the same room) for the next valid frame with a larger
        seq; an unreadable file ends the segment."""
        path = self._seg_path(first)
        try:
            size = os.stat(path)[6]
            f = open(path, "rb")
        except OSError:
            return
        last = first - 1
        off = 0
        try:
            while off + records.OVERHEAD <= size:
                pos = at[0]
                try:
                    n = self._try_record(f, off, size, mv, pos, limit)
                    if n < 0:
                        yield -1, 0, 0
                        return
                    if n:
                        seq = struct.unpack_from("<I", mv, pos + 4)[0]
                        if seq > last:
                            last = seq
                            yield mv[pos + 1], seq, n
                            off += n
                            continue
                    off = self._next_magic(f, off + 1, size, mv[pos : min(limit, pos + _SCAN_CHUNK)])
                except OSError:
                    return  # a corrupted block: what follows in this file is unreadable
        finally:
            f.close()

    def iter_segment(self, first):
        """Yields (type, seq, payload) of one segment's intact records, skipping damaged ones.
        The payload is a view into one buffer: valid until the next record (host and tests)."""
        mv = memoryview(bytearray(records.MAX_PAYLOAD + records.OVERHEAD))
        for rtype, seq, n in self._valid(first, mv, [0], len(mv)):
            yield rtype, seq, mv[records.HEADER : n - records.TRAILER]

    # ---- writing ------------------------------------------------------------
    def append(self, rtype, payload, plen, up_s=-1, up_ms=0):
        """Buffers one record stamped with this boot and the uptime up_s + up_ms (the
        record's own time: clock.at(); up_s < 0: now); returns its seq.  Flushes first
        if the buffer is full.  Allocates nothing (the CRC comes at flush)."""
        if self._plen + plen + records.OVERHEAD > _PENDING_MAX:
            self.flush()
        if up_s < 0:
            clock = self.clock
            up_s = up_ms = 0
            if clock is not None:
                clock.now()
                up_s = clock.up_s
                up_ms = clock.up_ms
        seq = self.next_seq
        self._plen = records.frame(self._pending, self._plen, rtype, seq, payload, plen,
                                   self.boot, up_s, up_ms, False)
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
        """Commits buffered records to flash (littlefs commits on flush only).

        The high-water mark goes first, so the seqs of a flush that a power cut tears
        are never handed out again; they read as a declared gap instead."""
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
        records.seal(self._pending, 0, self._plen)
        upto = self.next_seq - 1
        if upto > self._hwm_saved and _write_word(self.root + "/hwm", upto, True):
            self._hwm_saved = upto
        for _attempt in range(2):
            try:
                if self._file is None or self._seg_size >= self.segment_bytes:
                    self._roll()
                f = self._file
                assert f is not None
                f.write(memoryview(self._pending)[: self._plen])
                f.flush()
                self._seg_size += self._plen
                break
            except OSError:
                # A damaged block under the open segment: go on in a fresh one.  What the
                # failed write left is skipped by the reader, and unread seqs become a gap.
                self.write_errors += 1
                self._close_file()
        self.flushed_seq = upto
        self._plen = 0
        self.flushes += 1

    def _close_file(self):
        f, self._file = self._file, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass

    def _roll(self):
        # Named by the first pending seq.  A file of that name can only hold a torn copy
        # of these same records (a failed try of this flush, or one a power cut tore
        # before any of it was readable), so truncating it loses nothing.
        self._close_file()
        first = struct.unpack_from("<I", self._pending, 4)[0]
        self._file = open(self._seg_path(first), "wb")
        self._seg_size = 0

    def close(self):
        self.flush()
        self._close_file()

    # ---- reading for the host ----------------------------------------------
    def oldest_seq(self):
        segs = self.segments()
        return max(segs[0], self.acked_seq + 1) if segs else self.flushed_seq + 1

    def _put_gap(self, mv, pos, first, count):
        """Frames a GAP record declaring seqs first .. first+count-1 lost on flash; it carries
        the seq `first` itself (that seq's record is gone), so the host's run stays contiguous."""
        n = records.encode_gap(self._gap, 0, first, count, records.GAP_DAMAGED)
        return records.frame(mv, pos, records.GAP, first, self._gap, n)

    def read_into(self, from_seq, buf, pos, end, limit):
        """Reads whole flushed records with seq >= from_seq into buf from pos: up to `end`,
        or one record past it if it is the first (never past `limit`), straight from the file
        (no allocation per record).  Seqs that cannot be read (damage, a torn flush) come as
        one GAP_DAMAGED record per run, so the records in buf always continue from from_seq
        without a hole.  Returns (records, next_seq, pos)."""
        next_seq = max(from_seq, self.acked_seq + 1)
        n = 0
        mv = memoryview(buf)
        gap_size = records.OVERHEAD + 13
        segs = self.segments()
        start = 0
        for i, first in enumerate(segs):
            if first <= next_seq:
                start = i
        at = [pos]
        for first in segs[start:]:
            if pos + records.OVERHEAD > limit:
                return n, next_seq, pos
            it = self._valid(first, mv, at, limit)
            try:
                for rtype, seq, size in it:
                    if rtype < 0 or seq > self.flushed_seq:
                        return n, next_seq, pos
                    if seq < next_seq:
                        continue
                    hole = seq > next_seq
                    need = size + (gap_size if hole else 0)
                    if pos + need > limit or (n and pos + need > end):
                        return n, next_seq, pos
                    if hole:  # declare the lost seqs before the record that follows them
                        for i in range(size - 1, -1, -1):  # move the record up (damage only: rare)
                            buf[pos + gap_size + i] = buf[pos + i]
                        pos = self._put_gap(mv, pos, next_seq, seq - next_seq)
                        n += 1
                    pos += size
                    n += 1
                    next_seq = seq + 1
                    if pos + records.OVERHEAD > limit:
                        return n, next_seq, pos
                    at[0] = pos  # the next record is read in after this one
            finally:
                it.close()
        if next_seq <= self.flushed_seq and pos + gap_size <= limit and not (n and pos + gap_size > end):
            # The newest seqs were handed to flash but cannot be read back.
            pos = self._put_gap(mv, pos, next_seq, self.flushed_seq + 1 - next_seq)
            n += 1
            next_seq = self.flushed_seq + 1
        return n, next_seq, pos

    def ack(self, upto_seq):
        """Records the host's low-water mark atomically and deletes fully synced segments."""
        upto_seq = min(upto_seq, self.flushed_seq)
        if upto_seq <= self.acked_seq:
            return self.acked_seq
        if not _write_word(self.root + "/acked", upto_seq):
            return self.acked_seq
        self.acked_seq = upto_seq
        segs = self.segments()
        for i in range(len(segs) - 1):  # never the newest: it may still grow
            if segs[i + 1] - 1 <= upto_seq:
                try:
                    os.remove(self._seg_path(segs[i]))
                except OSError:
                    pass  # a damaged file that cannot be removed stays quarantined
        return upto_seq
