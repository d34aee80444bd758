"""Heap the firmware's modules take once imported (run by `soothe bench`, not on the device).

  bench_heap.py            two numbers: bytes for the device modules, then for the
                           simulated board's extras
  bench_heap.py engine     bytes for the signal pipeline's modules alone (pipeline, beats, hrv,
                           motion, contact)
"""
import gc
import sys

gc.collect()
_start = gc.mem_alloc()
if sys.argv[-1] == "engine":
    from soothe_fw.sense import pipeline  # noqa: E402,F401  (beats, hrv, motion, contact)

    gc.collect()
    print(gc.mem_alloc() - _start)
else:
    import asyncio  # noqa: E402,F401
    from soothe_fw import app  # noqa: E402,F401
    from soothe_fw.hw import board  # noqa: E402,F401

    gc.collect()
    _device = gc.mem_alloc()
    from soothe_sim import board as board_sim  # noqa: E402,F401

    gc.collect()
    print(_device - _start, gc.mem_alloc() - _device)
