"""Threat / drive / soothe / balanced from current evidence against a baseline learnt from calm.

Input, every 5 s: contact, the 60 s window (HR, RMSSD, clean and flagged beats),
coherence (and its peak frequency) from RollingHRV, and motion_pct (share of the last
60 s with measured movement, issue 13; 0 without an accelerometer).
Output: `state` (records.STATE_NAMES order).  A state shows only while its evidence
holds; otherwise BALANCED (LEARNING while the baseline is young).  No state is kept
from memory.  A heuristic for biofeedback, not a diagnosis (README: "How the state is chosen").
Cost: a few hundred integer operations per update; nothing allocated.
"""
import json
import math
import os
from array import array

from soothe_fw.compat import const, zeros

NO_READING = const(0)
THREAT = const(1)
DRIVE = const(2)
SOOTHE = const(3)
UNCLASSIFIED = const(4)  # contact, but too little clean data yet to say
BALANCED = const(5)  # reading fine, no system dominates
LEARNING = const(6)  # reading fine, no state evidenced, baseline still being learnt

# Baseline histograms: HR in 1 bpm bins from 35 bpm; ln RMSSD in 0.1 bins from ln 4 ms.
_HR_LO_X100 = const(3500)
_HR_BIN_X100 = const(100)
HR_BINS = const(100)
_LN_LO_X100 = const(139)  # ln(4 ms) = 1.386
_LN_BIN_X100 = const(10)
LN_BINS = const(40)  # up to ln(218 ms)
_HALVE_AT = const(40000)  # ~55 h of calm 5 s windows: older days fade by halving
# Population priors (resting, seated adults): HR 68 +- 12 bpm and RMSSD 32 ms (ln SD 0.45),
# as normal densities worth _PRIOR_N windows in all, per bin from these first bins.
_PRIOR_HR_BIN = const(9)
_PRIOR_HR = b'\x01\x01\x01\x01\x01\x01\x01\x02\x02\x02\x02\x02\x03\x03\x03\x03\x03\x03\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x03\x03\x03\x03\x03\x03\x02\x02\x02\x02\x02\x01\x01\x01\x01\x01\x01\x01'
_PRIOR_LN_BIN = const(10)
_PRIOR_LN = b'\x01\x01\x02\x03\x04\x05\x07\x08\t\n\x0b\x0b\n\t\x08\x06\x05\x04\x02\x02\x01\x01'

# RMSSD (ms x10) at each ln-bin edge, so ln RMSSD is found with integers only.
_LN_EDGES = array("i", [int(10 * math.exp((_LN_LO_X100 + _LN_BIN_X100 * k) / 100) + 0.5)
                        for k in range(LN_BINS + 1)])

_HR_HISTORY = const(12)  # 60 s of 5 s HR values: the slope that tells a decay from a plateau
_FLAGGED_PCT = const(10)  # this share of flagged beats means the wrist moves (no accelerometer)


def ln_x100(rmssd_x10):
    """100 x ln(RMSSD in ms), integer, clamped to the histogram's range."""
    e = _LN_EDGES
    if rmssd_x10 <= e[0]:
        return _LN_LO_X100
    k = 0
    while k < LN_BINS - 1 and rmssd_x10 >= e[k + 1]:
        k += 1
    lo = e[k]
    d = (rmssd_x10 - lo) * _LN_BIN_X100 // (e[k + 1] - lo)
    if d > _LN_BIN_X100:
        d = _LN_BIN_X100
    return _LN_LO_X100 + k * _LN_BIN_X100 + d


def _quantiles(h, n, lo, width, out):
    """10th, 50th and 90th percentiles of histogram h into out[0..2] (linear within a bin)."""
    total = 0
    for i in range(n):
        total += h[i]
    cum = 0
    q = 0
    targets = (10, 50, 90)
    for i in range(n):
        c = h[i]
        while q < 3 and (cum + c) * 100 >= total * targets[q] and c > 0:
            out[q] = lo + i * width + ((total * targets[q] - cum * 100) * width) // (c * 100)
            q += 1
        cum += c
    while q < 3:
        out[q] = lo + n * width
        q += 1


class Baseline:
    """The wearer's calm HR and ln RMSSD as histograms over days, kept on flash.

    Learnt only from windows the state machine judges calm and still (never from
    threat, drive, activity, recovery, motion or in-between windows).  Starts from
    population priors worth 10 min of data, so a wearer resting at 85 bpm is inside
    the distribution from the first minute.  Counts halve when they pass ~55 h, so
    the last days weigh most.  `calm_n` counts the 5 s windows learnt in all.
    """

    def __init__(self, path=None):
        self.path = path
        self.hr_hist = zeros("i", HR_BINS)
        self.ln_hist = zeros("i", LN_BINS)
        self.calm_n = 0
        self.hr_q = zeros("i", 3)  # 10/50/90th percentile HR, bpm x100
        self.ln_q = zeros("i", 3)  # 10/50/90th percentile ln RMSSD x100
        self._prior()
        self._refresh()

    def _prior(self):
        for i in range(HR_BINS):
            self.hr_hist[i] = 0
        for i in range(LN_BINS):
            self.ln_hist[i] = 0
        for i in range(len(_PRIOR_HR)):
            self.hr_hist[_PRIOR_HR_BIN + i] = _PRIOR_HR[i]
        for i in range(len(_PRIOR_LN)):
            self.ln_hist[_PRIOR_LN_BIN + i] = _PRIOR_LN[i]
        self.calm_n = 0

    def _refresh(self):
        _quantiles(self.hr_hist, HR_BINS, _HR_LO_X100, _HR_BIN_X100, self.hr_q)
        _quantiles(self.ln_hist, LN_BINS, _LN_LO_X100, _LN_BIN_X100, self.ln_q)

    def load(self):
        try:
            with open(self.path) as f:
                d = json.load(f)
            hr, ln, n = d["hr_hist"], d["ln_hist"], int(d["calm_n"])
            if len(hr) == HR_BINS and len(ln) == LN_BINS and sum(hr) > 0 and sum(ln) > 0:
                for i in range(HR_BINS):
                    self.hr_hist[i] = max(0, int(hr[i]))
                for i in range(LN_BINS):
                    self.ln_hist[i] = max(0, int(ln[i]))
                self.calm_n = max(0, n)
                self._refresh()
        except (OSError, ValueError, KeyError, TypeError):
            pass  # first boot, an old format or a damaged file: priors
        return self

    def save(self):
        """JSON, streamed number by number (no list copies: it runs on a full heap), to a
        temp file renamed over the old one (atomic on littlefs)."""
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            for name, hist in (("hr_hist", self.hr_hist), ("ln_hist", self.ln_hist)):
                f.write('{"' if name == "hr_hist" else ', "')
                f.write(name)
                f.write('": [')
                for i in range(len(hist)):
                    if i:
                        f.write(", ")
                    f.write(str(hist[i]))
                f.write("]")
            f.write(', "calm_n": %d}' % self.calm_n)
        os.rename(tmp, self.path)

    def learn(self, hr_x100, ln):
        """One calm, still, clean 5 s step (HR bpm x100, ln RMSSD x100)."""
        i = (hr_x100 - _HR_LO_X100) // _HR_BIN_X100
        i = 0 if i < 0 else (HR_BINS - 1 if i >= HR_BINS else i)
        j = (ln - _LN_LO_X100) // _LN_BIN_X100
        j = 0 if j < 0 else (LN_BINS - 1 if j >= LN_BINS else j)
        self.hr_hist[i] += 1
        self.ln_hist[j] += 1
        if self.calm_n < 100000000:
            self.calm_n += 1
        total = 0
        for k in range(HR_BINS):
            total += self.hr_hist[k]
        if total > _HALVE_AT:
            for k in range(HR_BINS):
                self.hr_hist[k] = (self.hr_hist[k] + 1) // 2
            for k in range(LN_BINS):
                self.ln_hist[k] = (self.ln_hist[k] + 1) // 2
        self._refresh()


class StateMachine:
    """Evidence per 5 s step, a short dwell before a state shows, no memory beyond it.

    Entering a state needs its evidence for `threat_dwell_s`/`dwell_s`; keeping it needs
    looser evidence (hysteresis on the thresholds, not on time).  Without evidence the
    state is BALANCED (LEARNING while the baseline is young) after `dwell_s`.
    Activity (motion_pct, or exercise-level HR, or many motion-flagged beats without an
    accelerometer) is drive and never threat, and starts `recovery_s` of recovery in which
    elevated HR with low HRV is cool-down, not threat; HR falling after a rise starts it too.
    """

    def __init__(self, settings, baseline):
        self.settings = settings
        self.baseline = baseline
        self.state = NO_READING
        self.candidate = NO_READING
        self.candidate_ms = 0  # how long the candidate has held
        self.evidence = NO_READING  # what this step's window supports (before dwell)
        self.activity = False  # movement or exercise now
        self.recovery_ms = 0  # cool-down left: no threat while > 0
        self.floor_hr_x100 = 0  # lowest HR since the recovery began
        self.calm = False  # this step was learnt into the baseline
        self.ln_x100 = 0
        self._hr_ring = zeros("i", _HR_HISTORY)
        self._hr_i = 0
        self._hr_n = 0

    @property
    def learning(self):
        return self.baseline.calm_n < self.settings.get("baseline_learn_min") * 12

    @property
    def recovering(self):
        return self.recovery_ms > 0

    def lose_contact(self):
        """Contact lost between 5 s steps: no-reading at once; True when that is a change."""
        return self.update(0, False, 0, 0, 0, 0, 0, 0)

    def _hr_slope(self, hr):
        """Stores hr; returns HR now minus HR 60 s ago (0 until a minute is known)."""
        ring = self._hr_ring
        i = self._hr_i
        old = ring[i]
        ring[i] = hr
        self._hr_i = (i + 1) % _HR_HISTORY
        if self._hr_n < _HR_HISTORY:
            self._hr_n += 1
            return 0
        return hr - old

    def _classify(self, step_ms, hr, rmssd, coh, motion_pct, flagged, resonance_mhz):
        s = self.settings  # (a bound s.get would allocate on every step)
        b = self.baseline
        hq = b.hr_q
        lq = b.ln_q
        ln = ln_x100(rmssd)
        self.ln_x100 = ln
        slope = self._hr_slope(hr)
        keep = self.state  # looser thresholds keep a state that shows
        moving = motion_pct >= s.get("activity_motion_pct") or flagged
        exercise = hr - hq[1] >= s.get("activity_hr_bpm") * 100
        self.activity = moving or exercise
        if self.activity:
            self.recovery_ms = s.get("recovery_s") * 1000
            self.floor_hr_x100 = hr
        elif slope <= -s.get("recovery_drop_bpm") * 100 and hr > hq[2]:
            # HR falling after a rise: the decay of a cool-down, never a new threat.
            if self.recovery_ms <= 0:
                self.floor_hr_x100 = hr
            self.recovery_ms = s.get("recovery_s") * 1000
        elif self.recovery_ms > 0:
            self.recovery_ms -= step_ms
            if hr < self.floor_hr_x100:
                self.floor_hr_x100 = hr
            elif hr - self.floor_hr_x100 >= (s.get("threat_hr_bpm") + 4) * 100:
                self.recovery_ms = 0  # a new rise from the recovery's floor: judged afresh
        if self.activity:
            hr_up = hr - hq[2] >= s.get("drive_hr_bpm") * 100 or exercise
            return DRIVE if (hr_up or motion_pct >= s.get("activity_motion_pct")) else -1
        # Threat: HR well above the calm range and HRV well below it, at rest.
        t_hr = s.get("threat_hr_bpm") * 100 // (2 if keep == THREAT else 1)
        lim_ln = ln_x100(1000) - ln_x100(s.get("threat_rmssd_pct") * 10)  # e.g. 75 % -> 0.29
        t_ln = lim_ln // (3 if keep == THREAT else 1)
        if self.recovery_ms <= 0 and hr - hq[2] >= t_hr and lq[0] - ln >= t_ln:
            return THREAT
        # Drive: HR well above the calm range with HRV not collapsed (engaged, aroused).
        d_hr = s.get("drive_hr_bpm") * 100 * (2 if keep == DRIVE else 3) // 3
        if hr - hq[2] >= d_hr and lq[0] - ln < lim_ln:
            return DRIVE
        # Soothe: HR at or below the calm median with HRV clearly above the calm median,
        # or coherent slow breathing.  The ln margin is ~3 SD of a 60 s RMSSD's noise.
        s_ln = (ln_x100(s.get("soothe_rmssd_pct") * 10) - ln_x100(1000)) * (2 if keep == SOOTHE else 3) // 3
        if hr - hq[1] <= s.get("soothe_hr_bpm") * 100 and ln - lq[1] >= s_ln:
            return SOOTHE
        s_coh = s.get("soothe_coherence_x100") * (3 if keep == SOOTHE else 4) // 4
        if coh >= s_coh and 0 < resonance_mhz <= s.get("slow_breath_mhz") and hr - hq[2] < d_hr:
            return SOOTHE
        return -1  # no state is evidenced

    def update(self, step_ms, contact, beats, artefacts, hr_x100, rmssd_x10, coherence_x100,
               motion_pct=0, resonance_mhz=0):
        """Advances by step_ms with the latest window; returns True when the state changed.

        motion_pct: MotionMeter.level_pct (0 without one); resonance_mhz: the coherence
        peak's frequency (slow breathing is what makes coherence count as soothe)."""
        self.calm = False
        if (contact and motion_pct >= self.settings.get("activity_motion_pct")
                and (beats < 20 or artefacts * 5 > beats + artefacts)):
            # Worn and moving, the beats flagged by the movement: that is activity (measured,
            # not guessed from HR), shown as drive; its cool-down then counts as recovery.
            want = DRIVE
            self.activity = True
            self.recovery_ms = self.settings.get("recovery_s") * 1000
            self.floor_hr_x100 = 1 << 20  # HR unknown meanwhile: the cool-down's first reading is the floor
            self._hr_n = 0  # nor is its slope
        elif not contact or (beats + artefacts >= 5 and artefacts * 5 > beats + artefacts):
            want = NO_READING  # shown at once: the LED never keeps a stale state
            self._hr_n = 0
        elif beats < 20:
            want = UNCLASSIFIED  # a pulse, but too few clean beats to judge yet
        else:
            flagged = artefacts * 100 >= (beats + artefacts) * _FLAGGED_PCT
            want = self._classify(step_ms, hr_x100, rmssd_x10, coherence_x100, motion_pct, flagged,
                                  resonance_mhz)
            if want == -1 or want == SOOTHE:
                b = self.baseline
                if (want == -1 and not self.activity and self.recovery_ms <= 0 and motion_pct == 0
                        and not flagged and hr_x100 - b.hr_q[2] <= 300 and hr_x100 - b.hr_q[0] >= -500
                        and self.ln_x100 - b.ln_q[0] >= -10 and b.ln_q[2] - self.ln_x100 >= -30):
                    self.calm = True  # inside the calm range and still: learn from it
                    b.learn(hr_x100, self.ln_x100)
                if want == -1:
                    want = LEARNING if self.learning else BALANCED
        if want != self.candidate:
            self.candidate = want
            self.candidate_ms = 0
        else:
            self.candidate_ms += step_ms
        self.evidence = want
        if want == self.state:
            return False
        if want == NO_READING or self.state == NO_READING or self.state == UNCLASSIFIED:
            dwell = 0  # the first indication comes as soon as there is one
        elif (want == BALANCED and self.state == LEARNING) or (want == LEARNING and self.state == BALANCED):
            dwell = 0  # the baseline came of age: the same indication, renamed
        elif want == THREAT:
            dwell = self.settings.get("threat_dwell_s") * 1000
        else:
            dwell = self.settings.get("dwell_s") * 1000
        if self.candidate_ms >= dwell:
            self.state = want
            return True
        return False
