"""MicroPython-side cases of tests/firmware/test_drivers.py's import test: which chip
drivers an ESP32 board built from board.txt holds in memory.  `FILE CASE ARGS` (mpcase)."""
import sys

import mpcase


def driver_modules(name, options):
    """The soothe_fw.hw modules loaded after building the board `name` with `options`."""
    from esp32_fake import esp32 as board_esp32, fake_machine

    fake_machine.bus.device(0x57, {0xFF: 0x15})
    fake_machine.bus.device(0x5A, {})
    board_esp32.Esp32Board(name, options)
    return sorted(m for m in sys.modules if m.startswith("soothe_fw.hw."))


mpcase.main(globals())
