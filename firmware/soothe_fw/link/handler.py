"""Device side of the serial protocol (wire.py): frames in, answers out.

Input: bytes from the USB serial port.  Output: frames written through an
async `send(frame)`.  Bad frames get an ERR frame and the device keeps
measuring; nothing here touches the sensor path.  TIME, ACK and CONFIG set
need the nonce of the latest HELLO (wire.py); LIVE frames stop when the
host's lease runs out, and are dropped, never queued, while the port is full
(`can_send`), so a host that stops reading cannot block the firmware.
"""
import os
import struct

from soothe_fw.log import records
from soothe_fw.link import wire
from soothe_fw.compat import ticks_diff
from soothe_fw.log.settings import ConfigError

FIRMWARE_VERSION = records.FIRMWARE_VERSION
_DATA_CHUNK = 900  # records per DATA frame stay under wire.MAX_FRAME
# A short or malformed request body.  MicroPython's struct raises ValueError and has
# no struct.error: naming it unguarded crashed the handler (found by the fuzz test).
_BAD_ARGS = (IndexError, ValueError, getattr(struct, "error", ValueError))
_LIVE_LEASE_S = 10  # default lease when a host does not name one


class SessionError(Exception):
    pass


def _secret():
    try:
        return bytes(os.urandom(4))
    except (AttributeError, OSError, NotImplementedError):
        import random

        return struct.pack("<I", random.getrandbits(32))


def _kbd_intr(value):
    try:
        import micropython

        micropython.kbd_intr(value)
    except (ImportError, AttributeError):
        pass


class Link:
    def __init__(self, send, log, clock, settings, device_id, on_event=None, on_session=None):
        self.send = send
        self.log = log
        self.clock = clock
        self.settings = settings
        self.device_id = device_id
        self.on_event = on_event  # (kind, data) -> None, logs host actions
        self.on_session = on_session  # (op) -> (accepted, running kind + 1 or 0)
        self.deframer = wire.Deframer(limit=wire.MAX_REQUEST * 2)
        self.live = False
        self.live_until = 0  # ticks_ms when the host's LIVE lease runs out
        self.live_dropped = 0
        self.can_send = None  # () -> bool: False while the port cannot take a frame now
        self.nonce = 0  # of the latest HELLO; 0: no session yet
        self._secret = _secret()
        self.frames_in = 0
        self.errors = 0
        # One raw and one encoded buffer for every answer: a GET streams ~1 KB frames,
        # and fresh 1 KB allocations per frame fragment a small heap (the soak found a
        # MemoryError in mid-sync at -X heapsize=160k on the 64-bit port).  `send` must
        # consume the frame before it yields (StdioSerial writes, then sleeps).
        self._raw = bytearray(wire.MAX_FRAME + 8)
        self._out = bytearray(wire.encoded_size(wire.MAX_FRAME + 4))
        self._mv = memoryview(self._out)

    async def feed(self, data):
        for frame in self.deframer.feed(data):
            await self.handle(frame)

    async def _send_raw(self, n):
        m = wire.encode_into(self._out, self._raw, n)
        await self.send(self._mv[:m])

    async def _reply(self, opcode, body):
        raw = self._raw
        raw[0] = opcode | wire.RESPONSE
        n = len(body) + 1
        raw[1:n] = body
        await self._send_raw(n)

    async def _error(self, code, message, opcode=0):
        self.errors += 1
        body = wire.error_body(code, message, opcode)
        raw = self._raw
        raw[0] = wire.ERR
        raw[1 : len(body) + 1] = body
        await self._send_raw(len(body) + 1)

    async def handle(self, frame):
        try:
            opcode, body = wire.decode(frame)
        except wire.FrameError as e:
            await self._error(wire.E_CRC, str(e))
            return
        self.frames_in += 1
        try:
            await self._dispatch(opcode, body)
        except SessionError:
            await self._error(wire.E_SESSION, "%s needs the nonce of the current session: HELLO first"
                              % wire.NAMES.get(opcode, hex(opcode)), opcode)
        except _BAD_ARGS as e:
            await self._error(wire.E_BAD_ARGS, "%s: %s" % (wire.NAMES.get(opcode, hex(opcode)), e), opcode)

    def _check_nonce(self, body, pos):
        if len(body) < pos + 4 or not self.nonce or struct.unpack_from("<I", body, pos)[0] != self.nonce:
            raise SessionError()

    def _ticks(self):
        ticks = getattr(self.clock, "ticks_ms", None)
        return ticks() if ticks is not None else 0

    async def _dispatch(self, opcode, body):
        log = self.log
        if opcode == wire.HELLO:
            # Binary frames may hold 0x03: keep Ctrl-C from interrupting the app.
            _kbd_intr(-1)
            token = struct.unpack_from("<I", body, 0)[0] if len(body) >= 4 else 0
            # The same token gets the same nonce (a retried HELLO); a new host gets a new one.
            self.nonce = records.crc32(self._secret + struct.pack("<I", token)) or 1
            await self._reply(opcode, wire.hello_body(
                FIRMWARE_VERSION, self.device_id, self.clock.unix_ms(), self.clock.is_set,
                log.oldest_seq(), log.flushed_seq, log.acked_seq, log.epoch, self.nonce, token))
        elif opcode == wire.TIME:
            (unix_ms,) = struct.unpack_from("<Q", body, 0)
            self._check_nonce(body, 8)
            before = self.clock.set_unix_ms(unix_ms)
            if self.on_event:
                self.on_event(records.EV_TIME_SET, struct.pack("<q", unix_ms - before))
            await self._reply(opcode, bytes([wire.OK]) + struct.pack("<Q", before))
        elif opcode == wire.GET:
            from_seq, max_bytes = struct.unpack("<IH", body)
            await self._send_data(from_seq, max_bytes)
        elif opcode == wire.ACK:
            (upto,) = struct.unpack_from("<I", body, 0)
            self._check_nonce(body, 4)
            acked = log.ack(upto)
            await self._reply(opcode, bytes([wire.OK]) + struct.pack("<I", acked))
        elif opcode == wire.CONFIG:
            op = body[0]
            key, pos = wire.unpack_str(body, 1)
            if op == 1:
                value, pos = wire.unpack_str(body, pos)
                self._check_nonce(body, pos)
            try:
                if op == 1:
                    self.settings.set(key, value)
                    if self.on_event:
                        self.on_event(records.EV_CONFIG, (key + "=" + value).encode()[:60])
                value = self.settings.get(key)
            except ConfigError as e:
                await self._error(wire.E_CONFIG, str(e), opcode)
                return
            await self._reply(opcode, bytes([wire.OK]) + wire.pack_str(key) + wire.pack_str(str(value)))
        elif opcode == wire.LIVE:
            self.live = bool(body[0])
            lease_s = struct.unpack_from("<H", body, 1)[0] if len(body) >= 3 else _LIVE_LEASE_S
            self.live_until = self._ticks() + 1000 * (lease_s if 0 < lease_s <= 600 else _LIVE_LEASE_S)
            await self._reply(opcode, bytes([wire.OK, 1 if self.live else 0]))
        elif opcode == wire.SESSION:
            op = body[0]
            if op > 2:
                raise ValueError("op %d: use 0 stop, 1 breathe, 2 finder" % op)
            accepted, running = self.on_session(op) if self.on_session else (False, 0)
            await self._reply(opcode, bytes([wire.OK, 1 if accepted else 0, running]))
        elif opcode == wire.REPL:
            self.live = False
            _kbd_intr(3)
            await self._reply(opcode, bytes([wire.OK]))
        else:
            await self._error(wire.E_UNKNOWN, "unknown opcode 0x%02x" % opcode, opcode)

    async def _send_data(self, from_seq, max_bytes):
        """DATA frames of whole flushed records from from_seq, then END.

        Records are read from flash straight into the pre-allocated frame buffer."""
        log = self.log
        raw = self._raw
        sent = 0
        seq = max(from_seq, 1)
        while sent < max_bytes:
            raw[0] = wire.DATA | wire.RESPONSE
            raw[1] = wire.OK
            struct.pack_into("<I", raw, 2, seq)
            budget = max_bytes - sent
            n, next_seq, end = log.read_into(seq, raw, 6, 6 + (budget if budget < _DATA_CHUNK else _DATA_CHUNK),
                                             len(raw) - 4)
            if not n:
                break
            await self._send_raw(end)
            sent += end - 6
            seq = next_seq
        await self._reply(wire.END, bytes([wire.OK]) + struct.pack("<III", seq, log.flushed_seq, from_seq))

    async def send_live(self, t_ticks, rr_ms, flag, state, hr_x100, rmssd_x10, coherence_x100, pacer, rate_x10):
        """One LIVE frame per beat (t_ticks: the beat's tick), packed into the pre-allocated
        buffer; the u64 unix ms comes from the clock's limbs (no long int on 32-bit)."""
        if self.live and ticks_diff(self._ticks(), self.live_until) >= 0:
            self.live = False  # the lease ran out: nobody renewed it (a killed monitor)
        if self.live:
            if self.can_send is not None and not self.can_send():
                self.live_dropped += 1  # nobody reads: drop the update, keep measuring
                return
            raw = self._raw
            raw[0] = wire.LIVE | wire.RESPONSE
            raw[1] = wire.OK
            struct.pack_into(wire.LIVE_FMT, raw, 2, 0, rr_ms, flag, state, hr_x100, rmssd_x10,
                             coherence_x100, pacer, rate_x10)
            clock = self.clock
            clock.at(t_ticks)
            clock.pack_wall_ms(raw, 2)
            await self._send_raw(2 + wire.LIVE_SIZE)
