"""Drivers against fake buses, under CPython and the MicroPython unix port: the exact
register writes (checked against the datasheet register maps) and the read paths."""

# The MicroPython-side code: tests/firmware/mp/drivers_cases.py (one function a case).
CASES = "drivers_cases.py"


def test_max30102_init_writes_the_datasheet_sequence(interp):
    r = interp.case(CASES, "max_init", 0)
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
    r = interp.case(CASES, "max_init", 2)
    assert r["writes"][0] == [0x09, 0x40] and r["writes"][-1] == [0x09, 0x02]


def test_max30102_missing_or_wrong_part_is_a_clear_error(interp):
    r = interp.case(CASES, "max_missing_or_wrong")
    assert "not answering at 0x57" in r[0] and "not a MAX30102" in r[1]


def test_max30102_fifo_bursts_timestamps_and_led_control(interp):
    r = interp.case(CASES, "max_fifo")
    assert r["n1"] == 25 and r["bursts"] == [75]  # one burst of 25 x 3 bytes
    assert r["first"] == [100000, 100001, 100002]
    assert r["n2"] == 32 and r["wrapped"] == [120008, 120039]
    assert r["samples"] == 25 + 32 + 10 + 10  # the time base: sample count / rate
    assert r["led_hi"] == 0x22 and r["led_writes"][0] == 0x22
    assert r["contact"] is False


def test_drv2605_real_time_playback_and_ws2812(interp):
    r = interp.case(CASES, "drv2605_and_ws2812")
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
    r = interp.case(CASES, "board_txt")
    assert r == [["xiao-esp32s3", {"sensor": "max30102", "led": "ws2812"}], ["esp32-devkitc", {}]]


def test_esp32_board_analog_pwm_pin_sequence():
    from conftest import run_case

    r = run_case("micropython", CASES, "esp32_analog_pwm")
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
    from conftest import run_case

    r = run_case("micropython", CASES, "esp32_max30102_ws2812_drv2605")
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


def test_esp32_board_loads_only_the_drivers_board_txt_names():
    # A DevKitC with the default analog sensor, PWM LED and PWM motor never holds the chip
    # drivers' module objects; a board.txt that names the chips loads each one.  (MicroPython
    # only, as the other ESP32 board tests: the fake `machine` needs its `time.ticks_ms`.)
    from conftest import run_case

    plain = run_case("micropython", "esp32_imports.py", "driver_modules", "esp32-devkitc", {"accel": "none"})
    assert plain == ["soothe_fw.hw.esp32"]
    chips = run_case("micropython", "esp32_imports.py", "driver_modules", "xiao-esp32s3",
                     {"sensor": "max30102", "led": "ws2812", "motor": "drv2605", "accel": "none"})
    assert chips == ["soothe_fw.hw.drv2605", "soothe_fw.hw.esp32",
                     "soothe_fw.hw.max30102", "soothe_fw.hw.ws2812"]
