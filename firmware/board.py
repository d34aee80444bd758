"""Board layer: picks the board description the firmware runs on.

`sim` (the MicroPython unix port, see board_sim.py) is chosen by the command
line; on a real device the board name comes from /board.txt, written by
`soothe deploy` (default: esp32-devkitc).  Each board object provides:
clock, sensor, accel (None, or an accelerometer: rate_hz, read_fifo(buf) -> n samples as
x, y, z milli-g into an array('h'), deinit()), led, motor, button, serial, device_id, data_dir, fs_mount(),
on_stop(fn), report_error(name, exc), wdt_feed(), pacer_rate(rate_x10), deinit().
Holding the button at boot is safe mode (main.py): the app does not start.
"""


def create(argv):
    if argv and argv[0] == "sim":
        import board_sim

        return board_sim.SimBoard(argv[1:])
    name, options = "esp32-devkitc", {}
    try:
        with open("/board.txt") as f:
            name, options = parse_board_txt(f.read(), name)
    except OSError:
        pass
    import board_esp32

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
