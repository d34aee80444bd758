"""Bus-level drivers that need no `machine`: the bus or pin object is passed in, so the
same code runs on the ESP32 (machine.I2C, neopixel.NeoPixel) and against the fakes in
tests/fakes under CPython and the MicroPython unix port.

- Max30102: pulse oximeter sensor over I2C (Maxim MAX30102 datasheet, rev 1, register map
  on pp. 10-11).  FIFO burst reads of up to 32 samples, timestamped by sample count;
  LED current auto-adjusted to keep the DC level in range; contact from the DC level;
  a failed first I2C transaction is retried with a fresh reset.
- Drv2605: haptic driver (TI DRV2605L datasheet, section 8.6), real-time playback mode.
- Ws2812Led: one NeoPixel.
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
        buf = memoryview(self._fifo)[: n * 3]
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


# DRV2605L registers
DRV_ADDR = const(0x5A)
D_STATUS = const(0x00)
D_MODE = const(0x01)
D_RTP = const(0x02)
D_LIBRARY = const(0x03)
D_FEEDBACK = const(0x1A)
D_CONTROL3 = const(0x1D)
D_MODE_RTP = const(0x05)
D_STANDBY = const(0x40)


class Drv2605:
    """Real-time playback: the motor's strength follows set(duty_pct) at once."""

    def __init__(self, i2c, lra=False, addr=DRV_ADDR):
        self.i2c = i2c
        self.addr = addr
        self._one = bytearray(1)
        self.duty = 0
        self._w(D_MODE, 0x00)  # out of standby, internal trigger
        self._w(D_FEEDBACK, 0x80 if lra else 0x00)  # N_ERM_LRA
        self._w(D_LIBRARY, 6 if lra else 1)  # LRA library, or ERM library A
        self._w(D_CONTROL3, 0x08 | (0x01 if lra else 0x20))  # unsigned RTP data; LRA open loop / ERM open loop
        self._w(D_RTP, 0)
        self._w(D_MODE, D_MODE_RTP)

    def _w(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.addr, reg, self._one)

    def set(self, duty_pct):
        if duty_pct != self.duty:
            self.duty = duty_pct
            self._w(D_RTP, (duty_pct * 255) // 100)

    def standby(self):
        self._w(D_RTP, 0)
        self._w(D_MODE, D_STANDBY)


class Ws2812Led:
    """One WS2812 pixel through a NeoPixel-like object (`np[0] = (r, g, b)`, `np.write()`)."""

    def __init__(self, np):
        self.np = np
        self.rgb = [0, 0, 0]  # updated in place: set_rgb allocates nothing

    def set_rgb(self, r, g, b):
        rgb = self.rgb
        if r != rgb[0] or g != rgb[1] or b != rgb[2]:
            rgb[0] = r
            rgb[1] = g
            rgb[2] = b
            self.np[0] = rgb  # NeoPixel copies the 3 items into its buffer
            self.np.write()
