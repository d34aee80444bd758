"""Board layer: picks the board description the firmware runs on.

`sim` (the MicroPython unix port, see board_sim.py) is chosen by the command
line; on a real device the board name comes from /board.txt, written by
`soothe deploy` (default: esp32-devkitc).  Each board object provides:
clock, sensor, led, motor, button, serial, device_id, data_dir, fs_mount(),
on_stop(fn), report_error(name, exc), deinit().
"""


def create(argv):
    if argv and argv[0] == "sim":
        import board_sim

        return board_sim.SimBoard(argv[1:])
    name = "esp32-devkitc"
    try:
        with open("/board.txt") as f:
            name = f.read().strip() or name
    except OSError:
        pass
    import board_esp32

    return board_esp32.Esp32Board(name)
