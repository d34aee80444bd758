"""Host side of the serial protocol: open a port, send requests, read answers.

Frames and opcodes come from firmware/wire.py.  Every request is retried on a
CRC error, an ERR(E_CRC) answer or a timeout, with exponential back-off;
garbage between frames is skipped by the deframer.
"""
import struct
import time

import serial
import serial.tools.list_ports

from .fw import records, wire

# USB bridges found on ESP32 boards: CP210x, CH340, CH9102, FTDI, Espressif native USB.
ESP32_USB_IDS = {(0x10C4, 0xEA60), (0x1A86, 0x7523), (0x1A86, 0x55D4), (0x0403, 0x6001), (0x303A, 0x1001),
                 (0x303A, 0x4001), (0x303A, 0x0002)}


class DeviceError(Exception):
    """A problem talking to the device; the message says what to try."""


def find_port():
    """The first serial port whose USB VID:PID belongs to an ESP32 board."""
    found = [p.device for p in serial.tools.list_ports.comports()
             if p.vid is not None and ((p.vid, p.pid) in ESP32_USB_IDS or p.vid == 0x303A)]
    if not found:
        raise DeviceError("no Soothe device found: plug it in, or pass --port (e.g. --port /dev/ttyUSB0)")
    return found[0]


def open_port(port, baudrate=115200):
    """Opens without toggling DTR/RTS, which would reset a classic ESP32."""
    ser = serial.serial_for_url(port, baudrate=baudrate, timeout=0.05, do_not_open=True)
    ser.dtr = False
    ser.rts = False
    try:
        ser.open()
    except (serial.SerialException, OSError) as e:
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

    def exchange(self, opcode, body=b"", until=None):
        """Sends a request; returns the list of answer frames (opcode, body).

        `until` is the response opcode that ends the answer (default: the request's).
        """
        until = until if until is not None else opcode | wire.RESPONSE
        delay = 0.1
        last = "no answer"
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                self._resync()
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
                        if code == wire.E_CRC:
                            last = "device saw a corrupted request"
                            break
                        raise DeviceError("device refused %s: %s" % (wire.NAMES.get(opcode, opcode), msg))
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
        (_, body), = self.exchange(wire.HELLO)[-1:]
        return wire.parse_hello(body)

    def set_time(self, unix_ms=None):
        unix_ms = int(time.time() * 1000) if unix_ms is None else unix_ms
        (_, body), = self.exchange(wire.TIME, struct.pack("<Q", unix_ms))[-1:]
        return struct.unpack_from("<Q", body, 1)[0]

    def get(self, from_seq, max_bytes=8192):
        """Records [(seq, type, payload bytes)] from from_seq; returns (records, next_seq, newest)."""
        answers = self.exchange(wire.GET, struct.pack("<IH", from_seq, max_bytes), until=wire.END | wire.RESPONSE)
        out = []
        expect = from_seq
        for op, body in answers:
            if op == wire.DATA | wire.RESPONSE:
                for rtype, seq, payload in records.iter_records(body[5:]):
                    if seq < expect:
                        continue
                    if seq != expect and out:
                        raise DeviceError("records out of order: got %d, expected %d" % (seq, expect))
                    out.append((seq, rtype, bytes(payload)))
                    expect = seq + 1
            elif op == wire.END | wire.RESPONSE:
                next_seq, newest = struct.unpack_from("<II", body, 1)
                return out, next_seq, newest
        raise DeviceError("GET answer had no END")

    def ack(self, upto_seq):
        (_, body), = self.exchange(wire.ACK, struct.pack("<I", upto_seq))[-1:]
        return struct.unpack_from("<I", body, 1)[0]

    def config(self, key, value=None):
        body = bytes([0 if value is None else 1]) + wire.pack_str(key)
        if value is not None:
            body += wire.pack_str(str(value))
        (_, resp), = self.exchange(wire.CONFIG, body)[-1:]
        k, pos = wire.unpack_str(resp, 1)
        v, _ = wire.unpack_str(resp, pos)
        return k, v

    def live(self, on):
        self.exchange(wire.LIVE, bytes([1 if on else 0]))

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
