"""The device's USB serial port as MicroPython sees it: sys.stdin/sys.stdout.

Shared by the ESP32 boards and the simulated board (where `soothe sim` puts a
pty behind stdin/stdout).  Reads wait in asyncio's poller, never in virtual time.
"""
import sys
import select
import asyncio


class StdioSerial:
    def __init__(self, chunk=64):
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self._reader = asyncio.StreamReader(self._in)
        self._poll = select.poll()
        self._poll.register(self._in, select.POLLIN)
        self._out_poll = select.poll()
        self._out_poll.register(self._out, select.POLLOUT)
        self.chunk = chunk
        self.bytes_out = 0
        self.bytes_in = 0  # the ESP32 board's light sleep watches it for a host

    async def read(self):
        """Whatever has arrived (at least one byte, at most `chunk`); b'' at end of input."""
        data = await self._reader.read(1)
        if not data:
            await asyncio.sleep_ms(0)
            return b""
        more = bytearray(data)
        while len(more) < self.chunk and self._poll.poll(0):
            b = self._in.read(1)
            if not b:
                break
            more.extend(b)
        self.bytes_in += len(more)
        return bytes(more)

    def ready(self):
        """True when the port takes more output now (a LIVE frame is dropped otherwise,
        so a host that stopped reading never blocks the firmware in write())."""
        return bool(self._out_poll.poll(0))

    async def write(self, data):
        self._out.write(data)
        self.bytes_out += len(data)
        await asyncio.sleep_ms(0)
