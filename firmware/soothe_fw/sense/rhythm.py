"""RR interval classification: is each interval a normal-to-normal one, and if not, why.

Input: one RR interval per detected beat (`feed`), with whether the signal around it was
clean, and an opaque beat position passed through.  Output: the same intervals, in order,
each with a flag, through the `emit(rr_us, flag, n, off32)` callback given at
construction; a short interval waits for the next one before it is judged (one beat of
look-ahead), so a call emits 0, 1 or 2 intervals.  Cost: per beat, O(_HIST) integer
steps; nothing allocated.

The rules follow Lipponen & Tarvainen (2019, J Med Eng Technol 43:173), streamed:
- a beat is judged against the recent normal rhythm: the running median of the last
  _HIST normal intervals, and the beat-to-beat variability, the median |successive
  difference| of those intervals (their `Th` is 5.2 quartile deviations of dRR over 91
  beats; with few beats the median |dRR| is the robust stand-in);
- ectopic (premature beat): an interval suddenly shorter than the last by more than the
  variability allows, followed by a lengthening (their "S11/S12" rule with c1 = 0.13,
  c2 = 0.17): the premature interval and its pause are both not normal, whether the
  pause is compensatory (a PVC: premature + pause = two cycles) or not (a PAC: the
  sinus node is reset, the pause only a little longer than a cycle);
  A premature beat's pulse is also smaller (less filling time): the detector says so
  (`feed(..., small=True)`), and then an interval 1/8 early waits for its pause even where
  Th is wider (sinus arrhythmia at rest); with no pause after it, it is OK after all;
- extra (a false beat): two short intervals that add up to one usual interval;
- missed: an interval of about two usual ones (over 7/4 of the median);
- short: short, and not explained by the rules above.
"""
from soothe_fw.compat import zeros, const

try:
    import micropython
except ImportError:
    from soothe_fw.compat import mp_shim as micropython  # type: ignore[no-redef]

# Flags (the same numbers as beats.py's).
OK = const(0)
EXTRA = const(1)
MISSED = const(2)
ECTOPIC = const(3)
SHORT = const(4)
NOISE = const(5)

_HIST = const(16)  # recent normal intervals for the running median and variability
_MIN_HIST = const(4)  # normal intervals before the median judges
_RELEARN_RUN = const(6)  # intervals off the median that agree with each other: a new rhythm
# Short / long bars, in quarters of the median: under 3/4 is short whatever the
# variability (a 25 % shortening is past any sinus arrhythmia at rest), over 7/4 spans
# a missed beat (two cycles less a margin for the slowing after it).
_SHORT_Q = const(3)
_MISSED_Q = const(7)
# Two intervals that add up to 3/4..5/4 of the median: the beat between them was false.
_SUM_LO_Q = const(3)
_SUM_HI_Q = const(5)
# Intervals of a new rhythm agree within 1/8 with the one before.
_AGREE_8 = const(1)
# The variability threshold (L&T's Th) is _TH_K/2 median |dRR|.  For normal beat-to-beat
# differences median |dRR| = 0.67 sd, so L&T's 5.2 quartile deviations are 2.2 sd = 3.3
# median |dRR|; 5.5 (3.7 sd) here, because a 16-interval median scatters more than their
# 91-beat quartiles and a sinus beat called ectopic costs an HRV interval pair.  Never under
# 1/6 of the median: a sinus rhythm at 125-150 bpm has sudden shortenings of 10-15 % now and
# then (at Th = 4.5 median |dRR|, floor 1/10, the generator lost a pair per 3 min: RMSSD
# -0.3/-1.4 %), while a premature beat comes 20-40 % early.
_TH_K = const(11)
_TH_FLOOR_DIV = const(6)
# L&T's S12 rule: the next interval lengthens by at least c1 |dRR| + c2 Th
# (c1 = 0.13 ~ 1/8, c2 = 0.17 ~ 1/6).
_C1_SHIFT = const(3)
_C2_DIV = const(6)
# A beat whose pulse is smaller than the last one's (the detector says so) and comes over
# 1/8 early waits for the next interval too: less filling time gives a premature beat a
# smaller pulse (Frank-Starling), so 20 % early with a small pulse is telling where the
# interval alone is within what sinus arrhythmia at rest allows (Th).
_EARLY_8 = const(7)
# A beat with no median yet is trusted once the next interval agrees within 1/4.
_AGREE_Q = const(1)
_MIN_RR_US = const(250000)  # 240 bpm: 220 bpm plus beat-to-beat jitter
_MAX_RR_US = const(2000000)  # 30 bpm


@micropython.native
def sorted_replace(sorted_arr, n, old, new):
    """Replaces `old` by `new` in the first n items of a sorted array (no allocation).
    old < 0: nothing to replace, the array grows by one.  `old` is found by bisection and
    only the items between it and new's place move (per beat and per second: a linear
    scan and a shift to the end cost ~4x as much); an `old` that is not there replaces
    the last item, as the scan did."""
    if old < 0:
        i = n
    else:
        lo = 0
        hi = n - 1
        while lo < hi:
            mid = (lo + hi) >> 1
            if sorted_arr[mid] < old:
                lo = mid + 1
            else:
                hi = mid
        i = lo if sorted_arr[lo] == old else n - 1
        while i < n - 1 and sorted_arr[i + 1] < new:
            sorted_arr[i] = sorted_arr[i + 1]
            i += 1
    while i > 0 and sorted_arr[i - 1] > new:
        sorted_arr[i] = sorted_arr[i - 1]
        i -= 1
    sorted_arr[i] = new


class RhythmClassifier:
    """Streaming RR classifier (see the module docstring).

    Attribute families: `_hist`/`_sorted` (normal intervals, ring and sorted copy: the
    median), `_dhist`/`_dsorted` (their |successive differences|: the variability),
    `_pend_*` (a short interval waiting one beat), `_off_*` (a run of off-median
    intervals that may be a new rhythm), `_prev_rr` (the last interval, any flag)."""

    def __init__(self, emit):
        self._emit = emit  # emit(rr_us, flag, n, off32), bound once
        self._hist = zeros("i", _HIST)
        self._sorted = zeros("i", _HIST)
        self._dhist = zeros("i", _HIST)
        self._dsorted = zeros("i", _HIST)
        self.reset()

    def reset(self):
        """A stream that has not started."""
        self.relearn()
        self._pend = False
        self._pend_rr = 0
        self._pend_n = 0
        self._pend_off = 0
        self._pend_drop = 0  # how much shorter the pending interval was than the one before
        self._pend_soft = False  # it waits only for its small pulse: no pause after it, it is OK
        self._off_run = 0
        self._off_ref = 0
        self._prev_rr = 0

    def relearn(self):
        """Forget the usual rhythm (contact lost, a new rhythm): judged afresh."""
        self._hist_n = 0
        self._hist_i = 0
        self._dhist_n = 0
        self._dhist_i = 0
        self._last_ok = 0

    @micropython.native
    def median_rr_us(self):
        if self._hist_n == 0:
            return 0
        return self._sorted[self._hist_n // 2]

    @micropython.native
    def threshold_us(self):
        """Beat-to-beat change the normal rhythm allows (L&T's Th); 0 with no rhythm."""
        med = self.median_rr_us()
        if not med:
            return 0
        th = (self._dsorted[self._dhist_n // 2] * _TH_K) >> 1 if self._dhist_n >= _MIN_HIST else 0
        floor = med // _TH_FLOOR_DIV
        return th if th > floor else floor

    @micropython.native
    def waiting(self):
        """A short interval waits for the next one to be judged."""
        return self._pend

    @micropython.native
    def pend_n(self):
        """Beat position of the waiting interval (see waiting)."""
        return self._pend_n

    @micropython.native
    def accept(self, rr_us):
        """A normal interval went out (OK): it joins the usual rhythm."""
        hi = self._hist_i
        old = self._hist[hi] if self._hist_n == _HIST else -1
        sorted_replace(self._sorted, self._hist_n, old, rr_us)
        self._hist[hi] = rr_us
        self._hist_i = (hi + 1) % _HIST
        if self._hist_n < _HIST:
            self._hist_n += 1
        last = self._last_ok
        self._last_ok = rr_us
        if last:
            d = rr_us - last if rr_us > last else last - rr_us
            di = self._dhist_i
            old = self._dhist[di] if self._dhist_n == _HIST else -1
            sorted_replace(self._dsorted, self._dhist_n, old, d)
            self._dhist[di] = d
            self._dhist_i = (di + 1) % _HIST
            if self._dhist_n < _HIST:
                self._dhist_n += 1

    @micropython.native
    def flush(self):
        """No next beat came to judge a waiting short interval: it goes out as it is."""
        if self._pend:
            self._pend = False
            self._emit(self._pend_rr, OK if self._pend_soft else SHORT, self._pend_n, self._pend_off)

    @micropython.native
    def feed(self, rr_us, clean, n, off32, small=False):
        """One interval ending at beat position (n, off32); clean: the signal around the
        beat was usable (amplitude, contact, polarity learnt); small: its pulse was clearly
        smaller than the last beat's."""
        emit = self._emit
        med = self.median_rr_us()
        prev = self._prev_rr
        self._prev_rr = rr_us
        # A run of intervals off the median (short, or long past the missed-beat bar)
        # that agree with each other is a new rhythm, not a string of extra or missed
        # beats: a real rise in HR (exercise, a startle), a fall, or a way out of a
        # wrong median.  Relearn it.
        if med and (rr_us * 4 < med * _SHORT_Q or rr_us * 4 > med * _MISSED_Q):
            ref = self._off_ref
            if ref and rr_us * 8 > ref * (8 - _AGREE_8) and rr_us * 8 < ref * (8 + _AGREE_8):
                self._off_run += 1
            else:
                self._off_run = 1
            self._off_ref = rr_us
            if self._off_run >= _RELEARN_RUN:
                self._off_run = 0
                self.relearn()
                self.flush()
                med = 0
        else:
            self._off_run = 0
        th = self.threshold_us()
        if self._pend:
            self._pend = False
            pend = self._pend_rr
            total = pend + rr_us
            if med and total * 4 > med * _SUM_LO_Q and total * 4 < med * _SUM_HI_Q:
                # Two short intervals that add up to one: the middle beat was false.
                emit(pend, EXTRA, self._pend_n, self._pend_off)
                emit(total, OK if clean else NOISE, n, off32)
                return
            drop = self._pend_drop
            if med and rr_us - pend > (drop >> _C1_SHIFT) + th // _C2_DIV and rr_us * 4 > med * _SHORT_Q:
                # Sudden shortening, then a lengthening: a premature beat and its
                # pause (compensatory or not).  Neither interval is normal.
                emit(pend, ECTOPIC, self._pend_n, self._pend_off)
                emit(rr_us, ECTOPIC, n, off32)
                return
            # No pause came: short past what the rhythm allows, or (waiting only for its
            # small pulse) a normal beat after all.
            emit(pend, OK if self._pend_soft else SHORT, self._pend_n, self._pend_off)
        if not clean or rr_us < _MIN_RR_US or rr_us > _MAX_RR_US:
            emit(rr_us, NOISE, n, off32)
            return
        if self._hist_n >= _MIN_HIST:
            if rr_us * 4 > med * _MISSED_Q:
                emit(rr_us, MISSED, n, off32)
                return
            ref = prev if prev else med
            hard = rr_us * 4 < med * _SHORT_Q or (ref - rr_us > th and med - rr_us > th)
            if hard or (small and rr_us * 8 < med * _EARLY_8 and rr_us < ref):
                # Short, or suddenly shorter than both the last interval and the usual
                # one by more than the variability, or early with a small pulse: wait
                # for the next interval.
                self._pend = True
                self._pend_rr = rr_us
                self._pend_n = n
                self._pend_off = off32
                self._pend_drop = ref - rr_us if ref > rr_us else 0
                self._pend_soft = not hard
                return
        if self._hist_n < _MIN_HIST and not (prev and rr_us * 4 > prev * (4 - _AGREE_Q)
                                             and rr_us * 4 < prev * (4 + _AGREE_Q)):
            # No usual RR yet to judge by: an interval is trusted once the next one
            # agrees with it within 25 % (a stray upstroke at contact gives two odd ones).
            emit(rr_us, NOISE, n, off32)
            return
        emit(rr_us, OK, n, off32)

    def rebase(self, shift):
        """The detector's sample counter moved back by `shift`."""
        self._pend_n -= shift
