"""Test script (MicroPython): imports every module named in sys.argv[1:], in order, then
prints `imported N`.  tests/firmware/test_image_closed.py runs a copy of it from a folder of
its own, so that nothing but the compiled image and the fake `machine` is on the path."""
import sys

for name in sys.argv[1:]:
    __import__(name)
print('imported', len(sys.argv) - 1)
