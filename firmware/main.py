"""Entry point on the device and under the unix port: `micropython main.py sim ...`."""
import sys

import app
import board


def main():
    argv = getattr(sys, "argv", [])[1:]
    app.run(board.create(argv))


main()
