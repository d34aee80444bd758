"""MicroPython-side cases of tests/firmware/test_accel_lis2dh12.py: the LIS2DH12 driver
against the datasheet model of the chip (tests/fakes/fake_lis2dh12.py).  `FILE CASE ARGS` (mpcase)."""
from array import array

import mpcase
from fake_lis2dh12 import FakeLis2dh12
from soothe_fw.hw import lis2dh12


def missing_or_wrong():
    out = []
    for chip in (FakeLis2dh12(addr=0x30), FakeLis2dh12(who_am_i=0x68), FakeLis2dh12(addr=0x18)):
        try:
            a = lis2dh12.Lis2dh12(chip)
            out.append(["ok", a.addr])
        except OSError as e:
            out.append(["err", str(e)])
    try:
        lis2dh12.Lis2dh12(FakeLis2dh12(), addr=0x18)
    except OSError as e:
        out.append(["err", str(e)])
    return out


def init_writes():
    out = []
    for kw in ({}, {"rate_hz": 50, "range_g": 16}):
        chip = FakeLis2dh12()
        a = lis2dh12.Lis2dh12(chip, **kw)
        out.append([[reg, v] for reg, v in chip.writes])
    a.deinit()
    out.append(chip.writes[-1])
    return out


def fifo_scaled(raw):
    chip = FakeLis2dh12()
    a = lis2dh12.Lis2dh12(chip)
    buf = array("h", [0] * 96)
    empty = a.read_fifo(buf)
    for s in raw:
        chip.push(*s)
    n = a.read_fifo(buf)
    got = list(buf[:3 * n])
    again = a.read_fifo(buf)
    # 16 g range: 48 mg a digit; -1 digit is -48 mg (arithmetic shift of a negative count)
    a.set_range_g(16)
    chip.push(0xFFC0, 20 << 6, 0x8000)
    n16 = a.read_fifo(buf)
    return {"empty": empty, "n": n, "got": got, "again": again, "n16": n16, "g16": list(buf[:3]),
            "left": chip.count}


def full_fifo():
    chip = FakeLis2dh12()
    a = lis2dh12.Lis2dh12(chip)
    buf = array("h", [0] * 96)
    for i in range(31):
        chip.push(i << 6, 0, 0)
    n31 = a.read_fifo(buf)
    for i in range(40):  # nobody read for 1.6 s at 25 Hz: the oldest 8 are overwritten
        chip.push(i << 6, 0, 0)
    n = a.read_fifo(buf)
    xs = [buf[3 * i] for i in range(n)]
    small = array("h", [0] * 30)  # room for 10 samples: the rest stay in the FIFO
    for i in range(12):
        chip.push(i << 6, 0, 0)
    k = a.read_fifo(small)
    left = chip.count
    # a glitch on the shared bus: no samples this time, counted; the next read gets them
    chip.fail_reads = 1
    glitch = a.read_fifo(buf)
    after = a.read_fifo(buf)
    return {"n31": n31, "n": n, "x0": xs[0], "x31": xs[-1], "overruns": a.overruns, "k": k,
            "left": left, "glitch": [glitch, a.bus_errors, after]}


def read_allocates_nothing():
    import micropython

    chip = FakeLis2dh12()
    a = lis2dh12.Lis2dh12(chip)
    buf = array("h", [0] * 96)
    total = 0
    for burst in range(5):
        for i in range(6 + burst * 6):
            chip.push((i * 64) & 0xFFFF, 0xFFC0, 0x4000)
        micropython.heap_lock()
        try:
            n = a.read_fifo(buf)
            n0 = a.read_fifo(buf)
        finally:
            micropython.heap_unlock()
        total += n + n0
    return {"total": total, "last": [buf[0], buf[1], buf[2]]}


def setters():
    chip = FakeLis2dh12()
    a = lis2dh12.Lis2dh12(chip)
    errs = []
    for bad in (lambda: a.set_rate_hz(30), lambda: a.set_range_g(3), lambda: a.set_rate_hz(0),
                lambda: lis2dh12.Lis2dh12(FakeLis2dh12(), rate_hz=1600), lambda: lis2dh12.Lis2dh12(chip, range_g=32)):
        try:
            bad()
            errs.append("accepted")
        except ValueError as e:
            errs.append(str(e))
    chip.push(64, 64, 64)
    chip.writes.clear()
    a.set_rate_hz(100)
    waiting = chip.count  # samples at the old rate are dropped with the FIFO reset
    return {"errs": errs, "rate": a.rate_hz, "range": a.range_g, "waiting": waiting,
            "ctrl1": [v for reg, v in chip.writes if reg == 0x20]}


def doctor_check():
    chip = FakeLis2dh12(addr=0x18)

    def sleep_ms(ms):
        for i in range(ms * 25 // 1000):  # 25 Hz while the doctor waits: flat on a table, 1 g on z
            chip.push(0, (i % 2) << 6, 125 << 6)
    return [lis2dh12.check(chip, sleep_ms), lis2dh12.check(FakeLis2dh12(addr=0x33), sleep_ms),
            chip.regs[0x20]]


mpcase.main(globals())
