"""Drivers against fake buses, under CPython and the MicroPython unix port: the exact
register writes (checked against the datasheet register maps) and the read paths."""

MAX_INIT = """
import json
from fake_i2c import FakeI2C
from soothe_fw.hw import drv2605, max30102, ws2812
bus = FakeI2C(fail_first=%(fail)d)
bus.device(0x57, {0xFF: 0x15})
s = max30102.Max30102(bus, rate_hz=100)
writes = [[reg, val] for op, addr, reg, val in bus.log if op == "w"]
print(json.dumps({"writes": writes, "led": s.led}))
"""


def test_max30102_init_writes_the_datasheet_sequence(interp):
    r = interp(MAX_INIT % {"fail": 0})
    assert r["writes"] == [
        [0x09, 0x40],  # MODE_CONFIG: RESET
        [0x08, 0x1F],  # FIFO_CONFIG: no averaging, rollover on, almost-full at 17 free
        [0x0A, 0x27],  # SPO2_CONFIG: 4096 nA range, 100 sps, 411 us (18 bit)
        [0x0C, 0x24],  # LED1 (red) 7.2 mA
        [0x0D, 0x00],  # LED2 (IR) off
        [0x04, 0x00], [0x05, 0x00], [0x06, 0x00],  # FIFO pointers and overflow counter
        [0x09, 0x02],  # MODE_CONFIG: heart-rate mode
    ]


def test_max30102_recovers_from_a_failed_first_read(interp):
    r = interp(MAX_INIT % {"fail": 2})
    assert r["writes"][0] == [0x09, 0x40] and r["writes"][-1] == [0x09, 0x02]


def test_max30102_missing_or_wrong_part_is_a_clear_error(interp):
    r = interp("""
import json
from fake_i2c import FakeI2C
from soothe_fw.hw import drv2605, max30102, ws2812
out = []
for regs in (None, {0xFF: 0x11}):
    bus = FakeI2C()
    if regs:
        bus.device(0x57, regs)
    try:
        max30102.Max30102(bus)
    except OSError as e:
        out.append(str(e))
print(json.dumps(out))
""")
    assert "not answering at 0x57" in r[0] and "not a MAX30102" in r[1]


def test_max30102_fifo_bursts_timestamps_and_led_control(interp):
    r = interp("""
import json
from array import array
from fake_i2c import FakeI2C
from soothe_fw.hw import drv2605, max30102, ws2812
bus = FakeI2C()
bus.device(0x57, {0xFF: 0x15})
s = max30102.Max30102(bus, rate_hz=100)
out = array("i", [0] * 64)
bus.log.clear()
bus.push([100000 + i for i in range(25)])
n1 = s.read_fifo(out)
bursts = [e for e in bus.log if e[0] == "r" and e[2] == 0x07]
first = list(out[:3])
# 40 samples while nobody read: the FIFO wrapped, the newest 32 are kept
bus.push([120000 + i for i in range(40)])
n2 = s.read_fifo(out)
wrapped = [out[0], out[31]]
# bright (near saturation): the LED current steps down; dark: no contact
bus.push([250000] * 10)
s.read_fifo(out)
led_hi = s.led
bus.push([500] * 10)
s.read_fifo(out)
print(json.dumps({"n1": n1, "bursts": [b[3] for b in bursts], "first": first, "n2": n2, "wrapped": wrapped,
                  "samples": s.samples, "led_hi": led_hi, "contact": s.contact,
                  "led_writes": [e[3] for e in bus.log if e[0] == "w" and e[2] == 0x0C]}))
""")
    assert r["n1"] == 25 and r["bursts"] == [75]  # one burst of 25 x 3 bytes
    assert r["first"] == [100000, 100001, 100002]
    assert r["n2"] == 32 and r["wrapped"] == [120008, 120039]
    assert r["samples"] == 25 + 32 + 10 + 10  # the time base: sample count / rate
    assert r["led_hi"] == 0x22 and r["led_writes"][0] == 0x22
    assert r["contact"] is False


def test_drv2605_real_time_playback_and_ws2812(interp):
    r = interp("""
import json
from fake_i2c import FakeI2C, FakeNeoPixel
from soothe_fw.hw import drv2605, max30102, ws2812
bus = FakeI2C()
bus.device(0x5A, {})
m = drv2605.Drv2605(bus, lra=False)
m.set(60); m.set(60); m.set(0)
np = FakeNeoPixel()
led = ws2812.Ws2812Led(np)
led.set_rgb(20, 0, 0); led.set_rgb(20, 0, 0); led.set_rgb(0, 0, 8)
print(json.dumps({"writes": [[reg, val] for op, a, reg, val in bus.log], "np": np.writes}))
""")
    assert r["writes"] == [
        [0x01, 0x00],  # MODE: out of standby
        [0x1A, 0x00],  # FEEDBACK: ERM
        [0x03, 0x01],  # LIBRARY: ERM library A
        [0x1D, 0x28],  # CONTROL3: ERM open loop, unsigned RTP data
        [0x02, 0x00],  # RTP 0
        [0x01, 0x05],  # MODE: real-time playback
        [0x02, 153],  # 60 % of 255
        [0x02, 0],
    ]
    assert r["np"] == [[[20, 0, 0]], [[0, 0, 8]]]


def test_board_txt_options(interp):
    r = interp("""
import json
from soothe_fw.hw import board
print(json.dumps([board.parse_board_txt("xiao-esp32s3\\n# wearable\\nsensor=max30102\\nled = ws2812\\n"),
                  board.parse_board_txt("")]))
""")
    assert r == [["xiao-esp32s3", {"sensor": "max30102", "led": "ws2812"}], ["esp32-devkitc", {}]]


ESP32 = """
import sys, json
from esp32_fake import esp32 as board_esp32, fake_machine, fake_neopixel, log
%s
"""


def test_esp32_board_analog_pwm_pin_sequence():
    from conftest import run_snippet

    out = run_snippet("micropython", ESP32 % """
import asyncio
from array import array
b = board_esp32.Esp32Board("esp32-devkitc", {"led": "pwm-anode"})
setup = list(log)
log.clear()
b.led.set_rgb(255, 0, 20)
b.motor.set(50)
led = list(log)
# the timer callback only captures; the sensor task copies a block out
fake_machine.ADC.samples = [4096 * 16 + i * 16 for i in range(30)]
cb = fake_machine.Timer.last.callback
for _ in range(25):
    cb(None)
buf = array("i", [0] * 25)
n = asyncio.run(b.sensor.read_block(buf))
# App.sense's path: sleep wait_ms() (asyncio's singleton), then read(), heap locked
import micropython
for _ in range(24):
    cb(None)
buf2 = array("i", [0] * 25)
early = [b.sensor.wait_ms(), b.sensor.read(buf2)]
cb(None)
due = [-1, -1]
micropython.heap_lock()
try:
    due[0] = b.sensor.wait_ms()
    due[1] = b.sensor.read(buf2)
except MemoryError:
    due = "allocated"
micropython.heap_unlock()
b.wdt_feed(); b.wdt_feed()
print(json.dumps({"setup": setup, "led": led, "n": n, "first": buf[0], "last": buf[24], "early": early, "due": due,
                  "wdt": [e for e in log if e[0] in ("wdt", "feed")], "id": b.device_id}))
""")
    r = __import__("json").loads(out.strip().splitlines()[-1])
    assert r["early"] == [10, 0] and r["due"] == [0, 25]  # one sample short: 10 ms at 100 Hz
    s = r["setup"]
    assert ["freq", 160000000] in s
    assert ["adc", 34] in s and ["atten", 34, 3] in s  # ADC1 pin, 11 dB
    assert ["timer", 100, 1] in s  # 100 Hz periodic capture
    assert [e[1] for e in s if e[0] == "pwm"] == [25, 26, 27, 23]  # LED r, g, b, motor
    assert ["pin", 0, 1, 2] in s  # button: input with pull-up
    # common anode: full red is duty 0, off is 65535 (the channels start off; only changed ones are written)
    assert r["led"] == [["duty", 25, 0], ["duty", 27, 65535 - 20 * 257], ["duty", 23, 50 * 655]]
    assert [e[3] for e in s if e[0] == "pwm"][:3] == [65535, 65535, 65535]
    assert r["n"] == 25 and r["first"] == 4096 and r["last"] == 4096 + 24
    assert r["wdt"] == [["wdt", 8000], ["feed"], ["feed"]]  # armed at the first feed, never before
    assert r["id"] == "240ac4123456"


def test_esp32_board_max30102_ws2812_drv2605():
    from conftest import run_snippet

    out = run_snippet("micropython", ESP32 % """
fake_machine.bus.device(0x57, {0xFF: 0x15})
fake_machine.bus.device(0x5A, {})
b = board_esp32.Esp32Board("xiao-esp32s3", {"sensor": "max30102", "led": "ws2812", "motor": "drv2605",
                                            "cpu_mhz": "80"})
b.led.set_rgb(0, 30, 0)
b.motor.set(100)
try:
    board_esp32.Esp32Board("xiao-esp32s3", {"led": "rgbw"})
    err = ""
except ValueError as e:
    err = str(e)
print(json.dumps({"i2c": [e for e in log if e[0] in ("i2c", "freq")], "px": fake_neopixel.made[-1].writes,
                  "rtp": [e[3] for e in fake_machine.bus.log if e[1] == 0x5A and e[2] == 2], "err": err}))
""")
    r = __import__("json").loads(out.strip().splitlines()[-1])
    assert ["freq", 80000000] in r["i2c"] and ["i2c", 0, 8, 9, 400000] in r["i2c"]
    assert r["px"] == [[[0, 30, 0]]]
    assert r["rtp"] == [0, 255]
    assert "board.txt led=rgbw: use one of pwm-cathode, pwm-anode, ws2812" in r["err"]


def test_esp32_light_sleep_between_max30102_bursts_only_when_nothing_needs_the_cpu():
    """With the MAX30102 the CPU light-sleeps between FIFO bursts, but not in the minute
    after boot, a host byte or a button press (the UART/USB stop in light sleep), nor
    while the motor runs or a PWM LED is lit (LEDC stops); the button wakes it."""
    from conftest import run_script

    out = run_script("micropython", "esp32_light_sleep.py")
    r = __import__("json").loads(out.strip().splitlines()[-1])
    assert r["irq"] == [["irq", 6, 4, 2]]  # button pin: level-low wake from light sleep
    assert r["boot"] == []  # the first minute stays awake for a host
    assert r["idle"] == [125]  # half the 250 ms block: the 32-deep FIFO never fills
    assert r["motor"] == [] and r["led"] == [] and r["host"] == []
    assert r["host_quiet"] == [125]
    assert r["press"] == [] and r["after_press"] == []  # a press keeps it awake a minute
    assert r["naps"] == 2
    assert r["errors"] == [
        "board.txt sleep=light needs sensor=max30102 (the analog sensor's sample timer stops in light sleep): "
        "use sleep=none",
        "board.txt sleep=deep: use one of light, none"]
    assert r["analog_napper"] is True
