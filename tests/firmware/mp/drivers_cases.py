"""MicroPython-side cases of tests/firmware/test_drivers.py: the MAX30102, DRV2605 and WS2812
drivers against fake buses, board.txt parsing, and the ESP32 board's pin sequences on the
fake `machine` (esp32_fake, imported only by those cases: it replaces modules).
`FILE CASE ARGS` (mpcase)."""
from array import array

import mpcase
from fake_i2c import FakeI2C, FakeNeoPixel
from soothe_fw.hw import board, drv2605, max30102, ws2812


def max_init(fail):
    bus = FakeI2C(fail_first=fail)
    bus.device(0x57, {0xFF: 0x15})
    s = max30102.Max30102(bus, rate_hz=100)
    writes = [[reg, val] for op, addr, reg, val in bus.log if op == "w"]
    return {"writes": writes, "led": s.led}


def max_missing_or_wrong():
    out = []
    for regs in (None, {0xFF: 0x11}):
        bus = FakeI2C()
        if regs:
            bus.device(0x57, regs)
        try:
            max30102.Max30102(bus)
        except OSError as e:
            out.append(str(e))
    return out


def max_fifo():
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
    return {"n1": n1, "bursts": [b[3] for b in bursts], "first": first, "n2": n2, "wrapped": wrapped,
            "samples": s.samples, "led_hi": led_hi, "contact": s.contact,
            "led_writes": [e[3] for e in bus.log if e[0] == "w" and e[2] == 0x0C]}


def drv2605_and_ws2812():
    bus = FakeI2C()
    bus.device(0x5A, {})
    m = drv2605.Drv2605(bus, lra=False)
    m.set(60)
    m.set(60)
    m.set(0)
    np = FakeNeoPixel()
    led = ws2812.Ws2812Led(np)
    led.set_rgb(20, 0, 0)
    led.set_rgb(20, 0, 0)
    led.set_rgb(0, 0, 8)
    return {"writes": [[reg, val] for op, a, reg, val in bus.log], "np": np.writes}


def board_txt():
    return [board.parse_board_txt("xiao-esp32s3\n# wearable\nsensor=max30102\nled = ws2812\n"),
            board.parse_board_txt("")]


def esp32_analog_pwm():
    import asyncio

    import micropython
    from esp32_fake import esp32 as board_esp32, fake_machine, log

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
    b.wdt_feed()
    b.wdt_feed()
    return {"setup": setup, "led": led, "n": n, "first": buf[0], "last": buf[24], "early": early, "due": due,
            "wdt": [e for e in log if e[0] in ("wdt", "feed")], "id": b.device_id}


def esp32_max30102_ws2812_drv2605():
    from esp32_fake import esp32 as board_esp32, fake_machine, fake_neopixel, log

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
    return {"i2c": [e for e in log if e[0] in ("i2c", "freq")], "px": fake_neopixel.made[-1].writes,
            "rtp": [e[3] for e in fake_machine.bus.log if e[1] == 0x5A and e[2] == 2], "err": err}


mpcase.main(globals())
