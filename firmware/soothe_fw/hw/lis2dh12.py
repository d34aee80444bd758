"""LIS2DH12 3-axis accelerometer over I2C (also the register-compatible LIS3DH): the wrist's
movement, read from the chip's 32-sample FIFO in stream mode at the PPG's burst cadence.

Input: an I2C bus object (machine.I2C on the device, tests/fakes in tests).  Output:
read_fifo(buf) writes the samples taken since the last call into an array('h'), x, y, z
interleaved, in milli-g (gravity included).  Cost: the FIFO level, then a burst of 6 bytes a
sample per set bit of the count (6 samples: 4 + 2); no allocation; ~0.8 KB of RAM, 2.5 KB .mpy.
Registers: ST LIS2DH12 datasheet DocID025056 (register description); FIFO use: ST AN3308 for
the LIS3DH, which has the same register map.
"""
from soothe_fw.compat import IS_MICROPYTHON, const, zeros

try:
    import micropython
except ImportError:  # CPython
    from soothe_fw.compat import mp_shim as micropython  # type: ignore[no-redef]

if not IS_MICROPYTHON:  # viper's pointer casts, as plain indexing for CPython

    def ptr8(b):
        return b

    ptr16 = ptr8

ADDRS = (0x19, 0x18)  # SA0/SDO high (SparkFun SEN-15760's default), then low (Adafruit 2809's)
_WHO_AM_I = const(0x0F)
_CHIP_ID = const(0x33)  # LIS2DH12 and LIS3DH alike
_TEMP_CFG_REG = const(0x1F)
_CTRL_REG1 = const(0x20)  # ODR[7:4] LPen[3] Zen Yen Xen
_CTRL_REG2 = const(0x21)  # high-pass filter
_CTRL_REG3 = const(0x22)  # INT1 routing
_CTRL_REG4 = const(0x23)  # BDU[7] BLE[6] FS[5:4] HR[3]
_CTRL_REG5 = const(0x24)  # BOOT[7] FIFO_EN[6]
_CTRL_REG6 = const(0x25)  # INT2 routing
_OUT_X_L = const(0x28)  # OUT_X_L..OUT_Z_H: one sample, little-endian, left-justified
_FIFO_CTRL_REG = const(0x2E)  # FM[7:6] TR[5] FTH[4:0]
_FIFO_SRC_REG = const(0x2F)  # WTM[7] OVRN_FIFO[6] EMPTY[5] FSS[4:0]
_AUTO_INC = const(0x80)  # I2C sub-address bit 7: multi-byte read with address increment
_XYZ_ON = const(0x07)
_BDU = const(0x80)  # the two bytes of a sample always come from the same sample
_FIFO_EN = const(0x40)
_FM_BYPASS = const(0x00)  # clears the FIFO
_FM_STREAM = const(0x80)  # keeps the newest 32 samples, overwriting the oldest
_OVRN = const(0x40)
_FSS = const(0x1F)
FIFO_DEPTH = const(32)
_SAMPLE_BYTES = const(6)

# ODR[3:0] codes (datasheet table "Data rate configuration"), 1 Hz .. 400 Hz in normal mode
RATES_HZ = (1, 10, 25, 50, 100, 200, 400)
# full scale in g -> (FS[1:0], mg per digit of the 10-bit normal-mode value); the 16 g step is
# 48 mg, not 32 (datasheet table "Sensitivity", and ST's lis2dh12_from_fs16_nm_to_mg)
RANGES_G = {2: (0, 4), 4: (1, 8), 8: (2, 16), 16: (3, 48)}


class Lis2dh12:
    """Normal mode (10-bit, 6 uA at 25 Hz), FIFO in stream mode, no interrupt pins: the app
    polls it after each PPG block, and while the CPU light-sleeps the FIFO keeps filling
    (32 samples = 1.28 s at 25 Hz, five times the 250 ms burst period)."""

    def __init__(self, i2c, addr=None, rate_hz=25, range_g=4):
        self.i2c = i2c
        self._check_rate(rate_hz)
        self._check_range(range_g)
        self.rate_hz = rate_hz
        self.range_g = range_g
        self.overruns = 0  # reads that found the FIFO full: older samples were lost
        self.bus_errors = 0  # reads the bus failed (they return 0 samples)
        self._one = bytearray(1)
        self._raw = bytearray(FIFO_DEPTH * _SAMPLE_BYTES)
        raw = memoryview(self._raw)
        # views of 1, 2, 4 .. 32 samples, made here so that read_fifo slices nothing: n samples
        # come in one burst per set bit of n (6 = 4 + 2): 6 views instead of 33
        self._views = [raw[: _SAMPLE_BYTES << k] for k in range(6)]
        self.addr = self._find(addr)
        self._configure()

    @staticmethod
    def _check_rate(rate_hz):
        if rate_hz not in RATES_HZ:
            raise ValueError("LIS2DH12 rate %r Hz: use one of %s" % (rate_hz, ", ".join(str(r) for r in RATES_HZ)))

    @staticmethod
    def _check_range(range_g):
        if range_g not in RANGES_G:
            raise ValueError("LIS2DH12 range %r g: use one of 2, 4, 8, 16" % (range_g,))

    def _w(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def _r(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._one)
        return self._one[0]

    def _find(self, addr):
        addrs = ADDRS if addr is None else (addr,)
        for a in addrs:
            self.addr = a
            try:
                chip = self._r(_WHO_AM_I)
            except OSError:
                continue  # nothing acknowledges at this address
            if chip != _CHIP_ID:
                raise OSError("0x%02x answers WHO_AM_I 0x%02x, not a LIS2DH12/LIS3DH (0x33): check wiring "
                              "and the part" % (a, chip))
            return a
        raise OSError("LIS2DH12 accelerometer not answering at %s: check wiring (SDA, SCL, 3V3, GND)"
                      % " or ".join("0x%02x" % a for a in addrs))

    def _configure(self):
        """Every register the driver relies on is written: a soft reset of the ESP32 leaves
        the chip as it was, and the LIS2DH12 has no register reset (BOOT reloads trim only)."""
        fs, self._mg = RANGES_G[self.range_g]
        self._w(_CTRL_REG1, 0)  # power-down while configuring
        self._w(_CTRL_REG2, 0)  # no high-pass filter: gravity stays in the data
        self._w(_CTRL_REG3, 0)
        self._w(_CTRL_REG4, _BDU | (fs << 4))  # HR=0 and LPen=0: normal (10-bit) mode
        self._w(_CTRL_REG6, 0)
        self._w(_TEMP_CFG_REG, 0)
        self._w(_FIFO_CTRL_REG, _FM_BYPASS)  # empties the FIFO of samples at another scale or rate
        self._w(_CTRL_REG5, _FIFO_EN)
        self._w(_FIFO_CTRL_REG, _FM_STREAM)
        self._w(_CTRL_REG1, ((RATES_HZ.index(self.rate_hz) + 1) << 4) | _XYZ_ON)

    def set_rate_hz(self, rate_hz):
        self._check_rate(rate_hz)
        self.rate_hz = rate_hz
        self._configure()

    def set_range_g(self, range_g):
        self._check_range(range_g)
        self.range_g = range_g
        self._configure()

    # Native, both: as bytecode _read's frame (14 locals) came from the GC heap on every read
    # (MicroPython heap-allocates a bytecode frame over 11 words; heap_lock tests cannot see
    # it).  A 6-sample read on a do-nothing bus: 11.9k callgrind instructions beside the bus's
    # own calls as bytecode, 8.4k native.
    @micropython.native
    def read_fifo(self, buf):
        """Writes the waiting samples (at most len(buf) // 3) into buf as x, y, z in mg; returns
        how many.  FSS counts 0..31: a full FIFO (32) shows as OVRN_FIFO instead (ruuvitag_fw
        issue 67), and then older samples have been overwritten.  A bus error (a glitch on the
        shared I2C bus) returns 0 and is counted, rather than stopping the PPG task that calls."""
        try:
            return self._read(buf)
        except OSError:
            self.bus_errors += 1
            return 0

    @micropython.native
    def _read(self, buf):
        i2c = self.i2c
        one = self._one
        i2c.readfrom_mem_into(self.addr, _FIFO_SRC_REG, one)
        src = one[0]
        n = src & _FSS
        if src & _OVRN:
            n = FIFO_DEPTH
            self.overruns += 1
        room = len(buf) // 3
        if n > room:
            n = room
        if n == 0:
            return 0
        raw = self._raw
        views = self._views
        mg = self._mg
        j = 0
        left = n
        k = 5
        while left:
            size = 1 << k
            if left >= size:
                # a burst: with the FIFO on, the address rolls back from OUT_Z_H to OUT_X_L
                # and each pass pops the next sample (AN3308, "Retrieving data from FIFO")
                i2c.readfrom_mem_into(self.addr, _OUT_X_L | _AUTO_INC, views[k])
                j = _to_mg(raw, size * _SAMPLE_BYTES, buf, j, mg)
                left -= size
            k -= 1
        return n

    def deinit(self):
        self._w(_CTRL_REG1, 0)  # power-down mode (0.5 uA)


@micropython.viper
def _to_mg(raw, nbytes: int, buf, j: int, mg: int) -> int:
    """Little-endian left-justified 16-bit counts in raw[:nbytes] -> mg into buf (array('h'))
    from j; returns the next j.  Viper: a 6-sample read costs 16.7k callgrind instructions on
    the unix port, 42.7k with this loop in bytecode (@micropython.native did not help)."""
    src = ptr8(raw)
    dst = ptr16(buf)
    i = 0
    while i < nbytes:
        v = src[i] | (src[i + 1] << 8)
        if v & 0x8000:
            v -= 0x10000
        dst[j] = (v >> 6) * mg  # the 10-bit value, sign kept by the arithmetic shift
        j += 1
        i += 2
    return j


def check(i2c, sleep_ms):
    """For `soothe doctor`: does an accelerometer answer, and what does it read at rest?
    Returns {"addr", "mg": [x, y, z] (mean of the samples), "n"} or {"error"}."""
    try:
        acc = Lis2dh12(i2c)
    except OSError as e:
        return {"error": str(e)}
    res = at_rest(acc, sleep_ms)
    acc.deinit()
    return res


def at_rest(acc, sleep_ms):
    """What a running accelerometer (the board's own, in hw/selftest.py) reads over 300 ms:
    {"addr", "mg": [x, y, z] (mean of the samples), "n"}."""
    buf = zeros("h", 3 * FIFO_DEPTH)
    acc.read_fifo(buf)  # drop what waited: only samples taken while the wrist is still
    sleep_ms(300)  # about 7 samples at 25 Hz
    n = acc.read_fifo(buf)
    mean = [sum(buf[3 * i + k] for i in range(n)) // n if n else 0 for k in range(3)]
    return {"addr": acc.addr, "mg": mean, "n": n}
