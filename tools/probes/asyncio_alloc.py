"""Bytes each asyncio primitive allocates per wait on this port (gc off, gc.mem_alloc deltas
over 20 waits in one task), beside the ui's Wake (issue 17).  Not part of the device image.

    cd firmware && MICROPYPATH=.frozen:$PWD micropython ../tools/probes/asyncio_alloc.py
"""
import asyncio
import gc
import micropython

from soothe_fw.feedback.ui import Wake

N = 20
KINDS = ("asyncio.sleep_ms", "asyncio.wait_for_ms(flag.wait(), ms) ending in its timeout",
         "ThreadSafeFlag.wait() already set", "Event.wait() already set", "Wake.wait(ms) ending at ms",
         "Wake.wait(ms) ended early by set() from another task")
tsf = asyncio.ThreadSafeFlag()
ev = asyncio.Event()
wake = Wake()
setting = [False]


async def setter():  # sets the Wake 1 ms into each wait, from task context
    while setting[0]:
        await asyncio.sleep_ms(1)
        wake.set()


async def wait(k):
    if k == 0:
        await asyncio.sleep_ms(1)
    elif k == 1:
        try:
            await asyncio.wait_for_ms(tsf.wait(), 1)
        except asyncio.TimeoutError:
            pass
    elif k == 2:
        tsf.set()
        await tsf.wait()
    elif k == 3:
        ev.set()
        await ev.wait()
        ev.clear()
    else:
        await wake.wait(1 if k == 4 else 1000)


async def main():
    res = []
    for k in range(len(KINDS)):
        if k == 5:
            setting[0] = True
            asyncio.create_task(setter())
        for _ in range(3):  # warm-up
            await wait(k)
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        for _ in range(N):
            await wait(k)
        b = gc.mem_alloc()
        gc.enable()
        res.append((b - a) // N)
    setting[0] = False
    base = res[0]  # sleep_ms itself allocates nothing: what it shows is wait()'s own coroutine
    for k in range(len(KINDS)):
        print("%s: %d bytes per wait" % (KINDS[k], res[k] - base))
    micropython.heap_lock()
    try:
        for _ in range(N):
            await wake.wait(1)
        locked = "nothing allocated"
    except MemoryError:
        locked = "allocated"
    micropython.heap_unlock()
    print("Wake.wait(ms) with the heap locked: %s" % locked)


asyncio.run(main())
