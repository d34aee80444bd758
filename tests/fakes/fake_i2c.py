"""A fake I2C bus for driver tests: registers per device, every transaction logged.

MAX30102 FIFO model: samples queued with push(); FIFO_WR_PTR/RD_PTR/OVF_COUNTER
follow the datasheet (32-deep FIFO, pointers wrap at 32, 3 bytes a sample in HR mode).
"""


class FakeI2C:
    def __init__(self, fail_first=0):
        self.regs = {}  # addr -> {reg: value}
        self.log = []  # ("w", addr, reg, value) / ("r", addr, reg, nbytes)
        self.fail_first = fail_first
        self.fifo = []
        self.fifo_addr = 0x57
        self.chips = {}  # addr -> a chip model with its own register protocol (fake_lis2dh12)

    def scan(self):
        """The addresses that answer, as machine.I2C.scan() lists them."""
        return sorted(set(self.regs) | set(self.chips))

    def attach(self, chip):
        self.chips[chip.addr] = chip

    def device(self, addr, regs):
        self.regs[addr] = dict(regs)

    def _check(self, addr):
        if self.fail_first > 0:
            self.fail_first -= 1
            raise OSError(19)  # ENODEV, as machine.I2C raises on a NACK
        if addr not in self.regs and addr not in self.chips:
            raise OSError(19)

    def writeto_mem(self, addr, reg, buf):
        self._check(addr)
        if addr in self.chips:
            for i, b in enumerate(bytes(buf)):
                self.log.append(("w", addr, reg + i, b))
            return self.chips[addr].writeto_mem(addr, reg, buf)
        for i, b in enumerate(bytes(buf)):
            self.regs[addr][reg + i] = b
            self.log.append(("w", addr, reg + i, b))
            if addr == self.fifo_addr and reg + i == 0x09 and b & 0x40:
                self.fifo = []  # reset clears the FIFO

    def push(self, samples):
        """The sensor measured these (18-bit) values."""
        for v in samples:
            self.fifo.append(v)
        r = self.regs[self.fifo_addr]
        if len(self.fifo) > 32:
            r[0x05] = min(31, len(self.fifo) - 32)
            self.fifo = self.fifo[-32:]
        r[0x04] = (r.get(0x06, 0) + len(self.fifo)) % 32

    def readfrom_mem_into(self, addr, reg, buf):
        self._check(addr)
        self.log.append(("r", addr, reg, len(buf)))
        if addr in self.chips:
            return self.chips[addr].readfrom_mem_into(addr, reg, buf)
        r = self.regs[addr]
        if addr == self.fifo_addr and reg == 0x07:
            n = len(buf) // 3
            for i in range(n):
                v = self.fifo.pop(0) if self.fifo else 0
                buf[3 * i] = (v >> 16) & 0x03
                buf[3 * i + 1] = (v >> 8) & 0xFF
                buf[3 * i + 2] = v & 0xFF
            r[0x06] = (r.get(0x06, 0) + n) % 32
            r[0x05] = 0
            return
        for i in range(len(buf)):
            buf[i] = r.get(reg + i, 0)


class FakeNeoPixel:
    def __init__(self, n=1):
        self.pixels = [(0, 0, 0)] * n
        self.writes = []

    def __setitem__(self, i, rgb):
        self.pixels[i] = (rgb[0], rgb[1], rgb[2])  # copied, as neopixel.NeoPixel copies into its buffer

    def write(self):
        self.writes.append(tuple(self.pixels))
