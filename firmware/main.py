"""Entry point on the device and under the unix port: `micropython main.py sim ...`."""
import sys

import app
import board


def main():
    argv = getattr(sys, "argv", [])[1:]
    b = board.create(argv)
    if b.button.pressed():
        # Safe mode: the button held at power-on skips the app (and its watchdog)
        # and leaves the REPL free, e.g. to fix a broken deploy with mpremote.
        print("soothe: safe mode (button held at boot); the app is not running, the REPL is free")
        b.deinit()
        return
    app.run(b)


main()
