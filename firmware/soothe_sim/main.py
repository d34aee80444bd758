"""The simulator's entry point: the real firmware on the simulated board.

    micropython -m soothe_sim.main [--synthetic --seed N --plan P | --ppg FILE] ...

(arguments: soothe_sim/board.py).  The device package never imports this package.
"""
import sys

from soothe_fw.main import start
from soothe_sim.board import SimBoard

start(SimBoard(getattr(sys, "argv", [])[1:]))
