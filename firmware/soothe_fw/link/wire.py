"""Serial wire protocol: COBS frames with CRC-32, and the message table.

Frame on the wire:  COBS( opcode u8 | body | CRC-32 LE of opcode+body ) 0x00
A response carries the request's opcode | 0x80, then a status byte (0 = OK);
ERR (0x7F) answers a frame that could not be parsed.  Host->device frames stay
under 64 bytes (the ESP32 stdin ring holds about 260); device->host <= 1 KB.
This module is the one definition: the host imports it from firmware/.

    opcode     request body                 response body (after status)
    HELLO 01   u32 token (host's random)    str version, str device_id, u64 unix_ms,
                                            u8 clock_set, u32 oldest, u32 newest, u32 acked,
                                            u32 epoch, u32 nonce, u32 token (echoed)
    TIME  02   u64 unix_ms, u32 nonce       u64 previous unix_ms
    GET   03   u32 from_seq, u16 max_bytes  DATA frames, then END
    DATA  04   (device->host only)          u32 first_seq | framed records (records.py)
    END   05   (device->host only)          u32 next_seq, u32 newest, u32 from_seq (echoed)
    ACK   06   u32 upto_seq, u32 nonce      u32 acked
    CONFIG 07  u8 op (0 get, 1 set), str key, str value, u32 nonce   str key, str value
    LIVE  08   u8 on, u16 lease_s           u8 on
    REPL  09   -                            - (restores Ctrl-C, then the REPL is reachable)
    SESSION 0A u8 op: 0 stop, 1 start a       u8 accepted, u8 running (0 none, 1 manual,
               breathing session, 2 start      2 prompted, 3 finder)
               the resonance finder
    LIVE frames (device->host while on):      u64 unix_ms, u16 rr_ms, u8 flag, u8 state,
                                              u16 hr_x100, u16 rmssd_x10, u16 coh_x100,
                                              u8 pacer (0 off, 1 inhale, 2 exhale), u8 rate_x10
    ERR   7F   -                            u8 code, str message, u8 request opcode
                                            (0 when the frame could not be parsed)

Sessions.  HELLO opens a session: the device answers with a nonce (fixed per token
within a boot, so a retried HELLO gets the same one), and only the latest session's
nonce is accepted by TIME, ACK and CONFIG set.  A stale host or a junk frame with a
valid CRC cannot delete records or change anything (E_SESSION); it must HELLO again.
Records in a GET answer run without a hole from the asked seq: seqs the device cannot
read come as GAP records of reason GAP_DAMAGED (records.declared_lost).  LIVE output
has a lease: it stops by itself unless the host renews it.
"""
import struct

from soothe_fw.compat import const
from soothe_fw.log.records import crc32  # one CRC-32 helper for flash records and wire frames

HELLO = const(0x01)
TIME = const(0x02)
GET = const(0x03)
DATA = const(0x04)
END = const(0x05)
ACK = const(0x06)
CONFIG = const(0x07)
LIVE = const(0x08)
REPL = const(0x09)
SESSION = const(0x0A)
ERR = const(0x7F)
RESPONSE = const(0x80)

OK = const(0)
E_CRC = const(1)
E_UNKNOWN = const(2)
E_BAD_ARGS = const(3)
E_BUSY = const(4)
E_CONFIG = const(5)
E_SESSION = const(6)  # TIME/ACK/CONFIG without the nonce of the current session

MAX_FRAME = const(1024)  # decoded bytes, device->host
MAX_REQUEST = const(64)  # decoded bytes, host->device

NAMES = {HELLO: "HELLO", TIME: "TIME", GET: "GET", DATA: "DATA", END: "END", ACK: "ACK",
         CONFIG: "CONFIG", LIVE: "LIVE", REPL: "REPL", SESSION: "SESSION", ERR: "ERR"}
LIVE_FMT = "<QHBBHHHBB"
LIVE_SIZE = struct.calcsize(LIVE_FMT)
PACER_PHASES = ("off", "inhale", "exhale")


def parse_live(body):
    """dict of a LIVE frame's body (after the status byte)."""
    t, rr, flag, state, hr, rmssd, coh, phase, rate = struct.unpack_from(LIVE_FMT, body, 1)
    return {"unix_ms": t, "rr_ms": rr, "flag": flag, "state": state, "hr_bpm": hr / 100.0,
            "rmssd_ms": rmssd / 10.0, "coherence": coh / 100.0,
            "pacer": PACER_PHASES[phase] if phase < 3 else str(phase), "pacer_rate_bpm": rate / 10.0}


class FrameError(ValueError):
    pass


def _cobs_into(src, n, out):
    """COBS (Cheshire & Baker 1999) of src[:n] into out; returns the length (no delimiter)."""
    code_pos = 0
    code = 1
    o = 1
    for i in range(n):
        b = src[i]
        if b == 0:
            out[code_pos] = code
            code_pos = o
            o += 1
            code = 1
        else:
            out[o] = b
            o += 1
            code += 1
            if code == 0xFF:
                out[code_pos] = code
                code_pos = o
                o += 1
                code = 1
    out[code_pos] = code
    return o


def cobs_encode(data):
    """COBS: no 0x00 inside; the caller adds the delimiter."""
    out = bytearray(len(data) + len(data) // 254 + 2)
    return bytes(out[: _cobs_into(data, len(data), out)])


def encoded_size(n):
    """Room a frame of n raw bytes (opcode + body) needs once encoded with CRC and delimiter."""
    return n + 4 + (n + 4) // 254 + 2


def encode_into(out, raw, n):
    """Frames raw[:n] (opcode | body; raw has 4 spare bytes after n) into the pre-allocated
    `out`: COBS(raw + CRC-32) + 0x00.  Returns the frame length.  The device's send path
    uses this with buffers allocated once, so a sync does not fragment a small heap."""
    struct.pack_into("<I", raw, n, crc32(raw, 0, n))
    o = _cobs_into(raw, n + 4, out)
    out[o] = 0
    return o + 1


def cobs_decode(data):
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError("zero byte inside a frame")
        i += 1
        end = i + code - 1
        if end > n:
            raise FrameError("truncated frame")
        out.extend(data[i:end])
        i = end
        if code < 0xFF and i < n:
            out.append(0)
    return bytes(out)


def encode(opcode, body=b""):
    """One wire frame: COBS(opcode|body|crc) + 0x00 (allocates; the host's way)."""
    n = len(body) + 1
    raw = bytearray(n + 4)
    raw[0] = opcode
    raw[1:n] = body
    out = bytearray(encoded_size(n))
    return bytes(out[: encode_into(out, raw, n)])


def decode(frame):
    """(opcode, body) from a frame without its 0x00 delimiter; FrameError when bad."""
    raw = cobs_decode(frame)
    if len(raw) < 5:
        raise FrameError("frame too short")
    if struct.unpack("<I", raw[-4:])[0] != crc32(raw[:-4]):
        raise FrameError("CRC mismatch")
    return raw[0], raw[1:-4]


class Deframer:
    """Splits a byte stream at 0x00 delimiters; drops over-long runs (line garbage)."""

    def __init__(self, limit=MAX_FRAME * 2):
        self.buf = bytearray()
        self.limit = limit
        self.overflows = 0

    def feed(self, data):
        """Returns the complete frames (without delimiter) found so far."""
        frames = []
        for b in data:
            if b == 0:
                if self.buf:
                    frames.append(bytes(self.buf))
                    self.buf = bytearray()
            elif len(self.buf) < self.limit:
                self.buf.append(b)
            else:
                self.overflows += 1
                self.buf = bytearray()
        return frames


# ---- small body helpers (struct + length-prefixed strings) -----------------
def pack_str(text):
    data = text.encode() if isinstance(text, str) else bytes(text)
    if len(data) > 255:
        raise ValueError("string too long for the wire")
    return bytes([len(data)]) + data


def unpack_str(body, pos):
    n = body[pos]
    if pos + 1 + n > len(body):
        raise FrameError("string runs past the frame")
    return bytes(body[pos + 1 : pos + 1 + n]).decode(), pos + 1 + n


def hello_body(version, device_id, unix_ms, clock_set, oldest, newest, acked, epoch=0, nonce=0, token=0):
    return (bytes([OK]) + pack_str(version) + pack_str(device_id)
            + struct.pack("<QBIIIIII", unix_ms, 1 if clock_set else 0, oldest, newest, acked, epoch, nonce, token))


def parse_hello(body):
    if not body or body[0] != OK:
        raise FrameError("HELLO failed")
    version, pos = unpack_str(body, 1)
    device_id, pos = unpack_str(body, pos)
    unix_ms, clock_set, oldest, newest, acked = struct.unpack_from("<QBIII", body, pos)
    pos += 21
    epoch = nonce = token = 0
    if len(body) >= pos + 12:
        epoch, nonce, token = struct.unpack_from("<III", body, pos)
    return {"version": version, "device_id": device_id, "unix_ms": unix_ms,
            "clock_set": bool(clock_set), "oldest_seq": oldest, "newest_seq": newest, "acked_seq": acked,
            "epoch": epoch, "nonce": nonce, "token": token}


def error_body(code, message, opcode=0):
    return bytes([code]) + pack_str(message[:200]) + bytes([opcode & 0xFF])


def parse_error(body):
    code = body[0] if body else 0
    msg = unpack_str(body, 1)[0] if len(body) > 1 else ""
    return code, msg


def error_opcode(body):
    """The request opcode an ERR answers (0: a frame the device could not parse)."""
    if len(body) < 2 or len(body) < 3 + body[1]:
        return 0
    return body[2 + body[1]]
