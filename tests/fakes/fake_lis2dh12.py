"""A LIS2DH12 as its I2C bus sees it, for driver tests (usable as a bus by itself, or attached
to FakeI2C with bus.attach(chip)).

Modelled from the datasheet, so a driver that gets the protocol wrong fails:
- WHO_AM_I 0x33; a register file of 0x40 bytes; every write logged as (reg, value);
- a multi-byte read increments the address only with sub-address bit 7 set (else it repeats
  one register);
- FIFO (CTRL_REG5 FIFO_EN, FIFO_CTRL_REG FM): bypass clears it; stream keeps the newest 32;
  FIFO_SRC_REG gives FSS = min(count, 31), OVRN_FIFO when 32 are waiting, EMPTY;
- reading OUT_X_L..OUT_Z_H with the FIFO on returns the oldest sample, pops it after OUT_Z_H,
  and an incrementing read rolls back from 0x2D to 0x28;
- samples are pushed as raw left-justified 16-bit counts, taken only while CTRL_REG1's ODR
  is not power-down.
Reads allocate nothing, so a driver's read path can run under micropython.heap_lock().
"""


class FakeLis2dh12:
    def __init__(self, addr=0x19, who_am_i=0x33):
        self.addr = addr
        self.regs = bytearray(0x40)
        self.regs[0x0F] = who_am_i
        self.regs[0x1E] = 0x10  # CTRL_REG0 default
        self.regs[0x20] = 0x07  # CTRL_REG1 default: power-down, axes enabled
        self.fifo = bytearray(32 * 6)
        self.head = 0  # slot of the oldest sample
        self.count = 0
        self.writes = []
        self.lost = 0  # samples overwritten in stream mode
        self.fail_reads = 0  # the next n reads fail as a glitching bus does

    def _fifo_on(self):
        return bool(self.regs[0x24] & 0x40) and (self.regs[0x2E] & 0xC0) != 0

    def push(self, x, y, z):
        """The chip measured one sample (raw 16-bit two's complement counts)."""
        if self.regs[0x20] >> 4 == 0:
            return  # power-down: nothing is sampled
        if not self._fifo_on():
            for i, v in enumerate((x, y, z)):
                self.regs[0x28 + 2 * i] = v & 0xFF
                self.regs[0x29 + 2 * i] = (v >> 8) & 0xFF
            return
        if self.count == 32:  # stream mode: the oldest is overwritten
            self.head = (self.head + 1) % 32
            self.count -= 1
            self.lost += 1
        slot = ((self.head + self.count) % 32) * 6
        for i, v in enumerate((x, y, z)):
            self.fifo[slot + 2 * i] = v & 0xFF
            self.fifo[slot + 2 * i + 1] = (v >> 8) & 0xFF
        self.count += 1

    def _read_reg(self, reg):
        if reg == 0x2F:
            c = self.count
            return (0x40 if c == 32 else 0) | (0x20 if c == 0 else 0) | (31 if c > 31 else c)
        if 0x28 <= reg <= 0x2D and self._fifo_on():
            v = self.fifo[self.head * 6 + reg - 0x28] if self.count else 0
            if reg == 0x2D and self.count:
                self.head = (self.head + 1) % 32
                self.count -= 1
            return v
        return self.regs[reg]

    # the machine.I2C methods the driver uses
    def readfrom_mem_into(self, addr, sub, buf):
        if addr != self.addr:
            raise OSError(19)  # ENODEV: no acknowledge
        if self.fail_reads:
            self.fail_reads -= 1
            raise OSError(116)  # ETIMEDOUT
        inc = sub & 0x80
        reg = sub & 0x7F
        for i in range(len(buf)):
            buf[i] = self._read_reg(reg)
            if inc:
                reg = 0x28 if (reg == 0x2D and self._fifo_on()) else reg + 1

    def writeto_mem(self, addr, sub, buf):
        if addr != self.addr:
            raise OSError(19)
        reg = sub & 0x7F
        for b in bytes(buf):
            self.writes.append((reg, b))
            self.regs[reg] = b
            if reg == 0x2E and b & 0xC0 == 0:  # bypass mode resets the FIFO
                self.head = self.count = 0
            if sub & 0x80:
                reg += 1
