"""Test script (MicroPython): App.sense's path on the MAX30102 board, heap locked: sleep
wait_ms() (asyncio's singleton) then read() the FIFO burst into the block, as for the
analog sensor; no coroutine per burst, no memoryview per read.  Prints JSON;
tests/firmware/test_ui_wake_alloc.py asserts on it."""
import asyncio
import json
import micropython
from array import array

from esp32_fake import esp32 as board_esp32, fake_machine

fake_machine.bus.device(0x57, {0xFF: 0x15})
b = board_esp32.Esp32Board("xiao-esp32s3", {"sensor": "max30102", "led": "pwm-cathode", "motor": "pwm"})
s = b.sensor


class FifoBus:  # the MAX30102's FIFO, allocation-free: `waiting` samples of 50,000 + k
    def __init__(self):
        self.regs = bytearray(256)
        self.waiting = 0
        self.next = 0

    def writeto_mem(self, addr, reg, buf):
        self.regs[reg] = buf[0]

    def readfrom_mem_into(self, addr, reg, buf):
        if reg == 0x04:  # FIFO_WR_PTR, read pointer kept at 0
            buf[0] = self.waiting
        elif reg == 0x07:
            for i in range(len(buf) // 3):
                v = 50000 + self.next
                self.next += 1
                buf[3 * i] = v >> 16
                buf[3 * i + 1] = (v >> 8) & 0xFF
                buf[3 * i + 2] = v & 0xFF
            self.waiting = 0
        else:
            buf[0] = self.regs[reg]


bus = s.dev.i2c = FifoBus()
buf = array("i", [0] * s.block)
r = {"block": s.block}
out = [0] * 7


async def main(bursts):
    """App.sense's loop (sleep wait_ms(), then read()), warmed up, then heap locked."""
    for k in range(len(bursts)):
        await asyncio.sleep_ms(s.wait_ms())
        bus.waiting = bursts[k]
        out[k] = s.read(buf)
    bus.next = 0
    micropython.heap_lock()
    try:
        awake[0] = s.wait_ms()  # the napper refuses in the first minute: asyncio idles half a block
        s.nap = None
        awake[1] = s.wait_ms()
        for k in range(len(bursts)):
            await asyncio.sleep_ms(s.wait_ms())
            bus.waiting = bursts[k]
            out[k] = s.read(buf)
        ok[0] = True
    except MemoryError:
        ok[0] = False
    micropython.heap_unlock()


ok = [False]
awake = [0, 0]
asyncio.run(main((12, 13, 0, 25, 10, 10, 5)))
r.update({"ok": ok[0], "awake_ms": awake, "counts": out, "first": buf[0], "last": buf[s.block - 1]})
print(json.dumps(r))
