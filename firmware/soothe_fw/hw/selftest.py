"""Board self-test for `soothe doctor`, built from the real board object: /board.txt is read
and hw/esp32.Esp32Board built from it exactly as the app builds it, so every option (sensor,
led, motor, accel, cpu_mhz, sleep) is exercised as deployed; a WS2812 gets pixel writes and a
DRV2605 real-time-playback writes, never a PWM on a pin with nothing on it.
Input: the board (or /board.txt), sleep_ms.  Output: a JSON-able dict (host: deploy.doctor_report).
Cost: about 3 s of a colour and buzz pattern the wearer watches; never run by the app.
"""
from soothe_fw.hw import board as board_mod

PATTERN = ((40, 0, 0), (0, 40, 0), (0, 0, 40), (0, 0, 0))  # red, green, blue, off
PATTERN_WORDS = "red, green, blue, one buzz"
_LED_MS = 300
_BUZZ_PCT = 60
_BUZZ_MS = 200
_ADC_READS = 200  # analog: 1 s of readings, 5 ms apart
_FIFO_MS = 1000  # MAX30102: 1 s of FIFO bursts


def _sensor(sensor, sleep_ms, res):
    """The pulse sensor's raw range over about a second, through the board's own driver."""
    adc = getattr(sensor, "adc", None)
    if adc is not None:  # the analog PulseSensor: the ADC the sample timer reads
        v = []
        for _ in range(_ADC_READS):
            v.append(adc.read_u16() >> 4)
            sleep_ms(5)
        res["adc_min"], res["adc_max"] = min(v), max(v)
        return
    dev = getattr(sensor, "dev", None)  # the MAX30102: its FIFO, read in bursts
    if dev is None:
        return
    from soothe_fw.compat import zeros

    buf = zeros("i", 32)
    lo, hi, n = 1 << 30, -1, 0
    while dev.read_fifo(buf):  # what waited: only count a timed second, which shows the rate
        pass
    for _ in range(_FIFO_MS // 100):
        sleep_ms(100)
        got = dev.read_fifo(buf)
        for i in range(got):
            lo = min(lo, buf[i])
            hi = max(hi, buf[i])
        n += got
    res["fifo_samples"] = n
    if n:
        res["adc_min"], res["adc_max"] = lo, hi


def check(b, sleep_ms, scan_i2c=None):
    """Runs the checks on a built board `b`; returns the findings.  `scan_i2c` is a bus to
    scan when the board built none (the analog PulseSensor with a PWM motor)."""
    res = {}
    bus = b.i2c if b.i2c is not None else scan_i2c
    if bus is not None:
        res["i2c"] = bus.scan()
    if b.accel is not None:
        from soothe_fw.hw import lis2dh12

        res["accel"] = lis2dh12.at_rest(b.accel, sleep_ms)
    elif b.accel_error:
        res["accel"] = {"error": b.accel_error}
    elif b.i2c is None:
        res["accel"] = {"error": "not used: this sensor and motor need no I2C bus (board.txt accel=lis2dh12 "
                                 "builds one)"}
    _sensor(b.sensor, sleep_ms, res)
    res["led"] = type(b.led).__name__
    for rgb in PATTERN:
        b.led.set_rgb(rgb[0], rgb[1], rgb[2])
        sleep_ms(_LED_MS)
    res["motor"] = type(b.motor).__name__
    b.motor.set(_BUZZ_PCT)
    sleep_ms(_BUZZ_MS)
    b.motor.set(0)
    res["pattern"] = PATTERN_WORDS
    return res


def run(sleep_ms=None, board_txt="board.txt"):
    """`soothe doctor`'s entry on the board: the findings for the board /board.txt describes."""
    import time

    import machine

    from soothe_fw.hw import esp32

    sleep_ms = sleep_ms or time.sleep_ms
    name, opts = "esp32-devkitc", {}
    try:
        with open(board_txt) as f:
            name, opts = board_mod.parse_board_txt(f.read(), name)
    except OSError:
        pass
    res = {"board": name, "options": opts}
    try:
        b = esp32.Esp32Board(name, opts)
    except (OSError, ValueError) as e:  # a chip board.txt declares does not answer, or a bad option
        res["board_error"] = "%s: %s" % (type(e).__name__, e)
        return res
    try:
        scan = None
        if b.i2c is None:  # nothing on board.txt needs the bus: scan it anyway, for a chip not declared
            pins = esp32.PINS[name]
            scan = machine.I2C(0, sda=machine.Pin(pins[6]), scl=machine.Pin(pins[7]))
        res.update(check(b, sleep_ms, scan))
    finally:
        b.deinit()
    return res
