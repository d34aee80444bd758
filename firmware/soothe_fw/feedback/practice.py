"""Haptic timelines of the practices and of the short cues (prompt, mark tap, offer).

Input: a practice (PRACTICE_NAMES index), its length, the pacer rate and the motor
intensity.  Output: like BreathPlan, `at(t_ms)` sets .duty (motor %), .glow (LED
0..255) and .next_ms (the next change, ms from the start) so the actuator sleeps until
then; `length_ms` is where the timeline ends.  Nothing is allocated after construction.

Every practice opens with a start cue and closes with an end cue (breathing's start
cue is its first 120 ms inhale pulse, so its pacing keeps the timeline it always had):
  breathing         the soothing-rhythm pacer (pacer.BreathPlan)
  imagery           compassionate-self imagery: a soft 250 ms pulse once per breath at
                    the wearer's resonance rate (pacer_rate_x10), a stage cue at each of
                    its 3 stages (the compassionate self's wisdom, strength, warmth)
  compassion_break  a self-compassion break: 3 stages (this is suffering; suffering is
                    shared; may I be kind to myself), each opened by a stage cue, quiet between
  body_scan         one soft tap at each of 6 body regions, quiet between
  safe_place        safe-place imagery: 3 stages opened by a stage cue, a very slow soft
                    pulse every 20 s so the wearer feels held without being paced
"""
from soothe_fw.compat import const
from soothe_fw.feedback.pacer import BreathPlan

BREATHING = const(0)
IMAGERY = const(1)
COMPASSION_BREAK = const(2)
BODY_SCAN = const(3)
SAFE_PLACE = const(4)
# The same names as records.PRACTICE_NAMES (a test keeps them equal).
NAMES = ("breathing", "imagery", "compassion_break", "body_scan", "safe_place")

# Cues: (length ms, motor level in % of the intensity setting) pieces.
START_CUE = ((300, 70), (300, 0))  # one long soft swell: "begin"
END_CUE = ((200, 60), (200, 0), (200, 30), (400, 0))  # two falling pulses: "done"
STAGE_CUE = ((60, 40), (90, 0), (60, 40))  # a gentle double tap: "next stage"
REGION_CUE = ((80, 35),)  # body scan: one soft tap, "move on"
PROMPT_CUE = ((200, 50), (300, 0), (200, 50), (300, 0), (200, 50), (300, 0))  # "time for a breath?"
MARK_TAP = ((40, 35),)  # one short soft tap: "noted" (a press's ack is 80 ms at full)
MARK_OFFER = ((1500, 0), (150, 25), (350, 0), (150, 25))  # after the tap: "a practice?", softly
PICK_TAP = ((50, 40),)  # a practice picked in the lead-in

_PULSE_MS = const(250)  # imagery's breath pulse
_PULSE_PCT = const(25)
_SAFE_PULSE_MS = const(20000)
_GLOW = const(80)  # a steady soft green while a quiet practice runs


def cue_ms(cue):
    total = 0
    for length, _ in cue:
        total += length
    return total


class Cue:
    """A cue's timeline from its start; plays once."""

    def __init__(self, cue, intensity_pct):
        self.cue = cue
        self.intensity = intensity_pct
        self.length_ms = cue_ms(cue)
        self.duty = 0
        self.glow = -1  # the LED is left to the state display
        self.next_ms = 0

    def at(self, t_ms):
        self.duty = 0
        self.next_ms = self.length_ms
        _piece(self, self.cue, t_ms, 0)


def _piece(plan, cue, t_ms, base):
    """Sets plan.duty/next_ms from cue when t_ms (from base) falls inside it; True if so."""
    edge = base
    for length, level in cue:
        edge += length
        if t_ms < edge:
            plan.duty = plan.intensity * level // 100
            plan.next_ms = edge
            return True
    return False


class StagePlan:
    """A quiet practice: `stages` stages each opened by `cue`, with an optional soft pulse
    every `pulse_every_ms` inside a stage (after its cue)."""

    def __init__(self, length_ms, stages, cue, pulse_every_ms, intensity_pct):
        self.stage_ms = length_ms // stages
        self.stages = stages
        self.cue = cue
        self.cue_len = cue_ms(cue)
        self.every = pulse_every_ms
        self.intensity = intensity_pct
        self.duty = 0
        self.glow = _GLOW
        self.next_ms = 0
        self.inhaling = False

    def at(self, t_ms):
        k = t_ms // self.stage_ms
        if k >= self.stages:
            k = self.stages - 1
        base = k * self.stage_ms
        end = base + self.stage_ms
        if _piece(self, self.cue, t_ms, base):
            return
        self.duty = 0
        self.next_ms = end
        every = self.every
        if every:
            # pulses at base + j*every (j >= 1), each _PULSE_MS long, none past the stage
            j = (t_ms - base) // every
            on = base + j * every
            if j >= 1 and t_ms < on + _PULSE_MS:
                self.duty = self.intensity * _PULSE_PCT // 100
                self.next_ms = on + _PULSE_MS
            elif on + every + _PULSE_MS <= end:
                self.next_ms = on + every
            self.inhaling = self.duty > 0


def _body(practice, body_ms, rate_x10, inhale, exhale, intensity_pct):
    """The timeline between the start and end cues (a BreathPlan or a StagePlan)."""
    if practice == BREATHING:
        return BreathPlan(rate_x10, inhale, exhale, intensity_pct)
    if practice == IMAGERY:
        return StagePlan(body_ms, 3, STAGE_CUE, 600000 // rate_x10, intensity_pct)
    if practice == BODY_SCAN:
        return StagePlan(body_ms, 6, REGION_CUE, 0, intensity_pct)
    if practice == SAFE_PLACE:
        return StagePlan(body_ms, 3, STAGE_CUE, _SAFE_PULSE_MS, intensity_pct)
    return StagePlan(body_ms, 3, STAGE_CUE, 0, intensity_pct)  # compassion_break


class PracticePlan:
    """Start cue, the practice's body, end cue; length_ms is the whole timeline."""

    def __init__(self, practice, body_ms, rate_x10, inhale, exhale, intensity_pct):
        self.practice = practice
        self.intensity = intensity_pct
        self.rate_x10 = rate_x10 if practice in (BREATHING, IMAGERY) else 0
        # breathing: its first inhale pulse is its start cue
        self.lead_ms = 0 if practice == BREATHING else cue_ms(START_CUE)
        self.body = _body(practice, body_ms, rate_x10, inhale, exhale, intensity_pct)
        self.body_end = self.lead_ms + body_ms
        self.length_ms = self.body_end + cue_ms(END_CUE)
        self.duty = 0
        self.glow = 0
        self.next_ms = 0
        self.inhaling = False

    def at(self, t_ms):
        if t_ms >= self.body_end:
            self.duty = 0
            self.glow = 0
            self.next_ms = self.length_ms
            self.inhaling = False
            _piece(self, END_CUE, t_ms, self.body_end)
            return
        if t_ms < self.lead_ms:
            self.glow = _GLOW
            _piece(self, START_CUE, t_ms, 0)
            return
        body = self.body
        body.at(t_ms - self.lead_ms)
        self.duty = body.duty
        self.glow = body.glow
        self.inhaling = body.inhaling
        nxt = body.next_ms + self.lead_ms
        self.next_ms = nxt if nxt < self.body_end else self.body_end
