"""Streaming PPG beat detector with sub-sample timing, artefact flags and contact check.

Input: raw sensor samples (any DC, either polarity) a block at a time.
Output: a small ring of beats (RR in us, flag, sample index + 1/32-sample fraction)
and `contact` (True only while a pulse is really there).
Cost: integer math only, nothing allocated per sample or per beat.

Fiducial: the foot of the pulse by the intersecting-tangent method: the tangent at
the point of maximum upstroke slope meets the horizontal through the minimum before
the upstroke.  The max-slope point is found on a smoothed first derivative and its
slope refined with a 3-point parabola; the foot is then a continuous quantity (a
ratio of amplitudes), so it is timed far below the sample grid.  The foot marks the
arrival of the pressure pulse: it does not move with the systolic peak, the dicrotic
notch or wave reflection, and it follows the onset even when the shape of the
upstroke changes from beat to beat, where the max-slope point drifts with the rise
time (Peralta et al. 2019; Charlton et al. 2022).  On NeuroKit2's simulator this
halves the |RR error| of the max-slope point (`soothe bench --only accuracy`).
"""

from soothe_fw.compat import zeros, const
from soothe_fw.sense.rhythm import RhythmClassifier

try:
    import micropython
except ImportError:
    from soothe_fw.compat import mp_shim as micropython  # type: ignore[no-redef]

# Beat flags (one per beat; only OK beats feed HRV).  The RR rules that set EXTRA..SHORT
# live in rhythm.py (same numbers).
OK = const(0)
EXTRA = const(1)  # a false beat between two real ones: dropped, next RR merged
MISSED = const(2)  # interval spans a missed beat (about 2x the usual RR)
ECTOPIC = const(3)  # premature beat and the pause after it
SHORT = const(4)  # too short and not explained by the rules above
NOISE = const(5)  # beat during poor signal, odd amplitude, or outside 30..220 bpm
MOTION = const(6)  # interval overlaps measured movement of the wrist (motion.MotionMeter)
FLAG_NAMES = ("ok", "extra", "missed", "ectopic", "short", "noise", "motion")

_RING = const(16)  # beats waiting for the consumer (a rewind yields several at once)
_REBASE = const(1 << 28)
_NEVER = const(1 << 30)  # a sample number never reached (n is rebased below 2**28)
# Upstroke search, on the smoothed slope.
_THR_128 = const(45)  # an upstroke starts above 45/128 (0.35) of the level: under half of a
# pulse's steepest rise (beat-to-beat amplitude varies ~20 %, a premature beat's is smaller)
# and well above the diastolic wave after the notch, which rarely reaches 0.5
_DIASTOLIC_8 = const(5)  # within the diastolic window a second upstroke needs 5/8 of the
# last beat's slope: the wave after the dicrotic notch has ~40 % (real recordings)
_DIASTOLIC_MIN_MS = const(400)  # the window is 3/4 of the usual RR, never under 400 ms: a
# median learnt from diastolic waves (half the true RR) must not let them through (HeartPy's
# data3.csv); the diastolic wave follows the notch at the end of ejection, ~300 ms after the
# foot at rest (Weissler 1968), earlier at high rates (450 ms cost exercise beats).  The
# window also turns away a premature beat whose pulse is under 5/8; it is kept aside and
# becomes a beat only when a pause follows it (see _PAUSE_2; a plain lower bar from half
# the RR made beats of motion artefacts: F1 with bursts -2.6 points, notes/issue-13.md)
_FALL_CAP = const(3)  # a level set afresh is at most 3x the window's steepest fall: a pulse
# comes back down within its cycle (its fall is 0.3-0.6 of its rise), a step of the DC (the
# sensor put back on the skin) rises once and never falls, and would set a level 5-10x the
# pulse's, no beat found for seconds
_STEP_8 = const(5)  # an upstroke under 5/8 or over 8/5 of the last: contact, motion, a new source
_AMP_BAND = const(4)  # a beat's upstroke within 4x of the level either way is in range
_AMP_MISS_RESET = const(4)  # this many out of range in a row: the level itself moved
# Polarity: share of recent windows whose top is the sharp end (1/256), with a dead band
# so a window or two of motion never flips it: +1 above 160 (5/8), -1 below 96 (3/8).
_PEAKED_UP = const(160)
_PEAKED_DOWN = const(96)
# Contact: flagged beats among the last few, +2 per flagged beat and -1 per OK beat,
# capped at 8; 6 or more (three flagged in a row, or most of the last few) is no reading.
_BAD_STEP = const(2)
_BAD_CAP = const(8)
_BAD_LOST = const(6)
# Pulse evidence (see _pulse_evidence).
_RISE_FRAC_256 = const(38)  # foot to steepest rise: mean under 38/256 (0.148) of the interval
_RISE_FRAC_LOW_256 = const(32)  # ... and under 32/256 (0.125) at 120 bpm and below
_RISE_FRAC_MAX_256 = const(52)  # and each beat's under 52/256 (0.2); a sine's is 1/(2 pi) = 0.159
# Crest time (trough to crest of the upstroke) against the interval, 1/256.  Systole is
# short: the crest comes 100-200 ms after the foot, at any rate (Alty et al. 2007), so at
# most ~0.3 of the cycle at rest and ~0.4 at 180 bpm; any time-symmetric wave (a swinging
# sensor, a lamp's flicker, |sin|^p) spends half of its cycle rising (0.43-0.5 measured on
# the generator's swings and flicker).  Mean under 106/256 (0.41) at 120 bpm and below,
# rising to 112/256 (0.44) at 180 bpm and faster (motion pulls a pulse's mean up: 100/108
# cost 1.7 F1 points on exercise with bursts).
_CREST_256 = const(112)
_CREST_LOW_256 = const(106)
# One beat whose foot-to-steepest rise is a sine's (>= 40/256 = 0.156, 1/(2 pi) = 0.159)
# AND whose crest comes half a cycle after its trough (>= 115/256 = 0.45) is one cycle of
# a smooth oscillation, not a systole (never seen on 10 generator cases; 4 of ~1000 on
# HeartPy's data3.csv).
_SINE_RISE_256 = const(40)
_SINE_CREST_256 = const(115)
_RIVAL_8 = const(7)  # another upstroke in the interval 7/8 as steep as the beat's: a heart
# makes one per cycle (the diastolic wave has ~40 %); a rectified flicker read at half its
# rate makes two alike
_SNR_MIN = const(1)  # steepest rise against the raw noise floor (filter gain included)
_EVIDENCE_ON = const(3)  # agreeing good beats before beats may be OK
_EVIDENCE_MAX = const(6)
_HR_MAX_BPM = const(220)  # a first interval shorter than this rate's is no pulse's
# A return: a pulse after this many seconds of no reading (longer than a heart's pause, so a
# missed beat or two on the wrist is no return); only then does the first interval between
# two pulse-shaped upstrokes count, and may the seconds since the return be run again.
_RETURN_AFTER_S = const(3)
_AGREE_10 = const(3)  # successive foot-to-foot intervals agree within 3/10
_HOLD = const(6)  # beats held back while the evidence builds
_LEARN_S = const(5)  # seconds kept for the rewind (the polarity is decided at 4 s)
_JIT = const(8)  # successive differences the metronome test looks at
_JIT_MIN = const(2)  # ... judged once there are this many (before, an agreeing interval counts)
# (two, not three: a returning pulse is established from its 4th upstroke, two agreeing
# intervals, and an oscillator must be judged by then)
_JIT_CLIP_MS = const(20)  # each difference clipped: one odd interval must not hide a metronome
_METRONOME_US = const(2500)  # mean |successive difference| under 2.5 ms: an oscillator (a heart
# varies at least by its pulse transit time; the generator's calmest sinus rhythm is ~10 ms)
_STEP_PROOF = const(2)  # agreeing beats a pulse in doubt needs after an amplitude step
_NEW_SOURCE_X = const(2)  # an upstroke over 2x (or under 1/2) the last: a new source, not motion
_SHAPE_EMA_SHIFT = const(2)  # rise fraction and crest time: running means over ~4 beats
# The rise-fraction and crest bars ramp between these intervals (diastole shortens more
# than systole as the rate rises): the LOW bars at 500 ms (120 bpm) and slower, the high
# ones at 333 ms (180 bpm) and faster.
_FAST_RR_MS = const(333)
_SLOW_RR_MS = const(500)
_MAX_INTERVAL_S = const(3)  # feet over 3 s apart (under 20 bpm) bound no interval

# Filter and ring sizes.
_BOX_MS = const(50)  # two boxcars of 50 ms: ~9 Hz low-pass, linear phase (the upstroke keeps its shape)
_SLOPE_MS = const(20)  # the slope is the difference over 20 ms (a systolic upstroke lasts 60-150 ms)
_FOOT_BACK_MS = const(300)  # the foot is looked for up to 300 ms behind the steepest rise
_UPSTROKE_MAX_MS = const(150)  # an upstroke's slope peak is done within 150 ms (a candidate's most)
_SLOPE_SAFE = const(1 << 22)  # slope and rise are halved above this so num*16*span stays a small int
_HF_SAFE = const(1 << 21)  # the window's noise sum is scaled x256 only below this (small int)

# Upstroke search and timing (detection).
_UPSTROKE_END_DIV = const(2)  # a candidate upstroke ends when the slope falls under 1/2 of its peak
_REFRACTORY_MIN_MS = const(250)  # no new upstroke within 250 ms of the last beat (240 bpm) ...
_REFRACTORY_DIV = const(2)  # ... nor within 1/2 of the usual RR: the notch and diastolic wave lie there
_DIASTOLIC_WIN_4 = const(3)  # the diastolic window (see _DIASTOLIC_8) is 3/4 of the usual RR ...
_DIASTOLIC_NO_MED_MS = const(600)  # ... or 600 ms while there is no usual RR yet
# A premature beat (PVC, PAC) comes 20-40 % early with a smaller pulse (less filling time,
# Frank-Starling): inside the diastolic window it is under _DIASTOLIC_8 like the diastolic
# wave.  What tells them apart is the pause after it: the diastolic wave leaves the next
# beat on time (one usual RR), a premature beat delays it to 3/2..2 RR (PAC 1.65-1.95, PVC
# 2.0).  So the steepest upstroke the window turned away is kept aside, and becomes a beat
# when the next one comes between 3/2 and 5/2 usual RR and the pause after it is no shorter
# than its coupling interval (the premature interval is the short one).
_PAUSE_2 = const(3)
_PAUSE_MAX_2 = const(5)
_THR_KEPT_128 = const(32)  # inside the window an upstroke over 32/128 (1/4) of the level is kept
# aside: a PVC 40 % early has ~30 % of the pulse (the generator's least), under _THR_128
_SMALL_4 = const(3)  # an upstroke under 3/4 of the last is a smaller pulse: a premature beat's
# (20-40 % early, 40-70 % of the pulse) is, a sinus beat's seldom (respiration moves it ~10 %)
_EARLY_8 = const(7)  # ... and, over 1/8 early against the usual RR, a premature beat's (rhythm.py
# waits for its pause; the pulse evidence leaves it out)
_RIVAL_WIN_4 = const(3)  # rival upstrokes (see _RIVAL_8) are looked for in 3/4 of the usual RR
# A finished upstroke waits 1/4 of the usual RR (150 ms with none), within 60..250 ms, for a
# steeper one to start: motion makes slope peaks of its own; the pulse's is the largest.
_TENT_WAIT_DIV = const(4)
_TENT_WAIT_MS = const(150)
_TENT_WAIT_MIN_MS = const(60)
_TENT_WAIT_MAX_MS = const(250)
_AMP_EMA_SHIFT = const(3)  # the upstroke level follows each beat's steepest rise over ~8 beats
# Search-back: no beat by 3/2 of the usual RR (a beat was missed or the pulse shrank), the
# level drops to 3/4, again every 500 ms until one is found (Pan & Tompkins 1985's search-back).
_SEARCH_BACK_2 = const(3)
_DECAY_4 = const(3)
_DECAY_EVERY_MS = const(500)
_PEND_FLUSH_S = const(2)  # a short interval waits at most 2 s for the next beat to judge it
_HELD_RELEASE_S = const(3)  # held beats with no beat for 3 s: no pulse came to claim them

# Contact and polarity timing (1 s contact windows, 2 s polarity windows).
_POLARITY_WIN_S = const(2)  # the shape window: at least one beat at 30 bpm
_FIRST_WINS = const(2)  # the first polarity decision looks at 2 windows (4 s: 2 beats at 30 bpm)
_PEAKED_UNKNOWN = const(128)  # the share of peaked windows before any is seen: half (1/256)
_PEAKED_EMA_SHIFT = const(2)  # while a pulse is (or was just) there, each window moves it 1/4
_AGAINST_WINS = const(2)  # windows in a row whose shape says the other polarity: no pulse
_SHARP_2 = const(3)  # the sharp end 3/2 as far out as the broad one: clearly the other way
_STEADY_X = const(3)  # a window's range within 3x of the last one's is steady (no DC step)
_STEADY_MIN_S = const(2)  # steady seconds before a window with no pulse decides the polarity
_NO_PULSE_DECIDE_S = const(6)  # ... after 6 s with no pulse to keep
_KEEP_POLARITY_S = const(15)  # contact with a pulse this long: the polarity is the sensor's
_LEVEL_RESET_X = const(4)  # a window's steepest upstroke 4x the level: the level starts again
_BAD_WINDOWS_RELEARN = const(2)  # 2 flat/railed windows in a row: the rhythm and level restart
_OK_RECENT_MS = const(2500)  # contact needs an OK beat within 2.5 s (30 bpm plus margin) ...
_OK_RECENT_DOUBT_MS = const(2000)  # ... within 2 s while the pulse evidence is in doubt
_PULSE_LIKE_S = const(2)  # pulse_like(): a pulse-shaped upstroke within 2 s
_UNCLAIMED_AFTER_S = const(5)  # held beats after 5 s of no reading are dropped, not flagged
_COUNT_CAP_S = const(100)  # second counters saturate here
_RAIL_SHARE_DIV = const(2)  # a contact window over 1/2 at a rail is bad (saturated)
_FOOT_FAR_X = const(2)  # a tangent foot over 2x the look-back away is clamped to it


def _reverse(a, i, j):
    """Reverses a[i:j] in place."""
    j -= 1
    while i < j:
        t = a[i]
        a[i] = a[j]
        a[j] = t
        i += 1
        j -= 1


def _turn(a, k):
    """Turns the ring `a` left by k in place (three reversals; nothing allocated)."""
    if k:
        ln = len(a)
        _reverse(a, 0, k)
        _reverse(a, k, ln)
        _reverse(a, 0, ln)


class BeatDetector:
    """Samples in (`process`), beats out (`available`/`pop`, `beat_*` rings), `contact`.

    Its state, by stage (each line: attribute family -> what it serves; the constants
    above are grouped the same way):
    - sensor: `rate_hz`, `adc_min/adc_max` (rails), `flat_range`; `_arrays` (cleared on reset);
    - filter: `_box1/_box2/_sum1/_sum2/_bi/_len` two boxcars, `_sbuf/_di/_slen` ring of the
      smoothed signal, `_span` slope distance, `_last_d` the last slope, `_x1/_x2` raw samples
      for the noise floor;
    - polarity and level: `polarity`, `_peaked`, `_win_*` (2 s shape window), `_amp`,
      `_amp_miss`, `_reset_pos/_reset_neg` and `_last_pos/_last_neg` (the level after a
      reset), `_against`, `_learned`, `_learn_buf/_rewind_to/_replayed_to` (rewind of the
      first seconds), `_pol_kept/_pol_s` (the polarity kept through no reading);
    - replay of a return (`_replay`): `_learn_buf` as a ring while there is no reading
      (`_ring_from`), `_rise_n/_rise_flat`, `_was_worn`, `_shaped_run`, `_replay_*`, `_saved`;
    - upstroke search (detection): `_cand*`, `_need_next`, `_max_width`, `_refractory`,
      `_next_decay_n` (search-back), `_rival/_rival_end`, `_rearmed`; the beat waiting to be
      committed `_tent_*`; the upstroke the diastolic window kept aside `_kept_*` (a premature
      beat if a pause follows, see _PAUSE_2); timing `_foot_n/_foot_off/_foot_back`, `_last_beat_n`, `_last_peak`,
      `_trough_n` (crest time);
    - pulse evidence: `_evidence`, `_pulse`, `_beat_good`, `_bad_run/_good_run`, `_prev_b`,
      `_prev_diff32`, `_rise_frac`, `_crest`, `_rail_n/_railed` (clipped at a rail), `_jit*` (metronome test), `_held_*`
      (beats held while the evidence builds), `_last_good_n` (pulse_like), `unclaimed`, `worn`;
    - RR classification: `rhythm` (rhythm.RhythmClassifier: median, EXTRA..SHORT rules);
    - contact: `_cw_*` (1 s window: range, rails, noise, steepest rise/fall), `_noise`,
      `_steady_s`, `_last_span`, `_last_ok_n`, `_recent_bad`, `_no_reading_s`,
      `_no_pulse_s`, `contact`;
    - output: `beat_rr_us/beat_flag/beat_n/beat_off32` ring, `_head/_tail`, `beats`,
      `artefacts`, `n`.
    """

    def __init__(self, rate_hz=100, adc_max=4095, flat_range=8, adc_min=0):
        """adc_min..adc_max: the sensor's rails (its range, set by the board: 12-bit ADC
        for the PulseSensor, 18 bits for the MAX30102); samples at a rail are saturated."""
        if not 25 <= rate_hz <= 500:
            raise ValueError("rate_hz must be 25..500")
        fs = int(rate_hz)
        self.rate_hz = fs
        self.adc_max = adc_max
        self.adc_min = adc_min
        self.flat_range = flat_range
        # Two 50 ms boxcars (about 9 Hz low-pass, linear phase) then a 20 ms difference.
        self._len = max(1, (fs * _BOX_MS + 500) // 1000)
        self._span = max(1, (fs * _SLOPE_MS + 500) // 1000)
        self._box1 = zeros("i", self._len)
        self._box2 = zeros("i", self._len)
        # Ring of the smoothed signal: the slope's span, plus 300 ms to look back for
        # the foot, plus the most a candidate waits (max width) before it is finished.
        self._foot_back = (fs * _FOOT_BACK_MS) // 1000
        self._max_width = (fs * _UPSTROKE_MAX_MS) // 1000 + 2
        self._slen = self._span + 1 + self._foot_back + self._max_width + 2
        self._sbuf = zeros("i", self._slen)
        # Beats held while no pulse is established (see _emit).
        self._held_rr = zeros("i", _HOLD)
        self._held_flag = zeros("b", _HOLD)
        self._held_n = zeros("i", _HOLD)
        self._held_off = zeros("b", _HOLD)
        self._jit = zeros("i", _JIT)
        # RR classification, fed one interval per beat; it hands them back through _emit.
        self.rhythm = RhythmClassifier(self._emit)
        self.beat_rr_us = zeros("i", _RING)
        self.beat_flag = zeros("b", _RING)
        self.beat_n = zeros("i", _RING)
        self.beat_off32 = zeros("b", _RING)
        # The first seconds, kept to run through again once the polarity is learnt.
        self._learn_buf = zeros("i", _LEARN_S * fs)
        self._saved = zeros("i", 16)  # the windows' running state, kept through a replay
        self._arrays = (self._box1, self._box2, self._sbuf, self._held_rr, self._held_flag, self._held_n,
                        self._held_off, self._jit, self.beat_rr_us, self.beat_flag,
                        self.beat_n, self.beat_off32)
        self._reset_stream()
        self.polarity = 1
        self._peaked = _PEAKED_UNKNOWN  # share of recent windows whose top is the sharp end, 1/256
        self._learned = False
        # The polarity has carried a pulse with contact for _KEEP_POLARITY_S: it is how the
        # sensor sits on the skin, so it is kept while there is no reading.  (A few seconds
        # are not enough: sharp movement of the other skew can pass for a pulse for 5 s.)
        self._pol_kept = False
        self._pol_s = 0  # seconds of contact with a pulse under this polarity
        self._amp = 0
        # Back on the wrist (issue 13 item 5): while there is no reading, the last seconds
        # of raw samples go into _learn_buf (a ring once the first seconds are learnt);
        # once two pulse-shaped upstrokes have shown the level, they are run through again,
        # so the pulses since the return count, with their own times.
        self._ring_from = -1  # sample where the ring began (-1: contact, not kept)
        self._was_worn = False  # contact was shown once: a later one is a return
        self._rise_n = -(1 << 30)  # end of the last second whose range jumped up
        self._rise_flat = False
        self._replay_n = -(1 << 30)  # sample of the last replay (one a second at most)
        self._replay_amp = 0  # the level for the replay: the last pulse-shaped upstroke
        self._replaying = 0  # 0: live; 1, 2: a replay (see _replay)
        self._replay_skip = -1  # beats up to this sample are out already (not twice)
        self._replay_now = False

    def _reset_stream(self):
        """The state of a stream that has not started (arrays cleared, not reallocated)."""
        for arr in self._arrays:
            for i in range(len(arr)):
                arr[i] = 0
        self.rhythm.reset()
        self._rewind_to = False  # the polarity was just learnt: run the first seconds again
        self._replayed_to = -1  # samples up to here are a rewind of the learning span
        self._sum1 = 0
        self._sum2 = 0
        self._bi = 0
        self._di = 0
        self.n = 0  # samples seen
        self._last_d = 0
        # Steepest rise and fall in the window: they set the upstroke level.
        self._win_pos = 0
        self._win_neg = 0
        # Polarity from the wave's shape: a pulse has a sharp peak and a broad trough,
        # so its top sits further from the mean than its bottom (the sign of the
        # skewness).  Steepest rise against steepest fall, used before, misread real
        # recordings whose fall after the peak is steep (HeartPy's data2/data3.csv).
        self._win_sum = 0  # raw samples in the window (the smoothed mean is the same)
        self._win_hi = -(1 << 30)  # smoothed max and min
        self._win_lo = 1 << 30
        self._win_count = 0  # samples in the polarity window so far
        self._win_n = 0
        self._win_len = _POLARITY_WIN_S * self.rate_hz
        # Adaptive threshold on the slope peak.
        self._amp_miss = 0  # consecutive upstrokes rejected for their size
        self._rival = 0  # steepest other upstroke since the last beat (see _pulse_evidence)
        self._rearmed = False  # the slope fell below the threshold since the last upstroke
        self._rival_end = 0  # rival upstrokes are looked for up to this sample
        self._refractory = (self.rate_hz * _REFRACTORY_MIN_MS) // 1000
        self._cand = False
        self._cand_max = 0
        self._cand_prev = 0
        self._cand_next = 0
        self._need_next = False
        self._cand_n = 0
        # The finished upstroke waiting to be committed as a beat (see _commit).
        self._tent_n = 0
        self._tent_b = 0
        self._tent_fn = 0
        self._tent_fo = 0
        # The steepest upstroke the diastolic window turned away since the last beat (a
        # premature beat if a pause follows it): slope (0: none), sample, foot.
        self._kept_b = 0
        self._kept_n = 0
        self._kept_fn = 0
        self._kept_fo = 0
        self._kept_from = _NEVER  # the window's lower bar holds from .. to (samples)
        self._kept_end = 0
        self._tent_due = _NEVER  # sample at which it is committed; _NEVER: none waits
        self._last_beat_n = -(1 << 20)  # max-slope sample of the last beat
        self._foot_n = 0  # foot of the last beat: sample and 1/32 fraction (0..31)
        self._foot_off = 0
        self._trough_n = 0  # the minimum before the waiting upstroke (crest time)
        self._last_peak = 0  # slope peak of the last beat
        self._evidence = 0  # net count of good, agreeing beats (see _pulse_evidence)
        self._pulse = False  # the beats are a pulse: only then may they be OK
        self._prev_b = 0  # the last beat's steepest upstroke
        self._prev_diff32 = 0  # the last foot-to-foot interval, 1/32 sample (0: none)
        self._rise_frac = _RISE_FRAC_LOW_256  # running mean of the rise fraction, 1/256 (unknown: the bar)
        self._crest = _CREST_LOW_256  # running mean of the crest time / interval, 1/256
        self._beat_good = False  # the last upstroke looked like a pulse's
        self._bad_run = 0  # 1 after an upstroke that was no pulse's
        self._good_run = 0  # pulse-shaped upstrokes in a row (see _pulse_evidence)
        self._shaped_run = 0  # the same by their own shape and size (not the windows' guard)
        self._last_span = 0  # raw range of the last contact window
        self._steady_s = 0  # contact windows in a row that were live and steady
        self._against = 0  # polarity windows in a row whose shape says the other polarity
        self._held = 0
        # The last |successive interval differences| (1/32 sample, clipped at 20 ms).
        self._jit_sum = 0
        self._jit_n = 0  # how many are measured since the last non-pulse
        self._jit_i = 0
        self._jit_skip = False  # the next difference spans a change of source (not measured)
        self._pulse_b = 0  # the upstroke of the last beat judged while a pulse was established
        self._next_decay_n = 0
        self._rail_n = -(1 << 20)  # the last sample at an ADC rail (see _pulse_evidence)
        self._railed = False  # ... inside the beat's interval
        self._head = 0
        self._tail = 0
        # Contact: raw range and saturation per 1 s window, and a recent OK beat.
        self._cw_min = 1 << 30
        self._cw_max = -1
        self._cw_sat = 0
        self._cw_n = 0
        self._cw_hf = 0  # sum of |second difference| of the raw samples in the window
        self._reset_pos = 0  # lesser steepest rise / fall of the last two windows
        self._reset_neg = 0
        self._cw_pos = 0  # steepest rise and fall of the smoothed signal in the window
        self._cw_neg = 0
        self._last_pos = 0  # the same for the last two whole windows
        self._last_neg = 0
        self._x1 = 0  # the last two raw samples
        self._x2 = 0
        self._noise = 0  # noise floor: mean |second difference| of the last window, x256
        self._cw_bad = 0  # consecutive bad windows
        self._last_ok_n = -(1 << 20)
        self._last_good_n = -(1 << 20)  # the last pulse-shaped upstroke
        self._recent_bad = 0  # flagged beats among the last few, decays on OK
        self.contact = False
        self.beats = 0
        self.artefacts = 0
        self._last_out_n = -(1 << 20)  # foot sample of the last beat out
        self.unclaimed = 0  # upstrokes dropped: no pulse came to claim them
        # Set by the app: other evidence (the accelerometer measuring a moving wrist while
        # the signal stays live) says the sensor is worn, so beats the pulse evidence
        # cannot claim are a moving wrist's (flagged), not an empty wrist's (dropped).
        self.worn = False
        self._no_reading_s = 0  # seconds since contact was lost
        self._no_pulse_s = _COUNT_CAP_S  # seconds since the pulse evidence was last there


    # ---- consumer side -------------------------------------------------
    @micropython.native
    def pulse_like(self):
        """A pulse-shaped upstroke (see _pulse_evidence) within the last 2 s: skin under
        the sensor, even while the evidence for a steady pulse is still building."""
        return self.n - self._last_good_n < _PULSE_LIKE_S * self.rate_hz

    @micropython.native
    def live(self):
        """The last second's signal was neither flat nor at the rails (could be skin)."""
        return self._cw_bad == 0

    @micropython.native
    def available(self):
        return (self._head - self._tail) % _RING

    @micropython.native
    def waiting(self):
        """Beats found but not out yet: held while the pulse evidence builds, or a short
        interval waiting for the next beat.  They come out later with their own times."""
        return self._held + (1 if self.rhythm.waiting() else 0)

    @micropython.native
    def pop(self):
        """Index of the oldest unread beat in the beat_* arrays (call available() first)."""
        i = self._tail
        self._tail = (i + 1) % _RING
        return i

    @micropython.native
    def median_rr_us(self):
        return self.rhythm.median_rr_us()

    # ---- producer side -------------------------------------------------
    @micropython.native
    def _emit(self, rr_us, flag, n, off32):
        """A classified beat: out at once while there is a pulse, else held (see _hold)."""
        if n <= self._replay_skip:
            return  # out already, before the return was run again (see _replay)
        if flag == OK and not self._beat_good:
            flag = NOISE  # this upstroke itself is not a pulse's (see _pulse_evidence)
        if self._pulse:
            if self._held:
                self._release(True)
            self._out(rr_us, flag, n, off32)
            return
        # No pulse established yet (start, contact regained, off the wrist): hold the
        # beat.  If the evidence builds within _HOLD beats, the held ones were a pulse
        # too and go out as classified, so no beat of the first seconds is lost;
        # otherwise they go out as NOISE while worn, or are dropped with no reading.
        i = self._held
        if i == _HOLD:
            self._release_oldest(False)
            i -= 1
        self._held_rr[i] = rr_us
        self._held_flag[i] = flag
        self._held_n[i] = n
        self._held_off[i] = off32
        self._held = i + 1

    @micropython.native
    def _release_oldest(self, pulse):
        flag = self._held_flag[0]
        if pulse:
            self._out(self._held_rr[0], flag, self._held_n[0], self._held_off[0])
        elif self._no_reading_s < _UNCLAIMED_AFTER_S or self.worn:
            # Worn, the pulse in doubt for a moment (motion, an odd interval, contact
            # just lost): a beat all the same, but not one to trust.
            self._out(self._held_rr[0], NOISE if flag == OK else flag, self._held_n[0], self._held_off[0])
        else:
            # No reading for 5 s and no pulse came to claim it: no heartbeat at all (off
            # the wrist, a lamp's flicker, a knock), so not a beat, not even a flagged one.
            self.unclaimed += 1
        last = self._held - 1
        for i in range(last):
            self._held_rr[i] = self._held_rr[i + 1]
            self._held_flag[i] = self._held_flag[i + 1]
            self._held_n[i] = self._held_n[i + 1]
            self._held_off[i] = self._held_off[i + 1]
        self._held = last

    @micropython.native
    def _release(self, pulse):
        while self._held:
            self._release_oldest(pulse)

    @micropython.native
    def _out(self, rr_us, flag, n, off32):
        self._last_out_n = n
        h = self._head
        self.beat_rr_us[h] = rr_us
        self.beat_flag[h] = flag
        self.beat_n[h] = n
        self.beat_off32[h] = off32
        h = (h + 1) % _RING
        if h == self._tail:  # consumer too slow: drop the oldest
            self._tail = (self._tail + 1) % _RING
        self._head = h
        self.beats += 1
        if flag != OK:
            self.artefacts += 1
            if self._recent_bad < _BAD_CAP:
                self._recent_bad += _BAD_STEP
        else:
            if self._recent_bad > 0:
                self._recent_bad -= 1
            self._last_ok_n = n
            self.rhythm.accept(rr_us)

    @micropython.native
    def _foot32(self, den, off32, head, now):
        """Offset of the pulse foot from the max-slope sample, in 1/32 sample (<= 0).

        The tangent at the max-slope point (slope refined by the parabola's vertex)
        meets the horizontal through the minimum of the smoothed signal in the
        foot_back samples before it (never before the last beat).  `head` is the
        ring index of sample `now`.  Integer math sized to stay in small ints.
        """
        a = self._cand_prev
        b = self._cand_max
        c = self._cand_next
        span = self._span
        slope = b + ((c - a) * off32) // 128 if den > 0 else b  # over `span` samples
        sbuf = self._sbuf
        slen = self._slen
        pol = self.polarity
        cn = self._cand_n
        # The slope at cn is centred span/2 before it: average the samples around it.
        i = head - (now - cn) - span // 2
        while i < 0:
            i += slen
        j = head - (now - cn) - (span + 1) // 2
        while j < 0:
            j += slen
        yc2 = pol * (sbuf[i] + sbuf[j])
        back = self._foot_back
        limit = cn - self._last_beat_n - span - 1
        if limit < back:
            back = limit
        # Walk down the upstroke to the first minimum behind it (the foot), at most
        # `back` samples: a dip further back (motion, the last beat's notch) is not it.
        ymin = yc2  # twice the minimum, like yc2
        k = 0
        while k < back:
            i -= 1
            if i < 0:
                i += slen
            v = 2 * pol * sbuf[i]
            if v >= ymin:
                break
            ymin = v
            k += 1
        self._trough_n = cn - span // 2 - k  # the foot's minimum: where the crest time starts
        num = yc2 - ymin  # twice the rise from the foot to the max-slope point
        base = -16 * span
        if slope <= 0 or num <= 0:
            return base
        while slope > _SLOPE_SAFE:  # keeps num*16*span below small-int range
            slope >>= 1
            num >>= 1
        # foot = centre - (rise / slope) * span, in 1/32 sample: 16 * num * span / slope
        q = num // slope
        if q > _FOOT_FAR_X * back + 2:  # the tangent is nearly flat: the foot is the look-back's end
            return base - 32 * back
        r = num - q * slope
        return base - q * 16 * span - (r * 16 * span) // slope

    @micropython.native
    def _finish_candidate(self, head, now):
        a = self._cand_prev
        b = self._cand_max
        c = self._cand_next
        den = 2 * b - a - c  # > 0 at a maximum
        off32 = 0
        if den > 0:
            off32 = -((32 * (a - c) + den) // (2 * den))
            if off32 > 16:
                off32 = 16
            elif off32 < -16:
                off32 = -16
        n = self._cand_n
        med = self.median_rr_us()
        rate = self.rate_hz
        if b <= (self._amp * _THR_128) >> 7:
            # Under the level: only the diastolic window's lower bar let it start.
            if self._tent_due == _NEVER and n - self._last_beat_n < self._window_n(med):
                self._keep(b, n, den, off32, head, now)
            return
        if self._replaying and b > _NEW_SOURCE_X * self._amp:
            return  # the step of the sensor put back on, not a pulse (see _replay)
        if self._tent_due != _NEVER:
            # An upstroke is already waiting: the steeper of the two is the beat
            # (motion makes slope peaks of its own; the pulse's is the largest).
            # The other one is a rival in this interval (see _pulse_evidence).
            if b <= self._tent_b:
                if b > self._rival:
                    self._rival = b
                return
            if self._tent_b > self._rival:
                self._rival = self._tent_b
        else:
            # A weak upstroke soon after a strong one is the diastolic wave after the
            # dicrotic notch, not a beat: within 3/4 of the usual RR (never under
            # _DIASTOLIC_MIN_MS) it needs _DIASTOLIC_8/8 of the last beat's slope.
            if n - self._last_beat_n < self._window_n(med) and b * 8 < self._last_peak * _DIASTOLIC_8:
                self._keep(b, n, den, off32, head, now)  # a beat if a pause follows
                return
        foot = self._foot32(den, off32, head, now)
        self._tent_n = n
        self._tent_b = b
        self._tent_fn = n + (foot >> 5)  # floor division: same time as n + foot/32
        self._tent_fo = foot & 31
        # It waits a quarter of the usual interval (60..250 ms) for a steeper one to
        # start; one that started in time is compared when it ends.
        wait = (med // _TENT_WAIT_DIV) * rate // 1000000 if med else (rate * _TENT_WAIT_MS) // 1000
        lo = (rate * _TENT_WAIT_MIN_MS) // 1000
        hi = (rate * _TENT_WAIT_MAX_MS) // 1000
        self._tent_due = n + (lo if wait < lo else hi if wait > hi else wait)

    def _window_n(self, med):
        """The diastolic window after a beat, in samples (see _DIASTOLIC_8)."""
        rate = self.rate_hz
        window = (med * _DIASTOLIC_WIN_4 // 4) * rate // 1000000 if med else (rate * _DIASTOLIC_NO_MED_MS) // 1000
        if window < (rate * _DIASTOLIC_MIN_MS) // 1000:
            window = (rate * _DIASTOLIC_MIN_MS) // 1000
        return window

    def _keep(self, b, n, den, off32, head, now):
        """Keeps aside the steepest upstroke the diastolic window turned away (see _PAUSE_2)."""
        if b > self._kept_b:
            foot = self._foot32(den, off32, head, now)
            self._kept_b = b
            self._kept_n = n
            self._kept_fn = n + (foot >> 5)
            self._kept_fo = foot & 31

    @micropython.native
    def _crest_n(self, head, now):
        """Sample of the crest after the waiting upstroke: the first maximum of the
        smoothed signal after its steepest point, or `now` if it is still rising (the
        crest time is then at least that long).  `head` is the ring index of `now`."""
        sbuf = self._sbuf
        slen = self._slen
        pol = self.polarity
        m = self._tent_n - self._span // 2  # the slope's centre
        if m >= now:
            return now
        i = head - (now - m)
        while i < 0:
            i += slen
        best = pol * sbuf[i]
        while m < now:
            i += 1
            if i == slen:
                i = 0
            v = pol * sbuf[i]
            if v < best:
                return m
            best = v
            m += 1
        return now

    @micropython.native
    def _commit(self, head, now):
        """The waiting upstroke is the beat: time it, classify it, emit it.
        `head`: ring index of sample `now` (the crest time is read from the ring)."""
        self._tent_due = _NEVER
        crest_n = self._crest_n(head, now)
        n = self._tent_n
        b = self._tent_b
        med = self.median_rr_us()
        rate = self.rate_hz
        small = b * 4 < self._last_peak * _SMALL_4  # a smaller pulse than the last (see rhythm.feed)
        self._last_peak = b
        amp = self._amp
        amp_ok = b * _AMP_BAND > amp and b < amp * _AMP_BAND
        if self._replaying:
            pass  # the level two pulses have shown is kept through the replay
        elif amp_ok:
            amp += (b - amp) >> _AMP_EMA_SHIFT
            self._amp = amp
            self._amp_miss = 0
        else:
            # Four upstrokes in a row all out of range: the level itself has moved
            # (sensor gain, new contact), so start again from this one.
            # With no reading there is no level to keep: the first one out of range sets it
            # (a pulse regained after a flat line or a lamp's flicker is 10-100x theirs;
            # after a swinging sensor 1/4-1/2), unless the last second held a step of the
            # DC (the sensor put back on: it rises once, 5-10x a pulse; the window's level,
            # capped by its steepest fall, follows in 1-2 s).
            self._amp_miss += 1
            if self._amp_miss >= _AMP_MISS_RESET or not (self.contact or (b > amp and not self._steady_s)):
                self._amp = b
                self._amp_miss = 0
        fn = self._tent_fn
        fo = self._tent_fo
        first = self._last_beat_n < 0
        if self._kept_b:
            self._kept_b = 0
            if med and not first and self._pulse and not self.worn:
                self._premature(n, med)
        diff32 = (fn - self._foot_n) * 32 + (fo - self._foot_off)
        # A sample at a rail inside this interval: the wave was clipped there, so its foot
        # and its shape are not the pulse's (see _pulse_evidence).
        self._railed = self._rail_n >= self._foot_n
        self._last_beat_n = n
        self._foot_n = fn
        self._foot_off = fo
        if med:
            # Refractory: half the usual interval, at least 250 ms, so the diastolic
            # wave after the dicrotic notch is never taken for a beat.
            self._refractory = max((rate * _REFRACTORY_MIN_MS) // 1000, (med // _REFRACTORY_DIV) * rate // 1000000)
            self._next_decay_n = n + (med * _SEARCH_BACK_2 // 2) * rate // 1000000
            # A rival upstroke is looked for in the first 3/4 of the usual interval
            # (at high rates the next beat itself may start inside the 250 ms refractory).
            self._rival_end = n + (med * _RIVAL_WIN_4 // 4) * rate // 1000000
        else:
            self._next_decay_n = n + rate * _SEARCH_BACK_2 // 2
            self._rival_end = n + self._refractory
        # The diastolic window's lower bar (_THR_KEPT_128) holds from the refractory's end.
        self._kept_from = n + self._refractory
        self._kept_end = n + self._window_n(med)
        if first or diff32 <= 0 or diff32 > 32 * _MAX_INTERVAL_S * rate:
            # No previous beat to measure from; or a foot no later than the last one (a
            # slow drift can put two tangent feet on the same 1/32 sample): no interval.
            self._prev_diff32 = 0
            return
        rr_us = (diff32 * 31250) // rate
        if small and med and rr_us * 8 < med * _EARLY_8 and self._pulse and self._prev_diff32:
            # Early with a smaller pulse, amid a pulse: a premature beat (the diastolic
            # window let it through: large enough, or late in the cycle).  Its size and
            # interval say nothing about the pulse being there: the evidence is left as it
            # is, and the next beat is compared with the one before it.  Not twice in a
            # row (a premature beat is followed by its pause): a second early, small beat
            # is a new rhythm or a new source, judged as any (a sensor swinging off the
            # wrist passed as two premature beats, the second OK on the pulse's evidence).
            self._prev_diff32 = 0
        else:
            self._pulse_evidence(diff32, (n - fn) * 32 - fo, b, (crest_n - self._trough_n) * 32)
        self.rhythm.feed(rr_us, amp_ok and not self._cw_bad and self._learned, fn, fo, small)

    def _premature(self, n, med):
        """The upstroke kept aside (see _PAUSE_2) before the beat at sample n: if a pause
        follows it, it was a premature beat; its interval goes to the classifier, which
        flags it and the pause after it ECTOPIC.  Else it was the diastolic wave: dropped."""
        rate = self.rate_hz
        usual = med * rate // 1000000
        total = n - self._last_beat_n
        coupling = self._kept_n - self._last_beat_n
        if total * 2 < usual * _PAUSE_2 or total * 2 > usual * _PAUSE_MAX_2 or total < 2 * coupling:
            return
        diff32 = (self._kept_fn - self._foot_n) * 32 + (self._kept_fo - self._foot_off)
        if diff32 <= 0:
            return
        self._foot_n = self._kept_fn
        self._foot_off = self._kept_fo
        # The premature interval says nothing about whether successive intervals agree.
        self._prev_diff32 = 0
        self.rhythm.feed((diff32 * 31250) // rate, not self._cw_bad and self._learned, self._kept_fn,
                         self._kept_fo, True)

    @micropython.native
    def _forget_rhythm(self):
        """What follows is judged on its own intervals, not on the last pulse's.

        The beats held so far are not part of what follows: they leave as they are
        judged now (see _release_oldest)."""
        if self._held:
            self._release(self._pulse)
        if self._jit_n:
            for i in range(_JIT):
                self._jit[i] = 0
            self._jit_sum = 0
            self._jit_n = 0

    @micropython.native
    def _pulse_evidence(self, diff32, rise32, b, crest32):
        """Is this a heartbeat at all?  Updates `_evidence` and `_pulse` (no allocation).

        Off the wrist the sensor still sees waves: lamp flicker aliased into the band,
        a sensor swinging on its strap, drifting daylight, knocks.  A pulse differs
        in ways that follow from how the heart ejects blood:
        - its upstroke is a short event (systole: the foot to the steepest rise takes
          well under 1/6 of the interval), where any smooth oscillation takes at least
          1/(2 pi) of its period from the tangent's foot to its steepest point;
        - it rises fast and falls slowly: the crest comes well within the first 40 % of
          the cycle, where a time-symmetric wave (a pendulum, |sin|^p flicker) takes half;
        - the heart makes one upstroke per cycle: another nearly as steep in the same
          interval (`_rival`) is a wave read at half its rate;
        - it stands clear of the sensor's noise floor (the raw second difference);
        - successive intervals agree (within 30 %), yet are not a metronome: a heart
          always varies a little, an oscillator does not.
        Beats count as pulses (may be OK) after _EVIDENCE_ON agreeing good beats.
        """
        ev = self._evidence
        prev = self._prev_diff32
        self._prev_diff32 = diff32
        skip = self._jit_skip  # this difference spans a change of source (see below)
        self._jit_skip = False
        scale = self._span * self._len * self._len
        # Rise fraction of this beat and its running mean (EMA 1/4), 1/256 of the interval.
        frac = (rise32 << 8) // diff32 if rise32 > 0 else 0
        last_b = self._prev_b
        self._prev_b = b
        crest = (crest32 << 8) // diff32 if crest32 > 0 else 0
        if b * 8 < last_b * _STEP_8 or b * _STEP_8 > last_b * 8:
            # The upstroke changed by over 1.6x from one beat to the next: contact
            # gained or lost, or motion.  Whatever follows proves itself afresh: a
            # pulse in doubt needs two agreeing beats (the step beat itself is not
            # trusted: leaving the wrist makes one); with none yet, it starts over.
            ev = _EVIDENCE_ON - _STEP_PROOF if ev >= _EVIDENCE_ON else 0
            if b * _NEW_SOURCE_X < last_b or b > last_b * _NEW_SOURCE_X:
                self._forget_rhythm()  # over 2x: a new source more likely than motion
                # Off the last established pulse's upstroke too (back at it, this is the
                # pulse resuming after an artefact), it is no pulse in doubt but a new
                # source: its evidence starts from nothing, and this interval runs from the
                # old source's last upstroke to the new one's first, so how the next one
                # differs from it is no variability of either: the metronome test leaves
                # that difference out (a lamp's flicker 30 ms off the heart's interval
                # stood there as its variability for 8 beats: 11 OK beats after leaving).
                pb = self._pulse_b
                if pb > 0 and (b * _NEW_SOURCE_X < pb or b > pb * _NEW_SOURCE_X):
                    ev = 0
                    self._jit_skip = True
            elif self._held:
                self._release(self._pulse)  # those before the step are not this pulse
            # The shape means start again from "unknown" (the bars), not from this beat.
            self._rise_frac = _RISE_FRAC_LOW_256
            self._crest = _CREST_LOW_256
        self._rise_frac += (frac - self._rise_frac) >> _SHAPE_EMA_SHIFT
        self._crest += (crest - self._crest) >> _SHAPE_EMA_SHIFT
        rival = self._rival
        self._rival = 0
        # Diastole shortens more than systole as the rate rises, so the bar rises from
        # 32/256 at 120 bpm and slower to 38/256 at 180 bpm and faster.
        rr_ms = (diff32 * 125) // (4 * self.rate_hz)
        bar = _RISE_FRAC_256 if rr_ms <= _FAST_RR_MS else _RISE_FRAC_LOW_256 if rr_ms >= _SLOW_RR_MS else \
            _RISE_FRAC_LOW_256 + ((_SLOW_RR_MS - rr_ms) * (_RISE_FRAC_256 - _RISE_FRAC_LOW_256)) \
            // (_SLOW_RR_MS - _FAST_RR_MS)
        crest_bar = _CREST_256 if rr_ms <= _FAST_RR_MS else _CREST_LOW_256 if rr_ms >= _SLOW_RR_MS else \
            _CREST_LOW_256 + ((_SLOW_RR_MS - rr_ms) * (_CREST_256 - _CREST_LOW_256)) // (_SLOW_RR_MS - _FAST_RR_MS)
        shape_ok = (frac < _RISE_FRAC_MAX_256 and self._rise_frac < bar and self._crest < crest_bar
                    and not (frac >= _SINE_RISE_256 and crest >= _SINE_CREST_256)
                    and rival * 8 <= b * _RIVAL_8 and not self._railed)
        snr_ok = (b // scale) * 256 >= self._noise * _SNR_MIN  # small ints even at 18 bits
        self._beat_good = shape_ok and snr_ok and self._against < _AGAINST_WINS
        if shape_ok and snr_ok:
            if self._shaped_run < _EVIDENCE_MAX:
                self._shaped_run += 1
        else:
            self._shaped_run = 0
        if not self._beat_good:
            ev = 0  # held beats wait for it to come back (see _emit)
            if self._bad_run:
                self._forget_rhythm()  # two in a row: not a blip (motion), no pulse
            self._bad_run = 1
            self._good_run = 0
        else:
            self._bad_run = 0
            self._last_good_n = self._tent_n
            if self._good_run < _EVIDENCE_MAX:
                self._good_run += 1
        if (self._shaped_run >= 1 and self._ring_from >= 0 and self._was_worn and not self._replaying
                and self._no_reading_s >= _RETURN_AFTER_S
                and self.n - self._replay_n > self.rate_hz):
            # Two pulse-shaped upstrokes in a row with no reading: their level is a pulse's;
            # run the seconds since the return again with it (see _replay).  Judged on their
            # own shape: the windows' guard (_against) may still hold the empty wrist's.
            self._replay_now = True
            self._replay_amp = b
        first_of_replay = self._good_run == 1 and not prev and self._replaying == 2
        if ((self._good_run == 2 or first_of_replay) and ev == 0 and self._no_reading_s >= _RETURN_AFTER_S
                and 32 * 60 * self.rate_hz < diff32 * _HR_MAX_BPM):
            # The first interval between two pulse-shaped upstrokes (a pulse regained, or
            # at the start): it has nothing of its own to agree with yet, but it is one,
            # so a pulse shows from its fourth upstroke (two agreeing intervals more), 4.4 s
            # at 55 bpm after the first, not its fifth (5.5 s).  Only after 3 s of no reading
            # (a return): a pulse in doubt through motion proves itself as before (counted
            # there, exercise with bursts lost 0.4 F1 points).  The first upstroke of a
            # stream (a replay's) has no interval to be judged by: the second stands for both,
            # but is not OK itself (the first may be the empty wrist's last swing).
            if first_of_replay:
                self._beat_good = False
            ev = 1
        elif self._beat_good and prev:
            dev = diff32 - prev if diff32 > prev else prev - diff32
            if dev * 10 > prev * _AGREE_10:
                # Successive intervals disagree: an artefact, an ectopic beat or no
                # pulse at all.  The next agreeing beat decides (the hold keeps them).
                ev = ev - 1 if ev < _EVIDENCE_ON else _EVIDENCE_ON - 1
            elif skip:
                ev += 1  # agrees, but it measures no variability (see the step above)
            else:
                # A metronome is an oscillator (lamp flicker, a swinging sensor): a
                # heart always varies a little, if only through the pulse transit
                # time.  The mean |successive difference| of the last _JIT agreeing
                # intervals (each clipped at 20 ms), once there are three; before that
                # an agreeing interval counts (a pulse regained shows within ~4 beats).
                rate = self.rate_hz
                clip = (rate * 32 * _JIT_CLIP_MS) // 1000
                if dev > clip:
                    dev = clip
                ji = self._jit_i
                self._jit_sum += dev - self._jit[ji]
                self._jit[ji] = dev
                self._jit_i = (ji + 1) % _JIT
                if self._jit_n < _JIT:
                    self._jit_n += 1
                jn = self._jit_n
                if jn < _JIT_MIN or self._jit_sum * 1000 >= jn * (_METRONOME_US * 32 // 1000) * rate:
                    ev += 1  # agrees, and no metronome (judged once there are _JIT_MIN)
                else:
                    ev -= 1  # under 2.5 ms: an oscillator
        if ev < 0:
            ev = 0
        elif ev > _EVIDENCE_MAX:
            ev = _EVIDENCE_MAX
        self._evidence = ev
        if ev >= _EVIDENCE_ON and not self._pulse:
            self._recent_bad = 0  # a pulse again: the artefacts before it are history
        self._pulse = ev >= _EVIDENCE_ON
        if self._pulse:
            self._pulse_b = b

    @micropython.native
    def process(self, buf, count):
        """Feeds `count` samples from buf; returns how many beats are waiting."""
        box1 = self._box1
        box2 = self._box2
        sbuf = self._sbuf
        slen = self._slen
        blen = self._len
        span = self._span
        sum1 = self._sum1
        sum2 = self._sum2
        bi = self._bi
        di = self._di
        n = self.n
        pol = self.polarity
        adc_max = self.adc_max - 1
        adc_min = self.adc_min + 1
        if not self._learned:
            # Keep the first seconds: once the polarity and level are learnt they are
            # run through again, so their beats are not lost (see _rewind).
            lb = self._learn_buf
            if n + count <= len(lb):
                for k in range(count):
                    lb[n + k] = buf[k]
        if self._replaying:
            pass  # the ring is being read (see _replay)
        elif not self.contact and self._learned:
            # No reading: keep the last seconds for the replay of a return (see _replay).
            lb = self._learn_buf
            ln = len(lb)
            if self._ring_from < 0:
                self._ring_from = n
            i = n % ln
            for k in range(count):
                lb[i] = buf[k]
                i += 1
                if i == ln:
                    i = 0
        elif self._ring_from >= 0:
            self._ring_from = -1
        if n == 0 and count:
            # Prime the filters with the first sample so the DC step of a fresh
            # start is not taken for a huge slope (it would skew polarity and threshold).
            x = buf[0]
            for i in range(blen):
                box1[i] = x
                box2[i] = x * blen
            sum1 = x * blen
            sum2 = sum1 * blen
            for i in range(slen):
                sbuf[i] = sum2
            self._x1 = x
            self._x2 = x
        # Per-sample state lives in locals (attribute look-ups dominate the cost);
        # it is written back before any method that reads it.
        cw_min = self._cw_min
        cw_max = self._cw_max
        cw_sat = self._cw_sat
        cw_n = self._cw_n
        cw_hf = self._cw_hf
        cw_pos = self._cw_pos
        cw_neg = self._cw_neg
        x1 = self._x1
        x2 = self._x2
        win_sum = self._win_sum
        win_hi = self._win_hi
        win_lo = self._win_lo
        win_n = self._win_n
        win_len = self._win_len
        rate = self.rate_hz
        last_d = self._last_d
        thr = (self._amp * _THR_128) >> 7
        thr_k = (self._amp * _THR_KEPT_128) >> 7
        cand = self._cand
        due = self._tent_due
        rearmed = self._rearmed
        decay_n = self._next_decay_n  # read by most samples; only _commit moves it
        for k in range(count):
            x = buf[k]
            # Contact window statistics on the raw signal.
            if x < cw_min:
                cw_min = x
            if x > cw_max:
                cw_max = x
            if x <= adc_min or x >= adc_max:
                cw_sat += 1
                self._rail_n = n
            # Noise floor: the raw second difference is white noise, hardly any pulse.
            e = x - x1 - x1 + x2
            cw_hf += e if e > 0 else -e
            x2 = x1
            x1 = x
            # Smoothing and slope.
            sum1 += x - box1[bi]
            box1[bi] = x
            sum2 += sum1 - box2[bi]
            box2[bi] = sum1
            bi += 1
            if bi == blen:
                bi = 0
            sbuf[di] = sum2
            j = di - span
            if j < 0:
                j += slen
            d = sum2 - sbuf[j]  # sum2 `span` samples ago
            di += 1
            if di == slen:
                di = 0
            # Polarity statistics.
            win_sum += x
            if sum2 > win_hi:
                win_hi = sum2
            if sum2 < win_lo:
                win_lo = sum2
            if d > cw_pos:
                cw_pos = d
            elif -d > cw_neg:
                cw_neg = -d
            dp = d * pol
            if n >= due and not cand:  # an upstroke under way is compared first
                self._commit(di - 1 if di else slen - 1, n)
                due = self._tent_due
                decay_n = self._next_decay_n
                thr = (self._amp * _THR_128) >> 7
                thr_k = (self._amp * _THR_KEPT_128) >> 7
            # Peak search on the polarity-corrected slope.
            if cand:
                if dp > self._cand_max:
                    self._cand_prev = last_d
                    self._cand_max = dp
                    self._cand_n = n
                    self._need_next = True
                elif self._need_next:
                    self._cand_next = dp
                    self._need_next = False
                if not self._need_next and (dp * _UPSTROKE_END_DIV < self._cand_max or n - self._cand_n > self._max_width):
                    cand = False
                    self._cand = False
                    self._finish_candidate(di - 1 if di else slen - 1, n)
                    due = self._tent_due
            elif dp > thr or (dp > thr_k and self._kept_from < n < self._kept_end):
                if self._learned and n - self._last_beat_n > self._refractory:
                    cand = True
                    self._cand = True
                    self._cand_max = dp
                    self._cand_prev = last_d
                    self._cand_n = n
                    self._need_next = True
                    rearmed = False
                elif rearmed and dp > self._rival and n < self._rival_end:
                    self._rival = dp  # a fresh upstroke inside the refractory time
            else:
                rearmed = True
                if n > decay_n and self._learned:
                    # No beat where one was due: lower the threshold (search back).
                    self._amp = (self._amp * _DECAY_4) >> 2
                    thr = (self._amp * _THR_128) >> 7
                    thr_k = (self._amp * _THR_KEPT_128) >> 7
                    decay_n = n + rate * _DECAY_EVERY_MS // 1000
                    self._next_decay_n = decay_n
            last_d = dp
            n += 1
            # Once a second: contact decision and polarity update.
            cw_n += 1
            if cw_n >= rate:
                self.n = n
                self._cw_min = cw_min
                self._cw_max = cw_max
                self._cw_sat = cw_sat
                self._cw_n = cw_n
                self._cw_hf = cw_hf
                self._cw_pos = cw_pos
                self._cw_neg = cw_neg
                self._window_done()
                cw_hf = 0
                cw_pos = 0
                cw_neg = 0
                cw_min = self._cw_min
                cw_max = self._cw_max
                cw_sat = 0
                cw_n = 0
            win_n += 1
            if win_n >= win_len:
                win_n = 0
                self._win_sum = win_sum
                self._win_hi = win_hi
                self._win_lo = win_lo
                self._polarity_update()  # clears what it consumed
                win_sum = self._win_sum
                win_hi = self._win_hi
                win_lo = self._win_lo
                pol = self.polarity
                cand = self._cand
                due = self._tent_due
                thr = (self._amp * _THR_128) >> 7
                thr_k = (self._amp * _THR_KEPT_128) >> 7
        self._cw_min = cw_min
        self._cw_max = cw_max
        self._cw_sat = cw_sat
        self._cw_n = cw_n
        self._cw_hf = cw_hf
        self._cw_pos = cw_pos
        self._cw_neg = cw_neg
        self._x1 = x1
        self._x2 = x2
        self._win_sum = win_sum
        self._win_hi = win_hi
        self._win_lo = win_lo
        self._win_n = win_n
        self._last_d = last_d
        self._rearmed = rearmed
        self._sum1 = sum1
        self._sum2 = sum2
        self._bi = bi
        self._di = di
        self.n = n
        if self.rhythm.waiting() and n - self.rhythm.pend_n() > _PEND_FLUSH_S * self.rate_hz:
            self.rhythm.flush()  # no next beat to resolve a short interval: report it as it is
        if self._held and n - self._held_n[self._held - 1] > _HELD_RELEASE_S * self.rate_hz:
            self._release(False)  # no beat for 3 s: no pulse came to claim them
        if n > _REBASE:
            self._rebase()
        if self._rewind_to:
            self._rewind()
        if self._replay_now and not self._replaying:
            self._replay()
        self._contact_now()
        return self.available()

    def _rewind(self):
        """Runs the learning span again with the polarity and level now known.

        The detector finds no beat until the wave's shape has told its polarity (4 s);
        starting again from the first sample with that knowledge recovers the beats of
        those seconds.  The samples were kept in a ring sized at construction."""
        total = self.n
        if total > len(self._learn_buf):
            self._rewind_to = False
            return  # fed in blocks too large to keep: those beats stay lost
        pol = self.polarity
        peaked = self._peaked
        amp = self._amp
        self._reset_stream()
        self.polarity = pol
        self._peaked = peaked
        self._amp = amp
        self._learned = True
        self._replayed_to = total
        self.process(self._learn_buf, total)

    def _replay(self):
        """Runs the seconds since the return again, now that the level is a pulse's.

        Back on the wrist the first upstrokes meet a level set by the empty wrist (a flat
        line's noise, a lamp's flicker) or by the step of the sensor put back on, and are
        missed or misjudged for 2-3 s; with the level two pulse-shaped upstrokes have shown,
        the same samples give those pulses, so the evidence builds from the return and they
        come out with their own times.  The contact and polarity windows were judged as
        the samples came and are not judged again; beats already out are not repeated.
        Allocates nothing: the ring is turned in place so the span starts at index 0."""
        self._replay_now = False
        self._replay_n = self.n
        lb = self._learn_buf
        ln = len(lb)
        end = self.n
        start = self._ring_from if end - self._ring_from < ln else end - ln
        at_rise = start < self._rise_n < end
        if not (at_rise and self._rise_flat):
            # Only from a flat line put on the skin: run from a live empty wrist (a swinging
            # sensor at the pulse's level) the replay made OK beats of swings (dangling at
            # 55 bpm, 3 in an hour), where the live path made none.
            return
        if at_rise:
            # From the end of the second the sensor went on: the step of its DC is no
            # pulse, and it would stand as a beat before the first one (a rival to it).
            start = self._rise_n
        count = end - start
        # Beats found since `start` are found again; those before it are the empty wrist's.
        held = 0
        while held < self._held and self._held_n[held] < start:
            held += 1
        self._held = held
        self._release(False)
        self.rhythm.flush()
        self._replay_skip = self._last_out_n
        # What the windows measured so far stays as it is.
        sv = self._saved
        sv[0] = self._cw_min if self._cw_min < _NEVER else _NEVER - 1  # (1 << 30: no sample yet)
        sv[1] = self._cw_max
        sv[2] = self._cw_sat
        sv[3] = self._cw_n
        sv[4] = self._cw_hf
        sv[5] = self._cw_pos
        sv[6] = self._cw_neg
        sv[7] = self._x1
        sv[8] = self._x2
        sv[9] = self._win_sum
        sv[10] = self._win_hi
        sv[11] = self._win_lo if self._win_lo < _NEVER else _NEVER - 1
        sv[12] = self._win_n
        sv[13] = self._win_pos
        sv[14] = self._win_neg
        sv[15] = self._win_count
        amp = self._replay_amp
        self._amp = amp
        # The detection and evidence state of a stream starting at `start`.
        self._cand = False
        self._tent_due = _NEVER
        self._rearmed = False
        self._rival = 0
        self._rival_end = 0
        self._last_beat_n = -(1 << 20)
        self._next_decay_n = _NEVER
        self._evidence = 0
        self._pulse = False
        self._prev_diff32 = 0
        self._prev_b = amp
        self._good_run = 0
        self._shaped_run = 0
        self._bad_run = 0
        self._rise_frac = _RISE_FRAC_LOW_256
        self._crest = _CREST_LOW_256
        self._forget_rhythm()
        self.rhythm.relearn()
        self._amp_miss = 0
        x = lb[start % ln]
        blen = self._len
        for i in range(blen):
            self._box1[i] = x
            self._box2[i] = x * blen
        self._sum1 = x * blen
        self._sum2 = self._sum1 * blen
        for i in range(self._slen):
            self._sbuf[i] = self._sum2
        self._bi = 0
        self._di = 0
        self._last_d = 0
        self.n = start
        # 2: from the step of a flat sensor put on, so the first upstroke is the skin's (see
        # first_of_replay); 1: otherwise (a swinging sensor's range jumps too: a swing as
        # large as a pulse, then the step, made an OK beat 0.45 s off any true one).
        self._replaying = 2 if at_rise and self._rise_flat else 1
        i = start % ln
        _turn(lb, i)  # the span now starts at index 0
        self.process(lb, count)
        _turn(lb, ln - i if i else 0)  # back to n modulo the length
        self._replaying = 0
        self._replay_skip = -1
        self._cw_min = sv[0]
        self._cw_max = sv[1]
        self._cw_sat = sv[2]
        self._cw_n = sv[3]
        self._cw_hf = sv[4]
        self._cw_pos = sv[5]
        self._cw_neg = sv[6]
        self._x1 = sv[7]
        self._x2 = sv[8]
        self._win_sum = sv[9]
        self._win_hi = sv[10]
        self._win_lo = sv[11]
        self._win_n = sv[12]
        self._win_pos = sv[13]
        self._win_neg = sv[14]
        self._win_count = sv[15]

    @micropython.native
    def _window_done(self):
        if self._replaying:
            return  # judged when the samples came (see _replay)
        span = self._cw_max - self._cw_min
        bad = span < self.flat_range or self._cw_sat * _RAIL_SHARE_DIV > self._cw_n
        was_bad = self._cw_bad
        self._cw_bad = self._cw_bad + 1 if bad else 0
        # Seconds of steady signal: live, and its range within 3x of the second before
        # (a step of the DC, contact gained or lost, makes a shape that is no pulse's).
        last = self._last_span
        self._last_span = span
        if bad or span > _STEADY_X * last or last > _STEADY_X * span:
            self._steady_s = 0
            if not bad and span > _STEADY_X * last:
                self._rise_n = self.n  # the range jumped up (the sensor put on): see _replay
                self._rise_flat = was_bad > 0  # ... from a flat line: nothing swung before it
        elif self._steady_s < _COUNT_CAP_S:
            self._steady_s += 1
        self._cw_min = 1 << 30
        self._cw_max = -1
        hf = self._cw_hf
        self._noise = (hf << 8) // self._cw_n if hf < _HF_SAFE else (hf // self._cw_n) << 8
        # The polarity window's steepest rise and fall; the level after a reset is the
        # lesser of its two seconds, so a step of the DC (contact regained, a knock)
        # does not set a level no pulse can reach.
        pos = self._cw_pos
        neg = self._cw_neg
        if pos > self._win_pos:
            self._win_pos = pos
        if neg > self._win_neg:
            self._win_neg = neg
        # (A flat or railed second before is no wave's: this second alone, or the level
        # after a flat stretch would be its noise and every wiggle a beat.)
        self._reset_pos = pos if pos < self._last_pos or was_bad else self._last_pos
        self._reset_neg = neg if neg < self._last_neg or was_bad else self._last_neg
        self._last_pos = pos
        self._last_neg = neg
        self._cw_sat = 0
        self._cw_n = 0
        # Contact needs a live signal, an OK beat within 2.5 s (30 bpm plus margin)
        # and not a run of artefacts: flat, saturated or pulseless noise all fail.
        # While the pulse evidence is in doubt (an artefact, motion) the last OK beat
        # must be within 1.5 s: a brief doubt keeps the reading, a lost pulse ends it.
        self._contact_now()
        if self._pulse:
            self._no_pulse_s = 0
            if self.contact and not self._pol_kept:
                self._pol_s += 1
                self._pol_kept = self._pol_s >= _KEEP_POLARITY_S
        elif self._no_pulse_s < _COUNT_CAP_S:
            self._no_pulse_s += 1
        if self.contact:
            self._no_reading_s = 0
            self._was_worn = True  # (the start's first seconds are run again by _rewind)
        elif self._no_reading_s < _COUNT_CAP_S:
            self._no_reading_s += 1
        if self._cw_bad >= _BAD_WINDOWS_RELEARN:
            self._recent_bad = 0
            self.rhythm.relearn()  # after contact returns the rhythm may differ

    @micropython.native
    def _contact_now(self):
        """The contact rule, judged at each window and again at the end of each block:
        a wrist left (no OK beat for 2 s) shows within 2-2.25 s, not at the next window
        (up to 1 s later), and a pulse regained shows with its first OK beat."""
        since = self.n - self._last_ok_n
        recent = since < (self.rate_hz * _OK_RECENT_MS // 1000 if self._pulse else self.rate_hz * _OK_RECENT_DOUBT_MS // 1000)
        self.contact = self._cw_bad == 0 and recent and self._recent_bad < _BAD_LOST

    @micropython.native
    def _polarity_update(self):
        if self._replaying:
            return  # judged when the samples came (see _replay)
        self._win_count += self._win_len
        if not self._learned and self._win_count < _FIRST_WINS * self._win_len:
            return  # the first decision looks at 4 s: 2 s can hold under 2 beats at 50 bpm
        pos = self._win_pos
        neg = self._win_neg
        self._win_pos = 0
        self._win_neg = 0
        mean = (self._win_sum // self._win_count) * self._len * self._len  # on sum2's scale
        self._win_count = 0
        vote = 256 if self._win_hi - mean > mean - self._win_lo else 0
        top = self._win_hi - mean
        bottom = mean - self._win_lo
        self._win_sum = 0
        self._win_hi = -(1 << 30)
        self._win_lo = 1 << 30
        # A pulse's top is its sharp end; two windows in a row whose bottom is the sharp
        # end (a rectified lamp flicker, say) while the polarity says otherwise are no pulse.
        if (vote > 0) == (self.polarity > 0):
            if (self._against >= _AGAINST_WINS and self._shaped_run >= 2 and self._ring_from >= 0 and self._was_worn
                    and not self.contact):
                # The guard held pulse-shaped upstrokes back (the empty wrist's vote); now
                # the shape agrees: run the seconds since the return again (see _replay).
                self._replay_now = True
                self._replay_amp = self._prev_b
            self._against = 0
        elif not self.contact and self._steady_s < _STEADY_MIN_S:
            # No reading, and the sensor just went on or off (a step of its DC): the step
            # has no pulse's shape, and the empty wrist's before it says nothing of what follows.
            self._against = 0
        elif self._against < _AGAINST_WINS:
            self._against += 1
            # Clearly the other way (the sharp end a third further out than the other,
            # as a rectified lamp flicker's cusps): one window is enough.
            sharp = bottom if self.polarity > 0 else top
            broad = top if self.polarity > 0 else bottom
            if 2 * sharp > _SHARP_2 * broad:
                self._against = _AGAINST_WINS
        if self.n <= self._replayed_to:
            return  # the rewind of the span that decided the polarity: decided already
        if not self._learned:
            self._peaked = vote
        elif self._cw_bad:
            pass  # flat or at a rail: the window's shape is no wave's, it has no say
        elif self._pol_kept and not self.contact:
            # No reading, and the polarity has carried a pulse: it is a property of how the
            # sensor sits on the skin (reflective or transmissive, the front end's sign), and
            # an empty wrist's waves (flicker, a swinging strap, daylight, knocks) are no
            # evidence about it.  Kept, so a pulse back on the wrist is found from its first
            # upstroke (off-wrist votes turned it ~3 s after a return).  While there is a
            # reading it still turns on a run of windows (the branch below).
            pass
        elif self._pulse:
            # While there is a pulse the polarity turns slowly: a motion burst never
            # turns it, only a run of windows whose shape says so.
            self._peaked += (vote - self._peaked) >> _PEAKED_EMA_SHIFT
        elif self._steady_s >= _STEADY_MIN_S and self._no_pulse_s >= _NO_PULSE_DECIDE_S:
            self._peaked = vote  # no pulse to keep for 6 s: a steady window decides
        else:
            self._peaked += (vote - self._peaked) >> _PEAKED_EMA_SHIFT  # a pulse just in doubt (motion)

        want = self.polarity
        if self._peaked > _PEAKED_UP:  # the top is the sharp end in most recent windows
            want = 1
        elif self._peaked < _PEAKED_DOWN:
            want = -1
        if want != self.polarity or not self._learned:
            self.polarity = want
            self._pol_kept = False  # the new polarity has carried no pulse yet
            self._pol_s = 0
            self._against = 0
            # The fiducial moves with the polarity: intervals across it mean nothing.
            self._evidence = 0
            self._pulse = False
            self._prev_diff32 = 0
            self._rise_frac = _RISE_FRAC_LOW_256  # the shape of the other polarity says nothing
            self._crest = _CREST_LOW_256
            self._forget_rhythm()
            lvl = pos if want > 0 else neg
            fall = _FALL_CAP * (neg if want > 0 else pos)
            self._amp = fall if lvl > fall > 0 else lvl
            self._cand = False
            self._tent_due = _NEVER  # an upstroke of the old polarity is not a beat
            self._kept_b = 0
            if not self._learned:
                self._rewind_to = True
            self._learned = True
        else:
            top = pos if want > 0 else neg
            # While contact is bad, or when the window's steepest upstroke is 4x the
            # level (the level decayed on a rail or a flat start: every wiggle of
            # noise would pass), the level starts again from this window.
            if self._cw_bad >= _BAD_WINDOWS_RELEARN or top > _LEVEL_RESET_X * self._amp:
                lvl = self._reset_pos if want > 0 else self._reset_neg
                fall = _FALL_CAP * (self._reset_neg if want > 0 else self._reset_pos)
                self._amp = fall if lvl > fall > 0 else lvl

    def _rebase(self):
        shift = _REBASE >> 1
        self.n -= shift
        self._cand_n -= shift
        self._last_beat_n -= shift
        self._tent_n -= shift
        self._tent_fn -= shift
        self._kept_n -= shift
        self._kept_fn -= shift
        if self._kept_from != _NEVER:
            self._kept_from -= shift
        self._kept_end -= shift
        if self._tent_due != _NEVER:
            self._tent_due -= shift
        self._foot_n -= shift
        self._last_ok_n -= shift
        self._last_good_n -= shift
        self._rival_end -= shift
        self._next_decay_n -= shift
        self._rail_n -= shift
        self.rhythm.rebase(shift)
        self._ring_from = -1  # the ring's index is n modulo its length: start it again
        self._rise_n = -(1 << 30)
        self._replay_n = -(1 << 30)
        for i in range(_RING):
            self.beat_n[i] -= shift
        for i in range(_HOLD):
            self._held_n[i] -= shift
