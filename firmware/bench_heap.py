"""Heap the firmware's modules take once imported (run by `soothe bench`, not on the device).

Prints two numbers: bytes for the device modules, then for the simulated board's extras.
"""
import gc

gc.collect()
_start = gc.mem_alloc()
import asyncio  # noqa: E402,F401
import app  # noqa: E402,F401
import board  # noqa: E402,F401

gc.collect()
_device = gc.mem_alloc()
import board_sim  # noqa: E402,F401

gc.collect()
print(_device - _start, gc.mem_alloc() - _device)
