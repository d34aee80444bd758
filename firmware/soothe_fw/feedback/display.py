"""The LED and motor outside cues and practices: the state colour, the no-reading blink,
and the short buzz that acknowledges a press.

Input: the state, device ticks.  Output: LED and motor commands; `show()` returns the
ms until they next change by themselves (-1: not before an event).  Allocates nothing.
"""
from soothe_fw.compat import const, ticks_add, ticks_diff

_BUZZ_MS = const(80)
_BLINK_PERIOD_MS = const(4000)
_BLINK_ON_MS = const(100)
_NO_READING = const(0)
# LED colour per state (full scale; the brightness setting scales it): no-reading (blinks
# instead), threat red, drive blue, soothe green, unclassified dark, balanced a steady
# soft white (reading fine, no system dominates), learning a steady soft violet.
COLOURS = ((0, 0, 0), (255, 0, 0), (0, 0, 255), (0, 255, 0), (0, 0, 0), (110, 110, 110), (90, 0, 160))


class Display:
    def __init__(self, led, motor, settings):
        self.led = led
        self.motor = motor
        self.settings = settings
        self.boot = 0  # the blink's phase counts from here
        self.buzz_end = -1  # ticks when the press acknowledgement ends (-1: none)

    def buzz(self, now):
        self.buzz_end = ticks_add(now, _BUZZ_MS)

    def show(self, now, state):
        """With no reading the LED blinks dim white (one 100 ms blink every 4 s) and is
        otherwise off: it never guesses a state."""
        settings = self.settings  # (a bound method kept in a local would be allocated)
        wait = -1
        if self.buzz_end >= 0:
            left = ticks_diff(self.buzz_end, now)
            if left > 0:
                self.motor.set(settings.get("motor_intensity_pct"))
                wait = left
            else:
                self.buzz_end = -1
                self.motor.set(0)
        else:
            self.motor.set(0)
        bright = settings.get("led_brightness_pct")
        if state == _NO_READING:
            phase = ticks_diff(now, self.boot) % _BLINK_PERIOD_MS
            if phase < _BLINK_ON_MS:
                level = (255 * bright) // 100
                left = _BLINK_ON_MS - phase
            else:
                level = 0
                left = _BLINK_PERIOD_MS - phase
            self.led.set_rgb(level, level, level)
            if wait < 0 or left < wait:
                wait = left
        else:
            rgb = COLOURS[state]
            self.led.set_rgb((rgb[0] * bright) // 100, (rgb[1] * bright) // 100, (rgb[2] * bright) // 100)
        return wait
