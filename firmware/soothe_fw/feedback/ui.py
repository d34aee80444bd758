"""The wearer's side of the device as two tasks: the button and the state display
(`buttons`), and the guide's timeline on the motor and LED (`actuator`).

Input: the board's button, motor and LED; the state (set by the app); the guide.
Output: gestures to the guide (button.Button), the display (display.Display), the cues
and practices played on their schedule.  Per ui tick and per timeline change nothing
is allocated: both tasks sleep on a Wake (a deadline or a set(), one object reused),
not on asyncio.wait_for_ms, which makes a task, a coroutine and a TimeoutError with its
traceback every time (800 B per wake on a 32-bit port, 1,280 B on 64-bit:
tools/probes/asyncio_alloc.py).  A button edge costs an
allocation (the edges task's ThreadSafeFlag wait); a tick does not.
"""
import asyncio

from soothe_fw.compat import const, ticks_diff
from soothe_fw.log import records
from soothe_fw.feedback.button import Button, NONE, LONG, DOUBLE
from soothe_fw.feedback.display import Display

_UI_MS = const(20)  # button poll while a gesture is being read (debounce, long, double)
UI_IDLE_MS = const(5000)  # otherwise the ui wakes on events, at its next LED change, or after this


try:
    from asyncio import core as _core  # MicroPython's scheduler: its task queue and ticks

    _QUEUE = hasattr(_core, "_task_queue")
except ImportError:  # CPython
    _core = None
    _QUEUE = False


class Wake:
    """A task's wake-up, reused for ever: `await wake.wait(ms)` returns after `ms`, or
    as soon as another task calls `set()`, whichever comes first (a set() while nobody
    waits makes the next wait return at once).  Allocates nothing: the object is its own
    awaitable, in the way of asyncio's sleep_ms singleton, and set() moves the waiting
    task to the front of asyncio's queue.  set() is for task context only (an IRQ sets a
    ThreadSafeFlag and a task relays it: Ui.edges).  Where asyncio has no task queue of
    MicroPython's kind (CPython) it falls back to an Event and wait_for."""

    def __init__(self):
        self.state = False  # set while nobody waited
        self.waiter = None  # the task asleep in wait()
        self._due = False
        self._at = 0
        self._stop = StopIteration()
        self._event = None if _QUEUE else asyncio.Event()

    def wait(self, ms):
        if self._event is not None:
            return self._fallback(ms)
        if self.state:
            self.state = False
            self._due = False  # returns at the first step, without yielding
        else:
            self._due = True
            self._at = _core.ticks_add(_core.ticks(), ms if ms > 0 else 0)
        return self

    def set(self):
        if self._event is not None:
            self._event.set()
            return
        t = self.waiter
        if t is None or t.done():  # nobody waits (or its task was cancelled asleep)
            self.waiter = None
            self.state = True
            return
        self.waiter = None
        q = _core._task_queue
        q.remove(t)  # asleep until its deadline: due now instead (on asyncio's clock)
        q.push(t, _core.ticks())

    def __iter__(self):
        return self

    def __next__(self):
        if self._due:
            self._due = False
            self.waiter = t = _core.cur_task
            _core._task_queue.push(t, self._at)
            return None
        self.waiter = None
        self._stop.__traceback__ = None
        raise self._stop

    async def _fallback(self, ms):
        event = self._event
        assert event is not None
        try:
            await asyncio.wait_for(event.wait(), ms / 1000)
        except asyncio.TimeoutError:
            pass
        event.clear()


class Ui:
    def __init__(self, board, settings, guide, wake, event):
        self.pin = board.button
        self.motor = board.motor
        self.led = board.led
        self.clock = board.clock
        self.settings = settings
        self.guide = guide
        self.wake = wake  # the actuator: a cue or a practice to play (the guide sets it)
        self.event = event
        self.button = Button()
        self.display = Display(board.led, board.motor, settings)
        # Wakes the ui: a new state, the actuator handing the LED and motor back, or a
        # button edge, which the pin IRQ sets on `edge` (hence a ThreadSafeFlag) and the
        # edges task relays.
        self.flag = Wake()
        self.edge = asyncio.ThreadSafeFlag() if hasattr(asyncio, "ThreadSafeFlag") else None
        self.state = 0  # the state shown (the app sets it)
        self.alive = 0  # ui wakes (watchdog)
        self.tick = 0  # ticks of the last wake (watchdog)
        self.running = True

    def show(self, now):
        """The ui's LED and motor at ticks `now`, unless the actuator owns them; returns the
        ms until they next change by themselves (-1: not before an event).  Allocates nothing."""
        if self.guide.playing():
            return -1
        return self.display.show(now, self.state)

    def pace(self, plan):
        """The motor duty and green glow (-1: the LED stays the state's) of a plan's
        current step; allocates nothing."""
        self.motor.set(plan.duty)
        if plan.glow >= 0:
            self.led.set_rgb(0, (plan.glow * self.settings.get("led_brightness_pct")) // 100, 0)

    async def buttons(self):
        """Event-driven: sleeps until a button edge, a new state, the actuator handing
        back, or its own next LED change (the no-reading blink, the end of a buzz); at
        most UI_IDLE_MS.  Only while a gesture is being read does it poll every 20 ms.
        A short buzz acknowledges a press that starts nothing."""
        pin = self.pin
        button = self.button
        guide = self.guide
        clock = self.clock
        flag = self.flag
        watch = None if self.edge is None else getattr(pin, "watch", None)  # edges: see edges()
        while self.running:
            now = clock.ticks_ms()
            self.tick = now
            self.alive += 1
            # while a practice runs (or listens for picks) every press counts at once
            g = button.update(pin.pressed(), _UI_MS, guide.session.active)
            if g != NONE:
                self.event(records.EV_BUTTON, b"long" if g == LONG else (b"double" if g == DOUBLE else b"short"))
                if guide.gesture(now, g == LONG, g == DOUBLE, button.presses, self.state, button.age_ms):
                    self.display.buzz(now)
            wait = self.show(now)
            if button.reading() or watch is None:
                await asyncio.sleep_ms(_UI_MS)  # reading a gesture (or a button without edges)
                continue
            if wait < 0 or wait > UI_IDLE_MS:
                wait = UI_IDLE_MS
            await flag.wait(wait)

    async def edges(self):
        """Relays the button's edges (the board's pin IRQ sets `edge`) to the ui's Wake.
        Asleep between presses: a press and a release allocate (a ThreadSafeFlag wait),
        a ui tick does not."""
        watch = getattr(self.pin, "watch", None)
        edge = self.edge
        if watch is None or edge is None:
            return
        watch(edge)  # the board sets it on every press and release
        flag = self.flag
        while self.running:
            await edge.wait()
            flag.set()

    async def actuator(self):
        """Motor and LED while a cue (prompt, mark) or a practice plays; sleeps otherwise.

        Each change is scheduled from the cue's or the practice's start on the device
        clock, so the haptic timeline does not drift with task latency."""
        guide = self.guide
        clock = self.clock
        wake = self.wake
        while self.running:
            await wake.wait(UI_IDLE_MS)  # a cue or a practice (the guide sets it)
            while guide.playing():
                now = clock.ticks_ms()
                wait = guide.tick(now)
                self.pace(guide)
                if wait < 0:
                    self.motor.set(0)
                    self.flag.set()  # the LED shows the state again
                    break
                wait -= ticks_diff(clock.ticks_ms(), now)
                if wait > 0:
                    await wake.wait(wait)
