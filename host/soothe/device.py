"""Host side of the serial protocol: open a port, send requests, read answers.

Frames and opcodes come from firmware/soothe_fw/link/wire.py.  Every request is retried on a
CRC error or a timeout, with exponential back-off; garbage between frames is
skipped by the deframer.  An ERR answer counts only when it names the request
(junk on the line draws ERRs of its own).  The port is opened exclusively, so a
second sync or monitor on it says "busy" instead of interleaving.  GET is not
retried whole: `get_partial` keeps every valid DATA frame up to an error, and
only a run of records contiguous from the asked seq.
"""
import random
import struct
import time

import serial
import serial.tools.list_ports

from soothe_fw.log import records
from soothe_fw.link import wire

# USB bridges found on ESP32 boards: CP210x, CH340, CH9102, FTDI, Espressif native USB.
ESP32_USB_IDS = {(0x10C4, 0xEA60), (0x1A86, 0x7523), (0x1A86, 0x55D4), (0x0403, 0x6001), (0x303A, 0x1001),
                 (0x303A, 0x4001), (0x303A, 0x0002)}


class DeviceError(Exception):
    """A problem talking to the device; the message says what to try."""


class SessionLost(DeviceError):
    """The device refused a TIME/ACK/CONFIG: another host said HELLO since ours."""


def find_port():
    """The first serial port whose USB VID:PID belongs to an ESP32 board."""
    found = [p.device for p in serial.tools.list_ports.comports()
             if p.vid is not None and ((p.vid, p.pid) in ESP32_USB_IDS or p.vid == 0x303A)]
    if not found:
        raise DeviceError("no Soothe device found: plug it in, or pass --port (e.g. --port /dev/ttyUSB0)")
    return found[0]


def open_port(port, baudrate=115200, exclusive=True):
    """Opens without toggling DTR/RTS, which would reset a classic ESP32, and (on a real
    port) with an exclusive lock (flock, as pyserial's `exclusive`), so two syncs never share it."""
    kw = {"exclusive": True} if exclusive and "://" not in str(port) else {}
    ser = serial.serial_for_url(port, baudrate=baudrate, timeout=0.05, do_not_open=True, **kw)
    ser.dtr = False
    ser.rts = False
    try:
        ser.open()
    except (serial.SerialException, OSError) as e:
        if "lock" in str(e).lower():
            raise DeviceError("%s is busy: another soothe sync or monitor is using it; try again when it "
                              "has finished" % port) from e
        raise DeviceError("cannot open %s: %s" % (port, e)) from e
    ser.reset_input_buffer()
    return ser


class Device:
    def __init__(self, ser, timeout=2.0, retries=4):
        self.ser = ser
        self.timeout = timeout
        self.retries = retries
        self.deframer = wire.Deframer()
        self._frames = []
        self.live_frames = []
        self.bytes_in = 0
        self.retried = 0
        self.nonce = 0  # of our HELLO; TIME, ACK and CONFIG carry it
        self.epoch = 0
        self.ignored_errors = 0  # ERR frames that answered something else (junk on the line)
        self._dirty = False  # an answer was cut short: drain the line before the next request

    # ---- framing -----------------------------------------------------------
    def _next_frame(self, deadline):
        """Next valid (opcode, body) before deadline, or None.  Bad frames raise FrameError."""
        while True:
            if self._frames:
                return wire.decode(self._frames.pop(0))
            if time.monotonic() > deadline:
                return None
            try:
                data = self.ser.read(max(1, self.ser.in_waiting))
            except (serial.SerialException, OSError) as e:
                raise DeviceError("serial link lost: %s (check the cable)" % e) from e
            if data:
                self.bytes_in += len(data)
                self._frames.extend(self.deframer.feed(data))

    def _send(self, opcode, body):
        try:
            # A leading delimiter ends whatever junk the device's deframer holds
            # (a pulled cable mid-frame), so the request is never glued onto it.
            self.ser.write(b"\x00" + wire.encode(opcode, body))
            self.ser.flush()
        except (serial.SerialException, OSError) as e:
            raise DeviceError("serial link lost: %s (check the cable)" % e) from e

    def _resync(self):
        """Drops whatever is in flight so a retried request gets a clean answer."""
        time.sleep(0.05)
        self.ser.reset_input_buffer()
        self.deframer = wire.Deframer()
        self._frames = []

    def exchange(self, opcode, body=b"", until=None, accept=None):
        """Sends a request; returns the list of answer frames (opcode, body).

        `until` is the response opcode that ends the answer (default: the request's);
        `accept(body)` can turn down a final answer that belongs to an older request.
        """
        until = until if until is not None else opcode | wire.RESPONSE
        delay = 0.1
        last = "no answer"
        for attempt in range(self.retries + 1):
            if attempt or self._dirty:
                if attempt:
                    self.retried += 1
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                self._resync()
                self._dirty = False
            self._send(opcode, body)
            answers = []
            deadline = time.monotonic() + self.timeout
            try:
                while True:
                    f = self._next_frame(deadline)
                    if f is None:
                        last = "timeout waiting for %s" % wire.NAMES.get(opcode, opcode)
                        break
                    op, fbody = f
                    if op == wire.LIVE | wire.RESPONSE and opcode != wire.LIVE:
                        self.live_frames.append(fbody)
                        continue
                    if op == wire.ERR:
                        code, msg = wire.parse_error(fbody)
                        about = wire.error_opcode(fbody)
                        if code == wire.E_CRC or about != opcode:
                            # Junk on the line draws ERRs too: only one naming this request
                            # counts.  A CRC error may be ours, so wait less for the answer.
                            self.ignored_errors += 1
                            last = "device saw a corrupted request"
                            deadline = min(deadline, time.monotonic() + min(0.3, self.timeout))
                            continue
                        if code == wire.E_SESSION:
                            raise SessionLost("another host opened a session on the device since this one "
                                              "(two syncs at once?); run the command again")
                        raise DeviceError("device refused %s: %s" % (wire.NAMES.get(opcode, opcode), msg))
                    if op == until and accept is not None and not accept(fbody):
                        continue  # the answer to an earlier try or another host's request
                    answers.append((op, fbody))
                    deadline = time.monotonic() + self.timeout
                    if op == until:
                        return answers
            except wire.FrameError as e:
                last = "corrupted frame (%s)" % e
        raise DeviceError("no valid answer to %s after %d tries: %s"
                          % (wire.NAMES.get(opcode, opcode), self.retries + 1, last))

    # ---- messages ----------------------------------------------------------
    def hello(self):
        """Opens a session: the device's answer to our random token carries the nonce."""
        token = random.getrandbits(32) or 1

        def ours(body):
            try:
                h = wire.parse_hello(body)
            except (wire.FrameError, struct.error, IndexError, UnicodeError):
                return False
            return h["token"] in (token, 0)  # 0: a device from before sessions

        (_, body), = self.exchange(wire.HELLO, struct.pack("<I", token), accept=ours)[-1:]
        h = wire.parse_hello(body)
        self.nonce, self.epoch = h["nonce"], h["epoch"]
        return h

    def _session(self):
        if not self.nonce:
            self.hello()
        return struct.pack("<I", self.nonce)

    def set_time(self, unix_ms=None):
        unix_ms = int(time.time() * 1000) if unix_ms is None else unix_ms
        nonce = self._session()
        (_, body), = self.exchange(wire.TIME, struct.pack("<Q", unix_ms) + nonce)[-1:]
        return struct.unpack_from("<Q", body, 1)[0]

    def get(self, from_seq, max_bytes=8192):
        """Records [(seq, type, payload bytes)] from from_seq; returns (records, next_seq, newest).

        Retries a GET that brought nothing; a partial answer is returned as it is."""
        for attempt in range(self.retries + 1):
            out, next_seq, newest, error = self.get_partial(from_seq, max_bytes)
            if out or error is None:
                return out, next_seq, newest
            self.retried += 1
            time.sleep(min(0.1 * 2 ** attempt, 2.0))
        raise DeviceError("no valid answer to GET after %d tries: %s" % (self.retries + 1, error))

    def get_partial(self, from_seq, max_bytes):
        """One GET.  Returns (records, next_seq, newest, error): records run without a hole
        from from_seq (a GAP_DAMAGED record stands in for the seqs the device declares lost),
        next_seq follows the last one kept; error is None when the END came after them all."""
        if self._dirty:
            self._resync()
            self._dirty = False
        self._send(wire.GET, struct.pack("<IH", from_seq, max_bytes))
        out = []
        expect = from_seq
        newest = 0
        error = None
        hole = False
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                f = self._next_frame(deadline)
                if f is None:
                    error = "timeout waiting for GET"
                    break
                op, body = f
                deadline = time.monotonic() + self.timeout
                if op == wire.LIVE | wire.RESPONSE:
                    self.live_frames.append(body)
                elif op == wire.DATA | wire.RESPONSE and len(body) >= 5:
                    for rtype, seq, payload, boot, up_ms in records.iter_framed(body[5:]):
                        if seq < expect:
                            continue  # already have it (a duplicate, or an older answer's frame)
                        if seq > expect or hole:
                            hole = True  # later than asked and not declared: never stored
                            break
                        out.append((seq, rtype, bytes(payload), boot, up_ms))
                        expect = seq + max(1, records.declared_lost(rtype, seq, payload))
                elif op == wire.END | wire.RESPONSE and len(body) >= 9:
                    next_seq, newest = struct.unpack_from("<II", body, 1)
                    if len(body) >= 13 and struct.unpack_from("<I", body, 9)[0] != from_seq:
                        continue  # the END of an earlier GET
                    if hole or next_seq > expect:
                        error = "answer skipped from seq %d to a later one" % expect
                    break
                elif op == wire.ERR:
                    code, msg = wire.parse_error(body)
                    if wire.error_opcode(body) == wire.GET and code != wire.E_CRC:
                        error = "device refused GET: %s" % msg
                        break
                    self.ignored_errors += 1
                    deadline = min(deadline, time.monotonic() + min(0.3, self.timeout))
        except wire.FrameError as e:
            error = "corrupted frame (%s)" % e
        if error is not None:
            self._dirty = True  # the rest of this answer may still be on its way
        return out, expect, newest, error

    def ack(self, upto_seq):
        try:
            (_, body), = self.exchange(wire.ACK, struct.pack("<I", upto_seq) + self._session())[-1:]
        except SessionLost:
            # Someone (junk with a valid CRC, or another host) said HELLO since: the records
            # are stored already, so reopen our session and acknowledge them after all.
            epoch = self.epoch
            self.hello()
            if self.epoch != epoch:
                raise
            (_, body), = self.exchange(wire.ACK, struct.pack("<I", upto_seq) + self._session())[-1:]
        return struct.unpack_from("<I", body, 1)[0]

    def config(self, key, value=None):
        body = bytes([0 if value is None else 1]) + wire.pack_str(key)
        if value is not None:
            body += wire.pack_str(str(value)) + self._session()
        (_, resp), = self.exchange(wire.CONFIG, body)[-1:]
        k, pos = wire.unpack_str(resp, 1)
        v, _ = wire.unpack_str(resp, pos)
        return k, v

    def live(self, on, lease_s=10):
        """LIVE on for lease_s seconds (renew before it runs out), or off."""
        self.exchange(wire.LIVE, bytes([1 if on else 0]) + struct.pack("<H", lease_s))

    def live_updates(self, timeout):
        """LIVE frames (parsed) that arrive within `timeout` s, plus any already queued."""
        out = [wire.parse_live(b) for b in self.live_frames]
        self.live_frames = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                f = self._next_frame(deadline)
            except wire.FrameError:
                continue  # a damaged update is skipped; the next beat brings a fresh one
            if f is None:
                return out
            if f[0] == wire.LIVE | wire.RESPONSE and len(f[1]) >= 1 + struct.calcsize(wire.LIVE_FMT):
                out.append(wire.parse_live(f[1]))

    def session(self, op):
        """0 stop, 1 start breathing, 2 start the resonance finder; returns (accepted, running kind)."""
        (_, body), = self.exchange(wire.SESSION, bytes([op]))[-1:]
        return bool(body[1]), body[2]

    def close(self):
        try:
            self.ser.close()
        except Exception:  # noqa: BLE001 - closing a dead port is fine
            pass
