"""Button gestures from a polled pin: debounce, short, long and double press.

Input: the pin's pressed state at each poll with the ms since the previous poll.
Output: a gesture once it is complete (SHORT, LONG, DOUBLE: two or more quick presses)
and `.presses`, the presses of the burst.  Cost: a few integer counters, no allocation.
A short press waits DOUBLE_GAP_MS after its release for a second one, unless the
caller asks for single presses (a practice ends at once on a press).
"""
from soothe_fw.compat import const

NONE = const(0)
SHORT = const(1)
LONG = const(2)
DOUBLE = const(3)
GESTURE_NAMES = ("none", "short", "long", "double")

DEBOUNCE_MS = const(40)  # contact bounce of a tactile switch lasts < 10 ms; 40 is safe
LONG_PRESS_MS = const(1000)
# A second press starting this soon after a release joins the gesture.  Human double
# clicks come 100-300 ms apart (desktop systems default to a 400-500 ms limit).
DOUBLE_GAP_MS = const(400)


class Button:
    def __init__(self):
        self.pressed_ms = 0  # how long the current press has lasted
        self.quiet_ms = 0  # since the last release
        self.count = 0  # short presses in the burst read so far
        self.presses = 0  # of the last completed gesture
        self.age_ms = 0  # how long ago the gesture's first press began (when it completes)

    def reading(self):
        """True while a gesture is being read (the ui polls instead of sleeping)."""
        return self.pressed_ms > 0 or self.count > 0

    def update(self, pressed, step_ms, single=False):
        """One poll; returns NONE or the completed gesture (its presses in .presses)."""
        if pressed:
            if self.pressed_ms == 0 and self.count == 0:
                self.age_ms = 0  # a new gesture
            self.age_ms += step_ms
            self.pressed_ms += step_ms
            self.quiet_ms = 0
            return NONE
        if self.pressed_ms or self.count:
            self.age_ms += step_ms
        if self.pressed_ms:
            self.quiet_ms += step_ms
            if self.quiet_ms < DEBOUNCE_MS:
                return NONE
            held = self.pressed_ms
            self.pressed_ms = 0
            if held >= LONG_PRESS_MS:
                self.count = 0
                self.presses = 1
                return LONG
            if held >= DEBOUNCE_MS:
                self.count += 1
                if single:
                    return self._done()
            return NONE  # a bounce, or a short press that may have a second
        if self.count:
            self.quiet_ms += step_ms
            if self.quiet_ms >= DOUBLE_GAP_MS:
                return self._done()
        return NONE

    def _done(self):
        n = self.count
        self.presses = n
        self.count = 0
        return SHORT if n == 1 else DOUBLE
