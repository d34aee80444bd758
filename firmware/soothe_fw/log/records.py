"""Log record format: the one definition the device writes and the host decodes.

Record frame on flash (little-endian):

    off  size  field
    0    1     magic 0xA5
    1    1     type (BOOT, MINUTE, EVENT, GAP, SESSION, ...)
    2    2     payload length n
    4    4     seq: +1 per record, never reused, survives reboots
    8    2     boot: the log's boot counter (+1 per boot, kept on flash); 0 = no time
               (a GAP the log declares at read time for records it cannot read)
    10   2     up_ms: milliseconds (0..999) of ...
    12   4     up_s: ... the uptime of this boot at the record's own time (a MINUTE's
               start, an EVENT's moment; else when it was logged)
    16   n     payload
    16+n 4     CRC-32 (binascii.crc32) over bytes 1 .. 16+n

Every record, of any type, can so be placed on its boot's timeline without a wall
clock: the host dates a boot from the mapping a sync gave it (EV_TIME_SET: wall time
at an uptime), or by its neighbours when it never met a host (host/soothe/dating.py).
The payloads' own unix_s fields are the device clock's reading (uptime-based while
the clock is unset).

MINUTE payload (one per minute of wearing, RR and summary together so the
12-byte frame overhead is paid once a minute):

    u32 unix_s   start of the minute (device clock)
    u8  state    0 no-reading, 1 threat, 2 drive, 3 soothe, 4 unclassified, 5 balanced, 6 learning
    u8  quality  OK beats in the minute, percent
    u16 hr_bpm_x100, rmssd_ms_x10, sdnn_ms_x10 (60 s window)
    u16 coherence_x100, resonance_mhz (64 s window)
    u16 first_ms offset of the first beat after unix_s
    u8 count (<= 240); u8 k; RR bit stream (MSB first, padded to a byte):
      first rr_ms in 16 bits, then Rice(k) of zigzag(rr - previous rr)
      (see MinuteBuilder; q >= 15 escapes to the raw 17-bit value)
    u8  nflags; nflags x (varint beat index, u8 flag)   (beats.FLAG_NAMES)
      flag GAP_MARK (255): not a beat but the time that passed between two logged
      beats with upstrokes left out (no pulse claimed them); its "rr" moves the
      time base on, so the beats after it keep their times (MinuteBuilder.gap)
BOOT payload: u32 unix_s, u8 clock_set, str version, str board   (str = u8 len + utf-8)
EVENT payload: u32 unix_s, u16 ms, u8 kind, u8 len, bytes
GAP payload: u32 unix_s, u32 lost_from_seq, u32 count, u8 reason
SESSION payload: see _SESSION_FMT below (a practice with the minute before, during, after)
MARK payload (issue 19: a double press, "I noticed my inner critic / a threat moment"),
written 60 s after the press, or earlier when a practice starts or the device stops
(then `after` covers less than a minute):

    u32 unix_s, u16 ms   time of the double press (the same time fields as EVENT)
    u8  state_at_mark    STATE_NAMES code at the press
    2 x (u16 hr_bpm_x100, u16 rmssd_ms_x10, u8 state, u8 ok_pct)   60 s before, 60 s after
      hr/rmssd 0xFFFF (NO_EVIDENCE): off-wrist or too few OK beats, never a made-up number;
      state: the one shown most in that span; ok_pct: OK beats among all beats there
"""
import binascii
import struct

from soothe_fw.compat import const

# Firmware version; its major.minor names the record format.  0.2: Rice-coded MINUTE
# RR (0.1 used varints).  0.3: GAP_DAMAGED records declared at read time, a log epoch
# and a session nonce on the wire.  0.4: every record carries its boot counter and
# uptime (header above); a MINUTE's first_ms counts from its unix_s, as documented (0.3
# counted from the minute's tick: beats read up to 1 s early); MARK records, and a
# SESSION's trailing practice byte (issue 19).  A host syncs only the format it was built
# with; payloads of 0.3 already in its database still decode.
FIRMWARE_VERSION = "0.4.0"
FORMAT = "0.4"

MAGIC = const(0xA5)
HEADER = const(16)
TRAILER = const(4)
OVERHEAD = const(20)
HEADER_03 = 8  # a 0.3 record's header (magic, type, length, seq): no time fields
MAX_PAYLOAD = const(900)  # one record always fits one wire frame

BOOT = const(1)
MINUTE = const(2)
EVENT = const(3)
GAP = const(4)
SESSION = const(5)
MARK = const(6)
TYPE_NAMES = {BOOT: "boot", MINUTE: "minute", EVENT: "event", GAP: "gap", SESSION: "session", MARK: "mark"}

# EVENT kinds
EV_CONTACT_LOST = const(1)
EV_CONTACT_BACK = const(2)
EV_STATE = const(3)
EV_TIME_SET = const(4)
EV_CONFIG = const(5)
EV_TASK_ERROR = const(6)
EV_BUTTON = const(7)
EV_PROMPT = const(8)  # data: b"offered" / b"offered-mark" / b"accepted" / b"snoozed" / b"ignored"
# data: b"start manual|prompted|finder|mark" / b"practice <name>" (its first cue) / b"stop" / b"abort"
EV_SESSION = const(9)
EV_FINDER = const(10)  # data: b"rate=55 score=..." per step, b"best=55" at the end
EV_MARK = const(11)  # data: b"mark", at the double press (its MARK record follows)
EVENT_NAMES = {
    EV_CONTACT_LOST: "contact_lost",
    EV_CONTACT_BACK: "contact_back",
    EV_STATE: "state",
    EV_TIME_SET: "time_set",
    EV_CONFIG: "config",
    EV_TASK_ERROR: "task_error",
    EV_BUTTON: "button",
    EV_PROMPT: "prompt",
    EV_SESSION: "session",
    EV_FINDER: "finder",
    EV_MARK: "mark",
}

# 4 = pulse present but no state stage yet: shown as such, never as a guessed state
# 5 = reading fine, no state evidenced; 6 = the same while the baseline is still learnt (issue 14)
STATE_NAMES = ("no-reading", "threat", "drive", "soothe", "unclassified", "balanced", "learning")

_MINUTE_HEAD = "<IBBHHHHHH"
MINUTE_HEAD_LEN = const(18)


def crc32(data, start=0, end=-1):
    if end < 0:
        end = len(data)
    return binascii.crc32(memoryview(data)[start:end]) & 0xFFFFFFFF


def frame(buf, pos, rtype, seq, payload, plen, boot=0, up_s=0, up_ms=0, seal=True):
    """Writes one record into bytearray buf at pos; returns the new end position.

    The payload is copied byte by byte (a memoryview slice would be a heap object per
    record).  seal=False leaves the CRC to seal() (the log seals its buffer at flush: a
    CRC-32 past 2**30 is a long int on a 32-bit port, and an event must not allocate)."""
    buf[pos] = MAGIC
    buf[pos + 1] = rtype
    struct.pack_into("<HIHHI", buf, pos + 2, plen, seq, boot, up_ms, up_s)
    h = pos + HEADER
    for i in range(plen):
        buf[h + i] = payload[i]
    end = h + plen
    if seal:
        struct.pack_into("<I", buf, end, crc32(buf, pos + 1, end))
    return end + TRAILER


def seal(buf, pos, end):
    """Writes the CRCs of the records framed unsealed in buf[pos:end]."""
    while pos + OVERHEAD <= end:
        plen = struct.unpack_from("<H", buf, pos + 2)[0]
        e = pos + HEADER + plen
        struct.pack_into("<I", buf, e, crc32(buf, pos + 1, e))
        pos = e + TRAILER


def header_time(head):
    """(boot, uptime in ms) of a framed record (host side: the ms may be a long int)."""
    boot, up_ms, up_s = struct.unpack_from("<HHI", head, 8)
    return boot, up_s * 1000 + up_ms


def parse_header(head):
    """(type, length, seq) from 8 header bytes, or None if the magic is wrong."""
    if len(head) < HEADER or head[0] != MAGIC:
        return None
    plen, seq = struct.unpack_from("<HI", head, 2)
    if plen > MAX_PAYLOAD:
        return None
    return head[1], plen, seq


def check(record):
    """True when a whole framed record (header+payload+crc) is intact."""
    n = len(record)
    if n < OVERHEAD or record[0] != MAGIC:
        return False
    plen = struct.unpack_from("<H", record, 2)[0]
    if plen + OVERHEAD != n:
        return False
    return struct.unpack_from("<I", record, n - 4)[0] == crc32(record, 1, n - 4)


def iter_records(blob):
    """Yields (type, seq, payload memoryview) over concatenated records; stops at the first bad one."""
    for rtype, seq, payload, _boot, _up in iter_framed(blob):
        yield rtype, seq, payload


def iter_framed(blob):
    """Yields (type, seq, payload memoryview, boot, uptime_ms) over concatenated records
    (the host's DATA parsing); stops at the first bad one."""
    pos = 0
    n = len(blob)
    mv = memoryview(blob)
    while pos + OVERHEAD <= n:
        h = parse_header(mv[pos : pos + HEADER])
        if h is None:
            return
        rtype, plen, seq = h
        end = pos + OVERHEAD + plen
        if end > n or not check(mv[pos:end]):
            return
        boot, up = header_time(mv[pos : pos + HEADER])
        yield rtype, seq, mv[pos + HEADER : pos + HEADER + plen], boot, up
        pos = end


# ---- varint / zigzag, written into pre-allocated buffers -------------------
def put_varint(buf, pos, value):
    while value >= 0x80:
        buf[pos] = (value & 0x7F) | 0x80
        value >>= 7
        pos += 1
    buf[pos] = value
    return pos + 1


def get_varint(buf, pos):
    shift = 0
    value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def zigzag(v):
    return (v << 1) if v >= 0 else ((-v << 1) - 1)


def unzigzag(u):
    return (u >> 1) if not (u & 1) else -((u + 1) >> 1)


def put_str(buf, pos, text):
    data = text.encode()
    buf[pos] = len(data)
    buf[pos + 1 : pos + 1 + len(data)] = data
    return pos + 1 + len(data)


def get_str(buf, pos):
    n = buf[pos]
    return bytes(buf[pos + 1 : pos + 1 + n]).decode(), pos + 1 + n


GAP_MARK = const(255)  # a MINUTE entry that is no beat (see the table above)
_RICE_ESCAPE = const(15)  # this many 1 bits: the raw 17-bit zigzag value follows


class MinuteBuilder:
    """Accumulates one minute of beats into a pre-allocated payload (no allocation per beat).

    RR intervals are Rice-coded: the first raw in 16 bits, then zigzag(rr - previous)
    as q = u >> k ones, a 0, and the k low bits (q >= 15: 15 ones and u in 17 bits).
    k adapts once a minute to the previous minute's mean |delta|, so a calm wearer
    costs about 7 bits a beat and a high-HRV one about 8.  The bit accumulator never
    holds more than 24 bits, a small int on the ESP32 (30 bits).
    """

    MAX_BEATS = 240  # 220 bpm fits
    _RR_START = MINUTE_HEAD_LEN + 2  # head, u8 count, u8 k

    def __init__(self):
        self.buf = bytearray(MAX_PAYLOAD)
        # Every beat may be flagged (a minute of walking is all MOTION): a flag
        # that did not fit would decode as an OK beat.
        self.flags = bytearray(2 * self.MAX_BEATS)
        self.k = 5
        self._sum_u = 0
        self._n_u = 0
        self.reset(0)

    def reset(self, unix_s, start_ms=0):
        """A new minute starting at unix_s + start_ms (ms 0..999): beat offsets given to
        add() count from that start; the record's first_ms counts from unix_s."""
        if self._n_u:
            mean = self._sum_u // self._n_u
            k = 0
            while mean > 1 and k < 12:  # k = bit length of the mean - 1
                mean >>= 1
                k += 1
            self.k = k
        self._sum_u = 0
        self._n_u = 0
        self.unix_s = unix_s
        self.start_ms = start_ms
        self.count = 0
        self.first_ms = 0
        self.prev_rr = 0
        self.nflags = 0
        self.ok = 0
        self.gaps = 0
        self._pos = self._RR_START  # next whole byte of the bit stream
        self._acc = 0
        self._nbits = 0

    def _put(self, value, n):
        acc = (self._acc << n) | value
        nbits = self._nbits + n
        buf = self.buf
        pos = self._pos
        while nbits >= 8:
            nbits -= 8
            buf[pos] = (acc >> nbits) & 0xFF
            pos += 1
        self._acc = acc & ((1 << nbits) - 1)
        self._nbits = nbits
        self._pos = pos

    def add(self, offset_ms, rr_ms, flag):
        # Room for this beat (<= 33 bits), the flags so far and its own (<= 3 bytes each).
        if self.count >= self.MAX_BEATS or self._pos + 3 * self.nflags + 12 > MAX_PAYLOAD:
            return False
        if rr_ms > 65535:
            rr_ms = 65535
        if self.count == 0:
            offset_ms += self.start_ms
            self.first_ms = 0 if offset_ms < 0 else (offset_ms if offset_ms < 65535 else 65535)
            self._put(rr_ms, 16)
        else:
            u = zigzag(rr_ms - self.prev_rr)
            self._sum_u += u
            self._n_u += 1
            k = self.k
            q = u >> k
            if q < _RICE_ESCAPE:
                self._put(((1 << q) - 1) << 1, q + 1)
                self._put(u & ((1 << k) - 1), k)
            else:
                self._put((1 << _RICE_ESCAPE) - 1, _RICE_ESCAPE)
                self._put(u, 17)
        self.prev_rr = rr_ms
        if flag:
            self.flags[2 * self.nflags] = self.count
            self.flags[2 * self.nflags + 1] = flag
            self.nflags += 1
        else:
            self.ok += 1
        self.count += 1
        return True

    def gap(self, gap_ms):
        """gap_ms passed between the last beat's time plus the next one's RR and the
        next one's time: beats were left out (the detector drops upstrokes no pulse
        claimed).  Beat times are rebuilt from the RRs, so without this entry every
        later beat of the minute would read gap_ms early.  False when full."""
        if not self.add(0, gap_ms, GAP_MARK):
            return False
        self.gaps += 1
        return True

    def finish(self, state, hr_x100, rmssd_x10, sdnn_x10, coh_x100, res_mhz, keep_rr=True):
        """Packs the head and flags; returns the payload length (payload is self.buf).

        keep_rr=False (flash nearly full) keeps the summary and drops the beats."""
        beats = self.count - self.gaps
        quality = (self.ok * 100) // beats if beats > 0 else 0
        if not keep_rr:
            self.count = 0
            self.nflags = 0
            self._pos = self._RR_START
            self._nbits = 0
        struct.pack_into(
            _MINUTE_HEAD, self.buf, 0, self.unix_s, state, quality,
            min(hr_x100, 65535), min(rmssd_x10, 65535), min(sdnn_x10, 65535),
            min(coh_x100, 65535), min(res_mhz, 65535), self.first_ms,
        )
        self.buf[MINUTE_HEAD_LEN] = self.count  # <= MAX_BEATS
        self.buf[MINUTE_HEAD_LEN + 1] = self.k
        if self._nbits:  # pad the last byte of the bit stream with zeros
            self._put(0, 8 - self._nbits)
        pos = self._pos
        self.buf[pos] = self.nflags
        pos += 1
        for i in range(self.nflags):
            pos = put_varint(self.buf, pos, self.flags[2 * i])
            self.buf[pos] = self.flags[2 * i + 1]
            pos += 1
        return pos


class _Bits:
    """MSB-first bit reader over a payload (host side and tests; not on the hot path)."""

    def __init__(self, data, pos):
        self.data = data
        self.bit = pos * 8

    def read(self, n):
        v = 0
        for _ in range(n):
            byte = self.data[self.bit >> 3]
            v = (v << 1) | ((byte >> (7 - (self.bit & 7))) & 1)
            self.bit += 1
        return v

    def byte_pos(self):
        return (self.bit + 7) >> 3


def decode_minute(payload):
    """dict with the summary and the beats [(t_ms_from_unix_s, rr_ms, flag)] of a MINUTE payload."""
    (unix_s, state, quality, hr, rmssd, sdnn, coh, res, first_ms) = struct.unpack_from(_MINUTE_HEAD, payload, 0)
    count = payload[MINUTE_HEAD_LEN]
    k = payload[MINUTE_HEAD_LEN + 1]
    bits = _Bits(payload, MINUTE_HEAD_LEN + 2)
    rrs = []
    prev = 0
    for i in range(count):
        if i == 0:
            prev = bits.read(16)
        else:
            q = 0
            while q < _RICE_ESCAPE and bits.read(1):
                q += 1
            u = bits.read(17) if q == _RICE_ESCAPE else (q << k) | bits.read(k)
            prev += unzigzag(u)
        rrs.append(prev)
    pos = bits.byte_pos()
    nflags = payload[pos]
    pos += 1
    flags = [0] * count
    for _ in range(nflags):
        idx, pos = get_varint(payload, pos)
        flags[idx] = payload[pos]
        pos += 1
    beats = []
    base = first_ms - (rrs[0] if count else 0)  # time of the beat before the first
    for i in range(count):
        t = base + rrs[i]
        if flags[i] == GAP_MARK:  # no beat: time passed with upstrokes left out
            base = t
            continue
        beats.append((t, rrs[i], flags[i]))
        if flags[i] != 1:  # an EXTRA beat's interval is merged into the next one
            base = t
    return {
        "unix_s": unix_s,
        "state": STATE_NAMES[state] if state < len(STATE_NAMES) else str(state),
        "quality_pct": quality,
        "hr_bpm": hr / 100.0,
        "rmssd_ms": rmssd / 10.0,
        "sdnn_ms": sdnn / 10.0,
        "coherence": coh / 100.0,
        "resonance_hz": res / 1000.0,
        "beats": beats,
    }


def encode_boot(buf, unix_s, clock_set, version, board):
    struct.pack_into("<IB", buf, 0, unix_s, 1 if clock_set else 0)
    pos = put_str(buf, 5, version)
    return put_str(buf, pos, board)


def decode_boot(payload):
    unix_s, clock_set = struct.unpack_from("<IB", payload, 0)
    version, pos = get_str(payload, 5)
    board, _ = get_str(payload, pos)
    return {"unix_s": unix_s, "clock_set": bool(clock_set), "version": version, "board": board}


def encode_event(buf, unix_s, ms, kind, data=b""):
    struct.pack_into("<IHBB", buf, 0, unix_s, ms, kind, len(data))
    buf[8 : 8 + len(data)] = data
    return 8 + len(data)


def decode_event(payload):
    unix_s, ms, kind, n = struct.unpack_from("<IHBB", payload, 0)
    return {"unix_s": unix_s, "ms": ms, "kind": EVENT_NAMES.get(kind, str(kind)), "data": bytes(payload[8 : 8 + n])}


# GAP reasons
GAP_FLASH_FULL = const(1)  # records dropped: count of them, from lost_from_seq's place
GAP_RR_PAUSED = const(2)  # flash nearly full: minutes from lost_from_seq on keep summaries only
# Made by the log at read time for seqs it cannot read back (a damaged block, a flipped
# bit, a flush torn by a power cut): the record carries the first lost seq as its own seq.
GAP_DAMAGED = const(3)
GAP_REASONS = {GAP_FLASH_FULL: "flash full, records dropped", GAP_RR_PAUSED: "flash nearly full, beats not kept",
               GAP_DAMAGED: "lost on the device's flash (damaged, or cut by a power failure)"}


def declared_lost(rtype, seq, payload):
    """How many seqs from `seq` on a GAP record declares lost in its own place (0: none)."""
    if rtype != GAP or len(payload) < 13:
        return 0
    _unix_s, lost_from, count, reason = struct.unpack_from("<IIIB", payload, 0)
    return count if reason == GAP_DAMAGED and lost_from == seq and count > 0 else 0


def encode_gap(buf, unix_s, lost_from, count, reason):
    struct.pack_into("<IIIB", buf, 0, unix_s, lost_from, count, reason)
    return 13


def decode_gap(payload):
    unix_s, lost_from, count, reason = struct.unpack_from("<IIIB", payload, 0)
    return {"unix_s": unix_s, "lost_from_seq": lost_from, "count": count, "reason": reason,
            "why": GAP_REASONS.get(reason, str(reason))}


# SESSION payload: a practice with the 60 s before, the practice, and 60 s after.
#   I start_unix_s, H duration_s, B rate_x10 (breaths/min x10; 0 = a practice without a
#   paced rhythm), B kind (how it started: SESSION_KINDS), B completed (0 stopped early),
#   then three (H hr_x100, H rmssd_x10, H coh_x100) for before / during / after, then
#   H resonance_mhz (mean peak during the session), then B practice (PRACTICE_NAMES;
#   format 0.3 records end before it: breathing).
_SESSION_FMT = "<IHBBBHHHHHHHHHH"
_SESSION_LEN = const(29)  # struct.calcsize(_SESSION_FMT)
SESSION_KINDS = ("manual", "prompted", "finder", "mark")
PRACTICE_NAMES = ("breathing", "imagery", "compassion_break", "body_scan", "safe_place")


def encode_session(buf, start_s, duration_s, rate_x10, kind, completed, before, during, after, resonance_mhz,
                   practice=0):
    struct.pack_into(_SESSION_FMT, buf, 0, start_s, duration_s, rate_x10, kind, 1 if completed else 0,
                     before[0], before[1], before[2], during[0], during[1], during[2],
                     after[0], after[1], after[2], resonance_mhz)
    buf[_SESSION_LEN] = practice
    return _SESSION_LEN + 1


def decode_session(payload):
    v = struct.unpack_from(_SESSION_FMT, payload, 0)

    def part(i):
        return {"hr_bpm": v[i] / 100.0, "rmssd_ms": v[i + 1] / 10.0, "coherence": v[i + 2] / 100.0}

    p = payload[_SESSION_LEN] if len(payload) > _SESSION_LEN else 0
    return {"unix_s": v[0], "duration_s": v[1], "rate_bpm": v[2] / 10.0,
            "kind": SESSION_KINDS[v[3]] if v[3] < len(SESSION_KINDS) else str(v[3]),
            "completed": bool(v[4]), "before": part(5), "during": part(8), "after": part(11),
            "resonance_hz": v[14] / 1000.0,
            "practice": PRACTICE_NAMES[p] if p < len(PRACTICE_NAMES) else str(p)}


NO_EVIDENCE = const(0xFFFF)  # a MARK's hr/rmssd: not enough evidence in that minute
_MARK_FMT = "<IHBHHBBHHBB"
_MARK_LEN = const(19)


def encode_mark(buf, unix_s, ms, state_at_mark, before, after):
    """before/after: (hr_bpm_x100, rmssd_ms_x10, state, ok_pct), NO_EVIDENCE for no figure."""
    struct.pack_into(_MARK_FMT, buf, 0, unix_s, ms, state_at_mark,
                     min(before[0], NO_EVIDENCE), min(before[1], NO_EVIDENCE), before[2], before[3],
                     min(after[0], NO_EVIDENCE), min(after[1], NO_EVIDENCE), after[2], after[3])
    return _MARK_LEN


def _state_name(code):
    return STATE_NAMES[code] if code < len(STATE_NAMES) else str(code)


def decode_mark(payload):
    v = struct.unpack_from(_MARK_FMT, payload, 0)

    def part(i):
        return {"hr": None if v[i] == NO_EVIDENCE else v[i] / 100.0,
                "rmssd": None if v[i + 1] == NO_EVIDENCE else v[i + 1] / 10.0,
                "state": _state_name(v[i + 2]), "ok_pct": v[i + 3]}

    return {"unix_s": v[0], "ms": v[1], "state_at_mark": _state_name(v[2]), "before": part(3), "after": part(7)}


def decode(rtype, payload):
    if rtype == SESSION:
        return decode_session(payload)
    if rtype == MARK:
        return decode_mark(payload)
    if rtype == MINUTE:
        return decode_minute(payload)
    if rtype == BOOT:
        return decode_boot(payload)
    if rtype == EVENT:
        return decode_event(payload)
    if rtype == GAP:
        return decode_gap(payload)
    return {"raw": bytes(payload).hex()}
