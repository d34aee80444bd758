"""The wearer's side of the device as two tasks: the button and the state display
(`buttons`), and the guide's timeline on the motor and LED (`actuator`).

Input: the board's button, motor and LED; the state (set by the app); the guide.
Output: gestures to the guide (button.Button), the display (display.Display), the cues
and practices played on their schedule.  Per ui tick and per timeline change nothing
is allocated.
"""
import asyncio

from soothe_fw.compat import const, ticks_diff
from soothe_fw.log import records
from soothe_fw.feedback.button import Button, NONE, LONG, DOUBLE
from soothe_fw.feedback.display import Display

_UI_MS = const(20)  # button poll while a gesture is being read (debounce, long, double)
UI_IDLE_MS = const(5000)  # otherwise the ui wakes on events, at its next LED change, or after this


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
        # Wakes the ui: a button edge (pin IRQ on the ESP32, hence ThreadSafeFlag), a new
        # state, or the actuator handing the LED and motor back.
        self.flag = asyncio.ThreadSafeFlag() if hasattr(asyncio, "ThreadSafeFlag") else asyncio.Event()
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
        watch = getattr(pin, "watch", None)
        if watch is not None:
            watch(flag)  # the board sets the flag on every press and release
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
            try:
                await asyncio.wait_for_ms(flag.wait(), wait)
            except asyncio.TimeoutError:
                pass
            flag.clear()

    async def actuator(self):
        """Motor and LED while a cue (prompt, mark) or a practice plays; sleeps otherwise.

        Each change is scheduled from the cue's or the practice's start on the device
        clock, so the haptic timeline does not drift with task latency."""
        guide = self.guide
        clock = self.clock
        wake = self.wake
        while self.running:
            await wake.wait()
            wake.clear()
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
                    try:
                        await asyncio.wait_for_ms(wake.wait(), wait)
                    except asyncio.TimeoutError:
                        pass
                    wake.clear()
