"""MicroPython runs this at boot: the Soothe app on the board /board.txt names."""
from soothe_fw.main import run

run()
