"""Test script (MicroPython unix port): the real ui tasks (Ui.buttons, Ui.edges, Ui.actuator)
running under asyncio with the heap locked, on the App of tools/probes/bench_device.py (the
real LED and motor drivers: PwmLED, Ws2812Led, SimLED, Drv2605, PwmMotor over allocation-free
fake peripherals).  asyncio's clock is the board's, moved on to the next due task (as the
simulated board's virtual time does), so an hour of wakes runs in a moment.
Prints JSON; tests/firmware/test_ui_wake_alloc.py asserts on it."""
import asyncio
import asyncio.core as core
import json
import micropython

import bench_device as d
from soothe_fw.compat import ticks_diff
from soothe_fw.feedback.state import SOOTHE, NO_READING
from soothe_fw.feedback.session import MANUAL

d.now[0] = 1000000  # far from the 2**30 wrap (the 64-bit port's asyncio wraps at 2**62)
app = d.app
ui = app.ui
app.guide.boot = ui.display.boot = ui.tick = d.now[0]


class EdgeButton:  # the ESP32 Button's interface: a level and an edge IRQ setting a flag
    def __init__(self):
        self.level = 1
        self.flag = None

    def pressed(self):
        return self.level == 0

    def watch(self, flag):
        self.flag = flag

    def edge(self, level):  # what the pin IRQ does
        self.level = level
        self.flag.set()


button = ui.pin = EdgeButton()

core.ticks = d.ticks
_real_wait = core._io_queue.wait_io_event


def _wait_io_event(dt):  # virtual time: nothing to do until the next task, so jump there
    _real_wait(0)
    if dt > 0:
        head = core._task_queue.peek()
        if head is not None and ticks_diff(head.ph_key, d.now[0]) > 0:
            d.now[0] = head.ph_key


core._io_queue.wait_io_event = _wait_io_event
died = [0, 0, 0]  # a task ended by a MemoryError (allocated with the heap locked)


async def guard(i, fn):
    try:
        await fn()
    except MemoryError:
        died[i] = 1


def motor_writes():
    return d.pwm_motor.pwm.writes


async def locked(ms):
    """Sleeps `ms` of virtual time with the heap locked; True if nothing allocated."""
    micropython.heap_lock()
    try:
        await asyncio.sleep_ms(ms)
        ok = True
    except MemoryError:
        ok = False
    micropython.heap_unlock()
    return ok


async def main():
    r = {}
    edges = getattr(ui, "edges", None)  # (the ui before its Wake had no edges task)
    tasks = [asyncio.create_task(guard(0, ui.buttons)), asyncio.create_task(guard(2, ui.actuator))]
    if edges is not None:
        tasks.append(asyncio.create_task(guard(1, edges)))
    r["t0"] = d.now[0]
    await asyncio.sleep_ms(10000)  # warm-up, heap unlocked
    r["t1"] = d.now[0]
    # 1. no reading: the LED blinks (a wake at each blink edge), an hour, heap locked
    a0 = ui.alive
    r["no_reading_ok"] = await locked(3600000)
    r["no_reading_wakes"] = ui.alive - a0
    # 2. a new state wakes the ui at once (what App._show_state does after logging it)
    micropython.heap_lock()
    ui.state = SOOTHE
    t0 = d.now[0]
    a0 = ui.alive
    ui.flag.set()
    await asyncio.sleep_ms(0)
    await asyncio.sleep_ms(0)
    micropython.heap_unlock()
    r["state_woke"] = [ui.alive - a0, ticks_diff(ui.tick, t0)]
    a0 = ui.alive
    r["soothe_ok"] = await locked(3600000)  # idle: UI_IDLE_MS wakes only
    r["soothe_wakes"] = ui.alive - a0
    r["green"] = list(d.pwm_led.rgb)
    # 3. a button edge (the IRQ's flag) wakes the ui at once; then it polls while reading
    t0 = d.now[0]
    a0 = ui.alive
    button.edge(0)
    await asyncio.sleep_ms(1)
    r["press_woke"] = [ui.alive - a0, ticks_diff(ui.tick, t0)]
    await asyncio.sleep_ms(80)
    button.edge(1)
    await asyncio.sleep_ms(2000)
    r["press_events"] = app.log.appended if hasattr(app.log, "appended") else -1
    # 4. a breathing practice: the actuator steps the pacer, heap locked in its middle
    app.guide.start(d.now[0], MANUAL, 0)
    await asyncio.sleep_ms(20000)  # its first cues (the plan is made at the first)
    m0 = motor_writes()
    r["practice_ok"] = await locked(60000)
    r["practice_motor_writes"] = motor_writes() - m0
    r["playing"] = app.guide.playing()
    ui.running = False
    app.guide.session.stop = True
    ui.flag.set()
    app.guide.wake()
    await asyncio.sleep_ms(6000)
    r["died"] = died
    r["state"] = ui.state != NO_READING
    for t in tasks:
        t.cancel()
    print(json.dumps(r))


asyncio.run(main())
