"""The device's start: the board described by /board.txt, safe mode, then the app.

`firmware/main.py` (the file MicroPython runs at boot) calls `run()`; the simulator has its
own entry point (`soothe_sim.main`) that builds its board and calls `start(board)`.
"""
from soothe_fw import app
from soothe_fw.hw import board as board_mod


def start(b):
    if b.button.pressed():
        # Safe mode: the button held at power-on skips the app (and its watchdog)
        # and leaves the REPL free, e.g. to fix a broken deploy with mpremote.
        print("soothe: safe mode (button held at boot); the app is not running, the REPL is free")
        b.deinit()
        return
    app.run(b)


def run():
    start(board_mod.create())
