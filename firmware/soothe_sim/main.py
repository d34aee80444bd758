"""The simulator's entry point: the real firmware on the simulated board.

    micropython -m soothe_sim.main [--synthetic --seed N --plan P | --ppg FILE] ...

(arguments: soothe_sim/board.py).  The device package never imports this package.
"""
import gc
import sys

from soothe_fw.main import start  # the device's modules, all imported here

gc.collect()
_device_only = gc.mem_alloc()
from soothe_sim.board import SimBoard  # noqa: E402

board = SimBoard(getattr(sys, "argv", [])[1:])
gc.collect()
board.heap_sim = gc.mem_alloc() - _device_only  # the simulated board's own share (its stats line)
start(board)
