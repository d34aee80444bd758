"""Soothing-rhythm breathing pacer: the haptic and LED timeline of a breath plan.

Input: breaths per minute (x10) and the inhale:exhale ratio, motor intensity.
Output: a step function of (motor duty %, LED glow 0..255) over ms from the session
start; `at(t_ms)` fills .duty/.glow/.next_ms so the pacer task can sleep until the
next change.  Nothing is allocated.
Touch code: a 120 ms full pulse starts each inhale, then a ramp rising from 25 % to
100 % of intensity in 10 steps; a 100 ms pause and two 50 ms taps mark the turn to
exhale, which is
otherwise silent.  The glow rises over the inhale and falls over the exhale.
"""
from soothe_fw.compat import const

CUE_MS = const(120)
TAP_MS = const(50)
TAP_GAP_MS = const(70)
TURN_PAUSE_MS = const(100)  # silence between the inhale ramp and the turn taps
# The turn to exhale: (length ms, motor on) pieces, then silence.
_TURN = ((TURN_PAUSE_MS, False), (TAP_MS, True), (TAP_GAP_MS, False), (TAP_MS, True))
RAMP_STEPS = const(10)
GLOW_STEPS = const(10)


class BreathPlan:
    def __init__(self, rate_x10=60, inhale=4, exhale=6, intensity_pct=60):
        if not 45 <= rate_x10 <= 70:
            raise ValueError("pacer rate must be 4.5..7.0 breaths/min")
        if not (1 <= inhale <= 10 and 1 <= exhale <= 10):
            raise ValueError("inhale and exhale parts must be 1..10")
        self.rate_x10 = rate_x10
        self.period_ms = 600000 // rate_x10
        self.inhale_ms = self.period_ms * inhale // (inhale + exhale)
        self.intensity = intensity_pct
        self.duty = 0
        self.glow = 0
        self.next_ms = 0
        self.inhaling = True

    def at(self, t_ms):
        """Sets duty, glow, inhaling and next_ms (the next change) for time t_ms."""
        p = self.period_ms
        start = t_ms - t_ms % p
        ph = t_ms - start
        ins = self.inhale_ms
        top = self.intensity
        if ph < ins:
            self.inhaling = True
            step_ms = ins // RAMP_STEPS
            k = ph // step_ms
            if k >= RAMP_STEPS:
                k = RAMP_STEPS - 1
            self.glow = 25 + (230 * (k + 1)) // RAMP_STEPS
            if ph < CUE_MS:
                self.duty = top
                self.next_ms = start + CUE_MS
            else:
                self.duty = top * (25 + (75 * k) // (RAMP_STEPS - 1)) // 100
                nxt = start + (k + 1) * step_ms
                self.next_ms = nxt if k + 1 < RAMP_STEPS else start + ins
            return
        self.inhaling = False
        ex = ph - ins
        exh = p - ins
        step_ms = exh // GLOW_STEPS
        k = ex // step_ms
        if k >= GLOW_STEPS:
            k = GLOW_STEPS - 1
        self.glow = 255 - (230 * (k + 1)) // GLOW_STEPS
        edge = 0
        for length, on in _TURN:
            edge += length
            if ex < edge:
                self.duty = top if on else 0
                self.next_ms = start + ins + edge
                return
        self.duty = 0
        nxt = start + ins + (k + 1) * step_ms
        self.next_ms = nxt if k + 1 < GLOW_STEPS else start + p
