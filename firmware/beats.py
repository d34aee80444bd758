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

from compat import zeros, const

try:
    import micropython
except ImportError:
    from compat import mp_shim as micropython  # type: ignore[no-redef]

# Beat flags (one per beat; only OK beats feed HRV).
OK = const(0)
EXTRA = const(1)  # a false beat between two real ones: dropped, next RR merged
MISSED = const(2)  # interval spans a missed beat (about 2x the usual RR)
ECTOPIC = const(3)  # premature beat and its compensatory pause
SHORT = const(4)  # too short and not explained by the rules above
NOISE = const(5)  # beat during poor signal, odd amplitude, or outside 30..220 bpm
MOTION = const(6)  # interval overlaps measured movement of the wrist (motion.MotionMeter)
FLAG_NAMES = ("ok", "extra", "missed", "ectopic", "short", "noise", "motion")

_RING = const(8)  # beats waiting for the consumer
_HIST = const(16)  # recent OK RR intervals for the running median
_REBASE = const(1 << 28)
_MIN_RR_US = const(250000)  # 240 bpm: 220 bpm plus beat-to-beat jitter
_MAX_RR_US = const(2000000)  # 30 bpm
_NEVER = const(1 << 30)  # a sample number never reached (n is rebased below 2**28)


def _median_insert(sorted_arr, n, old, new):
    """Replaces `old` by `new` in the first n items of a sorted array (no allocation)."""
    if old >= 0:
        i = 0
        while i < n and sorted_arr[i] != old:
            i += 1
        while i < n - 1:
            sorted_arr[i] = sorted_arr[i + 1]
            i += 1
        n -= 1
    i = n
    while i > 0 and sorted_arr[i - 1] > new:
        sorted_arr[i] = sorted_arr[i - 1]
        i -= 1
    sorted_arr[i] = new


class BeatDetector:
    def __init__(self, rate_hz=100, adc_max=4095, flat_range=8):
        if not 25 <= rate_hz <= 500:
            raise ValueError("rate_hz must be 25..500")
        fs = int(rate_hz)
        self.rate_hz = fs
        self.adc_max = adc_max
        self.flat_range = flat_range
        # Two 50 ms boxcars (about 9 Hz low-pass, linear phase) then a 20 ms difference.
        self._len = max(1, (fs * 50 + 500) // 1000)
        self._span = max(1, (fs * 20 + 500) // 1000)
        self._box1 = zeros("i", self._len)
        self._box2 = zeros("i", self._len)
        # Ring of the smoothed signal: the slope's span, plus 300 ms to look back for
        # the foot, plus the most a candidate waits (max width) before it is finished.
        self._foot_back = (fs * 300) // 1000
        self._max_width = (fs * 150) // 1000 + 2
        self._slen = self._span + 1 + self._foot_back + self._max_width + 2
        self._sbuf = zeros("i", self._slen)
        self._sum1 = 0
        self._sum2 = 0
        self._bi = 0
        self._di = 0
        self.n = 0  # samples seen
        self._last_d = 0
        self.polarity = 1
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
        self._peaked = 128  # share of recent windows whose top is the sharp end, 1/256
        self._win_count = 0  # samples in the polarity window so far
        self._win_n = 0
        self._win_len = 2 * fs
        self._learned = False
        # Adaptive threshold on the slope peak.
        self._amp = 0
        self._amp_miss = 0  # consecutive upstrokes rejected for their size
        self._refractory = (fs * 250) // 1000
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
        self._tent_due = _NEVER  # sample at which it is committed; _NEVER: none waits
        self._last_beat_n = -(1 << 20)  # max-slope sample of the last beat
        self._foot_n = 0  # foot of the last beat: sample and 1/32 fraction (0..31)
        self._foot_off = 0
        self._last_peak = 0  # slope peak of the last beat
        self._next_decay_n = 0
        # Running median of OK RR intervals.
        self._hist = zeros("i", _HIST)
        self._sorted = zeros("i", _HIST)
        self._hist_n = 0
        self._hist_i = 0
        # A short interval waits one beat to be classified (extra vs ectopic).
        self._pend = False
        self._pend_rr = 0
        self._pend_n = 0
        self._pend_off = 0
        self._off_run = 0  # consecutive off-median (short or long), mutually consistent intervals
        self._prev_rr = 0  # the last interval measured, whatever its flag
        self._off_ref = 0
        # Output ring.
        self.beat_rr_us = zeros("i", _RING)
        self.beat_flag = zeros("b", _RING)
        self.beat_n = zeros("i", _RING)
        self.beat_off32 = zeros("b", _RING)
        self._head = 0
        self._tail = 0
        # Contact: raw range and saturation per 1 s window, and a recent OK beat.
        self._cw_min = 1 << 30
        self._cw_max = -1
        self._cw_sat = 0
        self._cw_n = 0
        self._cw_bad = 0  # consecutive bad windows
        self._last_ok_n = -(1 << 20)
        self._recent_bad = 0  # flagged beats among the last few, decays on OK
        self.contact = False
        self.beats = 0
        self.artefacts = 0

    # ---- consumer side -------------------------------------------------
    def available(self):
        return (self._head - self._tail) % _RING

    def pop(self):
        """Index of the oldest unread beat in the beat_* arrays (call available() first)."""
        i = self._tail
        self._tail = (i + 1) % _RING
        return i

    def _relearn_median(self):
        self._hist_n = 0
        self._hist_i = 0

    def median_rr_us(self):
        if self._hist_n == 0:
            return 0
        return self._sorted[self._hist_n // 2]

    # ---- producer side -------------------------------------------------
    def _emit(self, rr_us, flag, n, off32):
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
            if self._recent_bad < 8:
                self._recent_bad += 2
        else:
            if self._recent_bad > 0:
                self._recent_bad -= 1
            self._last_ok_n = n
            hi = self._hist_i
            old = self._hist[hi] if self._hist_n == _HIST else -1
            _median_insert(self._sorted, self._hist_n, old, rr_us)
            self._hist[hi] = rr_us
            self._hist_i = (hi + 1) % _HIST
            if self._hist_n < _HIST:
                self._hist_n += 1

    def _classify(self, rr_us, n, off32, amp_ok):
        """Lipponen & Tarvainen (2019)-style rules, streaming, one beat of look-ahead for short RR."""
        med = self.median_rr_us()
        prev = self._prev_rr
        self._prev_rr = rr_us
        # A run of intervals off the median (short, or long past the missed-beat
        # bar) that agree with each other is a new rhythm, not a string of extra or
        # missed beats: a real rise in HR (exercise, a startle), a fall, or a way out
        # of a wrong median.  Relearn it.
        if med and (rr_us * 4 < med * 3 or rr_us * 4 > med * 7):
            ref = self._off_ref
            if ref and rr_us * 8 > ref * 7 and rr_us * 8 < ref * 9:
                self._off_run += 1
            else:
                self._off_run = 1
            self._off_ref = rr_us
            if self._off_run >= 6:
                self._off_run = 0
                self._relearn_median()
                if self._pend:
                    self._pend = False
                    self._emit(self._pend_rr, SHORT, self._pend_n, self._pend_off)
                med = 0
        else:
            self._off_run = 0
        if self._pend:
            self._pend = False
            total = self._pend_rr + rr_us
            if med and (total * 4 > med * 3) and (total * 4 < med * 5):
                # Two short intervals that add up to one: the middle beat was false.
                self._emit(self._pend_rr, EXTRA, self._pend_n, self._pend_off)
                self._emit(total, OK if amp_ok else NOISE, n, off32)
                return
            if med and rr_us * 4 > med * 5 and (total * 8 > med * 13) and (total * 8 < med * 19):
                # Premature beat then compensatory pause.
                self._emit(self._pend_rr, ECTOPIC, self._pend_n, self._pend_off)
                self._emit(rr_us, ECTOPIC, n, off32)
                return
            self._emit(self._pend_rr, SHORT, self._pend_n, self._pend_off)
        if not amp_ok or self._cw_bad or rr_us < _MIN_RR_US or rr_us > _MAX_RR_US or not self._learned:
            self._emit(rr_us, NOISE, n, off32)
            return
        if self._hist_n >= 4:
            if rr_us * 4 > med * 7:
                self._emit(rr_us, MISSED, n, off32)
                return
            if rr_us * 4 < med * 3:
                self._pend = True
                self._pend_rr = rr_us
                self._pend_n = n
                self._pend_off = off32
                return
        if self._hist_n < 4 and not (prev and rr_us * 4 > prev * 3 and rr_us * 4 < prev * 5):
            # No usual RR yet to judge by: an interval is trusted once the next one
            # agrees with it within 25 % (a stray upstroke at contact gives two odd ones).
            self._emit(rr_us, NOISE, n, off32)
            return
        self._emit(rr_us, OK, n, off32)

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
        num = yc2 - ymin  # twice the rise from the foot to the max-slope point
        base = -16 * span
        if slope <= 0 or num <= 0:
            return base
        while slope > 4194304:  # 2**22: keeps num*16*span below small-int range
            slope >>= 1
            num >>= 1
        # foot = centre - (rise / slope) * span, in 1/32 sample: 16 * num * span / slope
        q = num // slope
        if q > 2 * back + 2:
            return base - 32 * back
        r = num - q * slope
        return base - q * 16 * span - (r * 16 * span) // slope

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
        if self._tent_due != _NEVER:
            # An upstroke is already waiting: the steeper of the two is the beat
            # (motion makes slope peaks of its own; the pulse's is the largest).
            if b <= self._tent_b:
                return
        else:
            # A weak upstroke soon after a strong one is the diastolic wave after the
            # dicrotic notch (about 40 % of the systolic slope in real recordings), not a
            # beat: it needs 5/8 of the last beat's slope to count within 3/4 of the usual RR.
            since = n - self._last_beat_n
            # The window is never under 450 ms: a median learnt from diastolic waves
            # (half the true RR) must not let them through (HeartPy's data3.csv).
            window = (med * 3 // 4) * rate // 1000000 if med else (rate * 600) // 1000
            if window < (rate * 450) // 1000:
                window = (rate * 450) // 1000
            if since < window and b * 8 < self._last_peak * 5:
                return
        foot = self._foot32(den, off32, head, now)
        self._tent_n = n
        self._tent_b = b
        self._tent_fn = n + (foot >> 5)  # floor division: same time as n + foot/32
        self._tent_fo = foot & 31
        # It waits a quarter of the usual interval (60..250 ms) for a steeper one to
        # start; one that started in time is compared when it ends.
        wait = (med // 4) * rate // 1000000 if med else (rate * 150) // 1000
        lo = (rate * 60) // 1000
        hi = (rate * 250) // 1000
        self._tent_due = n + (lo if wait < lo else hi if wait > hi else wait)

    def _commit(self):
        """The waiting upstroke is the beat: time it, classify it, emit it."""
        self._tent_due = _NEVER
        n = self._tent_n
        b = self._tent_b
        med = self.median_rr_us()
        rate = self.rate_hz
        self._last_peak = b
        amp = self._amp
        amp_ok = b * 4 > amp and b < amp * 4
        if amp_ok:
            amp += (b - amp) >> 3
            self._amp = amp
            self._amp_miss = 0
        else:
            # Four upstrokes in a row all out of range: the level itself has moved
            # (sensor gain, new contact), so start again from this one.
            self._amp_miss += 1
            if self._amp_miss >= 4:
                self._amp = b
                self._amp_miss = 0
        fn = self._tent_fn
        fo = self._tent_fo
        diff32 = (fn - self._foot_n) * 32 + (fo - self._foot_off)
        first = self._last_beat_n < 0
        self._last_beat_n = n
        self._foot_n = fn
        self._foot_off = fo
        if med:
            # Refractory: half the usual interval, at least 250 ms, so the diastolic
            # wave after the dicrotic notch is never taken for a beat.
            self._refractory = max((rate * 250) // 1000, (med // 2) * rate // 1000000)
            self._next_decay_n = n + (med * 3 // 2) * rate // 1000000
        else:
            self._next_decay_n = n + rate * 3 // 2
        if first or diff32 > 32 * 3 * rate:
            return  # no previous beat to measure from
        rr_us = (diff32 * 31250) // rate
        self._classify(rr_us, fn, fo, amp_ok)

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
        adc_max = self.adc_max
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
        # Per-sample state lives in locals (attribute look-ups dominate the cost);
        # it is written back before any method that reads it.
        cw_min = self._cw_min
        cw_max = self._cw_max
        cw_sat = self._cw_sat
        cw_n = self._cw_n
        win_pos = self._win_pos
        win_neg = self._win_neg
        win_sum = self._win_sum
        win_hi = self._win_hi
        win_lo = self._win_lo
        win_n = self._win_n
        win_len = self._win_len
        rate = self.rate_hz
        last_d = self._last_d
        thr = (self._amp * 45) >> 7
        cand = self._cand
        due = self._tent_due
        for k in range(count):
            x = buf[k]
            # Contact window statistics on the raw signal.
            if x < cw_min:
                cw_min = x
            if x > cw_max:
                cw_max = x
            if x <= 1 or x >= adc_max - 1:
                cw_sat += 1
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
            if d > win_pos:
                win_pos = d
            elif -d > win_neg:
                win_neg = -d
            dp = d * pol
            if n >= due and not cand:  # an upstroke under way is compared first
                self._commit()
                due = self._tent_due
                thr = (self._amp * 45) >> 7
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
                if not self._need_next and (dp * 2 < self._cand_max or n - self._cand_n > self._max_width):
                    cand = False
                    self._cand = False
                    self._finish_candidate(di - 1 if di else slen - 1, n)
                    due = self._tent_due
            elif dp > thr:
                if self._learned and n - self._last_beat_n > self._refractory:
                    cand = True
                    self._cand = True
                    self._cand_max = dp
                    self._cand_prev = last_d
                    self._cand_n = n
                    self._need_next = True
            elif n > self._next_decay_n and self._learned:
                # No beat where one was due: lower the threshold (search back).
                self._amp = (self._amp * 3) >> 2
                thr = (self._amp * 45) >> 7
                self._next_decay_n = n + rate // 2
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
                self._window_done()
                cw_min = self._cw_min
                cw_max = self._cw_max
                cw_sat = 0
                cw_n = 0
            win_n += 1
            if win_n >= win_len:
                win_n = 0
                self._win_pos = win_pos
                self._win_neg = win_neg
                self._win_sum = win_sum
                self._win_hi = win_hi
                self._win_lo = win_lo
                self._polarity_update()  # clears what it consumed
                win_sum = self._win_sum
                win_hi = self._win_hi
                win_lo = self._win_lo
                win_pos = self._win_pos
                win_neg = self._win_neg
                pol = self.polarity
                cand = self._cand
                due = self._tent_due
                thr = (self._amp * 45) >> 7
        self._cw_min = cw_min
        self._cw_max = cw_max
        self._cw_sat = cw_sat
        self._cw_n = cw_n
        self._win_pos = win_pos
        self._win_neg = win_neg
        self._win_sum = win_sum
        self._win_hi = win_hi
        self._win_lo = win_lo
        self._win_n = win_n
        self._last_d = last_d
        self._sum1 = sum1
        self._sum2 = sum2
        self._bi = bi
        self._di = di
        self.n = n
        if self._pend and n - self._pend_n > 2 * self.rate_hz:
            # No next beat to resolve a short interval: report it as it is.
            self._pend = False
            self._emit(self._pend_rr, SHORT, self._pend_n, self._pend_off)
        if n > _REBASE:
            self._rebase()
        return self.available()

    def _window_done(self):
        span = self._cw_max - self._cw_min
        bad = span < self.flat_range or self._cw_sat * 2 > self._cw_n
        self._cw_bad = self._cw_bad + 1 if bad else 0
        self._cw_min = 1 << 30
        self._cw_max = -1
        self._cw_sat = 0
        self._cw_n = 0
        # Contact needs a live signal, an OK beat within 2.5 s (30 bpm plus margin)
        # and not a run of artefacts: flat, saturated or pulseless noise all fail.
        recent = self.n - self._last_ok_n < (self.rate_hz * 5) // 2
        self.contact = self._cw_bad == 0 and recent and self._recent_bad < 6
        if self._cw_bad >= 2:
            self._recent_bad = 0
            self._relearn_median()  # after contact returns the rhythm may differ

    def _polarity_update(self):
        self._win_count += self._win_len
        if not self._learned and self._win_count < 2 * self._win_len:
            return  # the first decision looks at 4 s: 2 s can hold under 2 beats at 50 bpm
        pos = self._win_pos
        neg = self._win_neg
        self._win_pos = 0
        self._win_neg = 0
        mean = (self._win_sum // self._win_count) * self._len * self._len  # on sum2's scale
        self._win_count = 0
        vote = 256 if self._win_hi - mean > mean - self._win_lo else 0
        self._win_sum = 0
        self._win_hi = -(1 << 30)
        self._win_lo = 1 << 30
        if not self._learned:
            self._peaked = vote
        else:
            self._peaked += (vote - self._peaked) >> 2
        want = self.polarity
        if self._peaked > 160:  # the top is the sharp end in most recent windows
            want = 1
        elif self._peaked < 96:
            want = -1
        if want != self.polarity or not self._learned:
            self.polarity = want
            self._amp = pos if want > 0 else neg
            self._cand = False
            self._tent_due = _NEVER  # an upstroke of the old polarity is not a beat
            self._learned = True
        else:
            top = pos if want > 0 else neg
            # While contact is bad, or when the window's steepest upstroke is 4x the
            # level (the level decayed on a rail or a flat start: every wiggle of
            # noise would pass), the level starts again from this window.
            if self._cw_bad >= 2 or top > 4 * self._amp:
                self._amp = top

    def _rebase(self):
        shift = _REBASE >> 1
        self.n -= shift
        self._cand_n -= shift
        self._last_beat_n -= shift
        self._tent_n -= shift
        self._tent_fn -= shift
        if self._tent_due != _NEVER:
            self._tent_due -= shift
        self._foot_n -= shift
        self._last_ok_n -= shift
        self._next_decay_n -= shift
        self._pend_n -= shift
        for i in range(_RING):
            self.beat_n[i] -= shift
