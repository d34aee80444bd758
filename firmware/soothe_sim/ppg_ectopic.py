"""Ectopic beats for the synthetic PPG (ppg_synth.py, sim-only): premature ventricular
(PVC) and atrial (PAC) contractions in the sinus rhythm, with their truth.

Loaded only when a generator asks for ectopic_per_min > 0; its own PRNG stream, so the
sinus rhythm and the noise stay those of the same seed without ectopics.
"""
from soothe_sim.ppg_synth import ON_SKIN, xorshift32

KINDS = ("pvc", "pac", "mixed")


class Ectopics:
    """per_min premature beats a minute on average, of `kind` ('pvc', 'pac' or 'mixed').

    `truth` (a list) gets (onset_us, 'pvc'|'pac') of each premature beat on skin.
    `amp` is the pulse size, 1/1024, of the beat whose interval was last asked for."""

    def __init__(self, seed, per_min, kind, truth):
        if kind not in KINDS:
            raise ValueError("ectopic kind %r: use pvc, pac or mixed" % kind)
        self.per_min = per_min
        self.kind = kind
        self.truth = truth
        self._state = (seed * 40503 + 977) & 0xFFFFFFFF or 1
        self._phase = 0  # 0 sinus; 1 this onset is premature; 2 this onset ends the pause
        self._owed_ms = 0.0
        self._pvc = True
        self._prem_amp = 1024
        self.amp = 1024

    def _uniform(self):
        self._state = x = xorshift32(self._state)
        return (x & 0xFFFFFF) / 16777216.0

    def interval(self, g, onset_us, rr_ms, contact):
        """The interval after this onset, given the sinus one (rr_ms); sets `amp`.

        A premature beat comes 20-40 % early.  Less filling time, less stroke volume: its
        pulse is smaller (Frank-Starling), a PVC's more so (no atrial kick, dyssynchronous
        contraction).  After a PVC the sinus node is undisturbed, the next sinus beat falls
        in the refractory period and the pause is compensatory (premature + pause = two
        sinus cycles); a PAC resets the sinus node, so its pause is about one cycle,
        slightly longer (non-compensatory).  The beat after the pause is larger
        (post-extrasystolic potentiation)."""
        phase = self._phase
        if phase == 1:
            self.amp = self._prem_amp
            if contact == ON_SKIN and g.record_beats:
                self.truth.append((onset_us, "pvc" if self._pvc else "pac"))
            self._phase = 2
            if self._pvc:
                return self._owed_ms + rr_ms
            return rr_ms * (1.05 + 0.1 * self._uniform())
        if phase == 2:
            self.amp = 1229 if self._pvc else 1126  # +20 % / +10 %
            self._phase = 0
            return rr_ms
        self.amp = 1024
        if contact == ON_SKIN and self._uniform() * g._hr < self.per_min:
            early = 0.2 + 0.2 * self._uniform()
            kind = self.kind
            self._pvc = kind == "pvc" or (kind == "mixed" and self._uniform() < 0.5)
            amp = 1.0 - 1.6 * early
            if self._pvc:
                amp *= 0.85
            self._prem_amp = int(1024 * amp)
            self._owed_ms = rr_ms * early
            self._phase = 1
            return rr_ms * (1.0 - early)
        return rr_ms
