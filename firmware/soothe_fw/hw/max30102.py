"""MAX30102 pulse oximeter sensor over I2C (Maxim MAX30102 datasheet, rev 1, register map on
pp. 10-11), in heart-rate mode (red LED only).  Input: an I2C bus object (machine.I2C on the
device, tests/fakes in tests).  Output: read_fifo(out) copies every waiting 18-bit sample into
an array; their times follow from the sample count, never from when the burst happened.
FIFO burst reads of up to 32 samples; LED current auto-adjusted to keep the DC level in range;
contact from the DC level; a failed first I2C transaction is retried with a fresh reset.
Cost: one 96-byte scratch buffer and its 33 memoryview slices (one per burst length, made
once: a slice made per read would allocate); no allocation per read.
"""
from soothe_fw.compat import const

# MAX30102 registers
MAX_ADDR = const(0x57)
R_INT_STATUS1 = const(0x00)
R_FIFO_WR_PTR = const(0x04)
R_OVF_COUNTER = const(0x05)
R_FIFO_RD_PTR = const(0x06)
R_FIFO_DATA = const(0x07)
R_FIFO_CONFIG = const(0x08)
R_MODE_CONFIG = const(0x09)
R_SPO2_CONFIG = const(0x0A)
R_LED1_PA = const(0x0C)  # red
R_LED2_PA = const(0x0D)  # IR
R_PART_ID = const(0xFF)
PART_ID = const(0x15)
MODE_RESET = const(0x40)
MODE_HR = const(0x02)  # heart-rate mode: red LED only, 3 bytes a sample
FIFO_DEPTH = const(32)
# FIFO_CONFIG: SMP_AVE=000 (no averaging), FIFO_ROLLOVER_EN=1, FIFO_A_FULL=0xF
FIFO_CONFIG = const(0x1F)
# SPO2_CONFIG: ADC range 4096 nA (01), rate bits (100 Hz = 001), pulse width 411 us (11)
_RATES = {50: 0, 100: 1, 200: 2, 400: 3, 800: 4, 1000: 5, 1600: 6, 3200: 7}
ADC_MAX = const(262143)  # 18 bits
DC_HIGH = const(200000)  # above: lower the LED current (near saturation)
DC_LOW = const(40000)  # below with contact: raise it
DC_CONTACT = const(10000)  # below: no skin over the sensor
LED_START = const(0x24)  # 7.2 mA (0.2 mA per step)
LED_MIN = const(0x04)
LED_MAX = const(0x7F)


class SensorError(OSError):
    pass


class Max30102:
    adc_max = ADC_MAX
    flat_range = 64

    def __init__(self, i2c, rate_hz=100, addr=MAX_ADDR, retries=3):
        if rate_hz not in _RATES:
            raise ValueError("MAX30102 rate %d: use one of %s" % (rate_hz, sorted(_RATES)))
        self.i2c = i2c
        self.addr = addr
        self.rate_hz = rate_hz
        self.block = 0
        self.samples = 0  # samples read since start: the timestamp base
        self.led = LED_START
        self.contact = False
        self._one = bytearray(1)
        self._fifo = bytearray(FIFO_DEPTH * 3)
        mv = memoryview(self._fifo)
        self._bursts = tuple(mv[: 3 * k] for k in range(FIFO_DEPTH + 1))  # the burst of k samples
        last = None
        for _ in range(retries):
            try:
                self._init()
                return
            except OSError as e:  # a bus glitch at power-up: reset and try again
                last = e
        raise SensorError("MAX30102 not answering at 0x%02x: %s" % (addr, last))

    def _w(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def _r(self, reg):
        self.i2c.readfrom_mem_into(self.addr, reg, self._one)
        return self._one[0]

    def _init(self):
        if self._r(R_PART_ID) != PART_ID:
            raise SensorError("0x%02x is not a MAX30102 (part id)" % self.addr)
        self._w(R_MODE_CONFIG, MODE_RESET)
        self._w(R_FIFO_CONFIG, FIFO_CONFIG)
        self._w(R_SPO2_CONFIG, (1 << 5) | (_RATES[self.rate_hz] << 2) | 3)
        self._w(R_LED1_PA, self.led)
        self._w(R_LED2_PA, 0)
        self._w(R_FIFO_WR_PTR, 0)
        self._w(R_OVF_COUNTER, 0)
        self._w(R_FIFO_RD_PTR, 0)
        self._w(R_MODE_CONFIG, MODE_HR)

    def read_fifo(self, out, start=0):
        """Reads every waiting sample into `out` from `start`; returns how many.

        One burst read of 3 bytes a sample; the samples' times follow from
        self.samples (sample count / rate), never from when the burst happened."""
        wr = self._r(R_FIFO_WR_PTR)
        rd = self._r(R_FIFO_RD_PTR)
        n = (wr - rd) & (FIFO_DEPTH - 1)
        if self._r(R_OVF_COUNTER):
            n = FIFO_DEPTH  # the FIFO wrapped: all 32 are waiting (older ones are lost)
        if n == 0:
            return 0
        room = len(out) - start
        if n > room:
            n = room
        buf = self._bursts[n]
        self.i2c.readfrom_mem_into(self.addr, R_FIFO_DATA, buf)
        total = 0
        for i in range(n):
            v = ((buf[3 * i] << 16) | (buf[3 * i + 1] << 8) | buf[3 * i + 2]) & ADC_MAX
            out[start + i] = v
            total += v
        self.samples += n
        self._adjust(total // n)
        return n

    def _adjust(self, dc):
        """LED current: keep the DC level inside [DC_LOW, DC_HIGH] while on skin."""
        self.contact = dc >= DC_CONTACT
        led = self.led
        if dc > DC_HIGH and led > LED_MIN:
            led -= 2
        elif self.contact and dc < DC_LOW and led < LED_MAX:
            led += 2
        if led != self.led:
            self.led = led
            self._w(R_LED1_PA, led)

    def shutdown(self):
        self._w(R_MODE_CONFIG, 0x80)  # SHDN
