"""Board layer: picks the board description the firmware runs on.

On a real device the board name comes from /board.txt, written by `soothe deploy`
(default: esp32-devkitc).  The simulated board (soothe_sim/board.py) is built by the
simulator's own entry point, soothe_sim/main.py: this package never imports it.  Each board object provides:
clock, sensor, accel (None, or an accelerometer: rate_hz, read_fifo(buf) -> n samples as
x, y, z milli-g into an array('h'), deinit()), led, motor, button, serial, device_id, data_dir, fs_mount(),
on_stop(fn), report_error(name, exc), wdt_feed(), pacer_rate(rate_x10), deinit().
Holding the button at boot is safe mode (soothe_fw/main.py): the app does not start.
"""


def create():
    name, options = "esp32-devkitc", {}
    try:
        with open("/board.txt") as f:
            name, options = parse_board_txt(f.read(), name)
    except OSError:
        pass
    from soothe_fw.hw import esp32 as board_esp32

    return board_esp32.Esp32Board(name, options)


def parse_board_txt(text, default="esp32-devkitc"):
    """First line: the board name; then optional `key=value` lines, e.g.
    sensor=max30102, led=ws2812|pwm-anode|pwm-cathode, motor=pwm|drv2605, cpu_mhz=80,
    accel=auto|lis2dh12|none."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    options = {}
    for ln in lines[1:]:
        key, _, value = ln.partition("=")
        options[key.strip()] = value.strip()
    return (lines[0] if lines else default), options
