"""Threat / drive / soothe / no-reading against the wearer's personal baseline.

Input, every 5 s: contact, the 60 s window (HR, RMSSD, clean and flagged beats) and
coherence from RollingHRV.  Output: `state` (records.STATE_NAMES order), changed
only after a candidate state has held for its dwell time, so the LED never flickers.
A heuristic for biofeedback, not a diagnosis (README: "How the state is chosen").
Cost: a few integer comparisons per update; nothing allocated.
"""
import json

from compat import const
from settings import write_json_atomic

NO_READING = const(0)
THREAT = const(1)
DRIVE = const(2)
SOOTHE = const(3)
UNCLASSIFIED = const(4)  # contact, but too little clean data yet to say

_DEFAULT_HR_X100 = const(7000)
_DEFAULT_RMSSD_X10 = const(400)


class Baseline:
    """Resting HR and RMSSD, learned slowly from calm windows and kept on flash.

    Resting HR follows the lower envelope of HR (falls fast, rises slowly), so
    stress and exercise do not drag it up; RMSSD is a slow average over calm
    windows.  It starts from 70 bpm and 40 ms and moves from the first calm window on;
    `updates` counts the windows it has learned from.
    """

    def __init__(self, path=None):
        self.path = path
        self.hr_x100 = _DEFAULT_HR_X100
        self.rmssd_x10 = _DEFAULT_RMSSD_X10
        self.updates = 0

    def load(self):
        try:
            with open(self.path) as f:
                d = json.load(f)
            hr, rmssd, n = int(d["hr_x100"]), int(d["rmssd_x10"]), int(d["updates"])
            if 3000 <= hr <= 15000 and 20 <= rmssd <= 3000:
                self.hr_x100, self.rmssd_x10, self.updates = hr, rmssd, n
        except (OSError, ValueError, KeyError, TypeError):
            pass  # first boot, or a damaged file: defaults
        return self

    def save(self):
        if self.path:
            write_json_atomic(self.path, {"hr_x100": self.hr_x100, "rmssd_x10": self.rmssd_x10,
                                          "updates": self.updates})

    def update(self, hr_x100, rmssd_x10):
        """One calm, clean 60 s window."""
        base = self.hr_x100
        if hr_x100 < base:
            base += (hr_x100 - base) // 8
        else:
            base += (hr_x100 - base) // 128
        self.hr_x100 = base
        self.rmssd_x10 += (rmssd_x10 - self.rmssd_x10) // 32
        if self.updates < 1000000:
            self.updates += 1


class StateMachine:
    def __init__(self, settings, baseline):
        self.settings = settings
        self.baseline = baseline
        self.state = NO_READING
        self.candidate = NO_READING
        self.candidate_ms = 0  # how long the candidate has held
        self.activity = False

    def lose_contact(self):
        """Contact lost between 5 s steps: no-reading at once; True when that is a change."""
        return self.update(0, False, 0, 0, 0, 0, 0)

    def _classify(self, hr, rmssd, coh):
        b = self.baseline
        dhr = hr - b.hr_x100  # 1/100 bpm
        if dhr >= self.settings.get("activity_hr_bpm") * 100:
            self.activity = True  # exercise-level HR: drive, never threat
            return DRIVE
        self.activity = False
        low_rmssd = rmssd * 100 <= b.rmssd_x10 * self.settings.get("threat_rmssd_pct")
        if dhr >= self.settings.get("threat_hr_bpm") * 100 and low_rmssd:
            return THREAT
        if dhr >= self.settings.get("drive_hr_bpm") * 100:
            return DRIVE
        if dhr <= self.settings.get("soothe_hr_bpm") * 100 and (
                rmssd * 100 >= b.rmssd_x10 * self.settings.get("soothe_rmssd_pct") or coh >= self.settings.get("soothe_coherence_x100")):
            return SOOTHE
        return -1  # in between: keep the current state (hysteresis)

    def update(self, step_ms, contact, beats, artefacts, hr_x100, rmssd_x10, coherence_x100):
        """Advances by step_ms with the latest window; returns True when the state changed."""
        if not contact or (beats + artefacts >= 5 and artefacts * 5 > beats + artefacts):
            want = NO_READING  # shown at once: the LED never keeps a stale state
        elif beats < 20:
            want = UNCLASSIFIED  # a pulse, but too few clean beats to judge yet
        else:
            want = self._classify(hr_x100, rmssd_x10, coherence_x100)
            if want == -1:
                want = self.state if self.state != NO_READING and self.state != UNCLASSIFIED else UNCLASSIFIED
            if want == SOOTHE or want == UNCLASSIFIED or (want == DRIVE and not self.activity):
                self.baseline.update(hr_x100, rmssd_x10)
        if want != self.candidate:
            self.candidate = want
            self.candidate_ms = 0
        else:
            self.candidate_ms += step_ms
        if want == self.state:
            return False
        dwell = self.settings.get("threat_dwell_s" if want == THREAT else "dwell_s") * 1000
        if want == NO_READING or (self.state == NO_READING or self.state == UNCLASSIFIED) and want == UNCLASSIFIED \
                or self.candidate_ms >= dwell:
            self.state = want
            return True
        return False
