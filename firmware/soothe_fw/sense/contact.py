"""The wearer-facing contact decision: the detector's contact, steadied.

The detector (beats.py) says contact while its pulse evidence holds.  Two things make that
flicker where the wrist never left: a moving wrist (walking, gestures: the motion artefact
hides the pulse, so the evidence doubts) and, without an accelerometer, a pulse that comes
and goes with the artefact.  The LED and the log must not blink "no reading" every few
seconds for that, so:

- Worn and moving: while the accelerometer measures movement and the signal stays live (not
  flat, not at the rails: light still comes back from skin), a wrist that was worn is still
  worn.  Its beats are flagged MOTION by MotionMeter, never OK.  Movement alone never *gains*
  contact (a sensor swinging off a strap moves too): only pulse evidence does.  And it keeps
  it only while pulse evidence still shows now and then: on a walking wrist the detector's
  contact comes back between steps (longest gap 16-258 s on 16 simulated 8-minute walks,
  most under 60 s), a sensor dangling off the strap gives none (0 OK beats per 24 h), so
  after `_PULSE_HOLD_MS` with none the hold ends.  It is long (10 min) on purpose: a worn
  wrist read as empty is the worse error; the held time shows drive with every beat
  flagged MOTION, never an HR or HRV.
- Movement just ended: the hold lasts up to `_GRACE_MS` more, while the detector still sees
  pulse-shaped upstrokes (`pulse_like`: one within 2 s): the pulse evidence needs a few
  clean beats (3-8 s) to build again after an artefact, and bursts come seconds apart.
  A sensor taken off as the walk ends shows none (a swinging or flickering wave is not
  pulse-shaped), so "no reading" comes 1-3 s after the movement stops, not 13 s.
- Losing contact: otherwise at once when the detector loses it (it already needs 2-2.5 s without an OK
  beat, or a flat/saturated second), so "no reading" still shows within 3 s of leaving.
- Regaining: the detector's contact must hold for `_REGAIN_MS`; each loss that comes within
  `_SETTLE_MS` of a regain doubles that (up to `_REGAIN_MAX_MS`), and a contact held for
  `_SETTLE_MS` resets it.  A storm of short regains thus becomes a few events a minute at
  most, while a real return still shows within ~2 s of the detector's contact.

Pure logic, integer ms, nothing allocated per call.
"""
from soothe_fw.compat import const

_REGAIN_MS = const(500)
_REGAIN_MAX_MS = const(32000)
_SETTLE_MS = const(60000)
_PULSE_HOLD_MS = const(600000)
_GRACE_MS = const(8000)


class ContactGate:
    def __init__(self):
        self.contact = False
        self.worn_moving = False  # contact held by measured movement, not by a pulse
        self._on_ms = 0  # detector contact held this long (while we show none)
        self._held_ms = 0  # our contact held this long
        self._need_ms = _REGAIN_MS
        self._no_pulse_ms = 0  # since the detector last said contact
        self._still_ms = _GRACE_MS  # since the accelerometer last measured movement

    def moved_recently(self):
        """Worn, and the accelerometer measured movement within the hold's grace."""
        return self.contact and self._still_ms < _GRACE_MS

    def update(self, step_ms, det_contact, live, moving, pulse_like=True):
        """Advances by step_ms; returns True when `contact` changed.

        det_contact: the detector's contact; live: the last second was neither flat nor at
        the rails; moving: the accelerometer measures movement now (MotionMeter.moving_now;
        False without one); pulse_like: the detector saw a pulse-shaped upstroke lately
        (BeatDetector.pulse_like)."""
        was = self.contact
        if det_contact:
            self._no_pulse_ms = 0
        elif self._no_pulse_ms < _PULSE_HOLD_MS:
            self._no_pulse_ms += step_ms
        if moving:
            self._still_ms = 0
        elif self._still_ms < _GRACE_MS:
            self._still_ms += step_ms
        held = moving or (self._still_ms < _GRACE_MS and pulse_like)
        self.worn_moving = (was and held and live and not det_contact
                            and self._no_pulse_ms < _PULSE_HOLD_MS)
        if det_contact or self.worn_moving:
            if was:
                if self._held_ms < _SETTLE_MS:
                    self._held_ms += step_ms
                    if self._held_ms >= _SETTLE_MS:
                        self._need_ms = _REGAIN_MS  # a steady contact: quick to regain again
                return False
            self._on_ms += step_ms
            if self._on_ms < self._need_ms:
                return False
            self.contact = True
            self._held_ms = 0
            return True
        self._on_ms = 0
        if not was:
            return False
        if self._held_ms < _SETTLE_MS:
            # Lost again soon after it came back: ask for longer evidence next time.
            self._need_ms = self._need_ms * 2 if self._need_ms < _REGAIN_MAX_MS // 2 else _REGAIN_MAX_MS
        self.contact = False
        return True
