"""Reference for tests: the coherence DFT as it was before the FFT (commit 51da385).

Input: beats (device ticks in ms, RR in ms, flag) one at a time; only OK beats
count, and a successive difference only when both of its beats are OK.
Output: integer fixed-point figures in attributes (hr_bpm_x100, rmssd_ms_x10, ...).
Cost: add_beat() is O(1) integer work into pre-allocated arrays; window() walks the
window in integers; coherence() (every 5 s) is a 128-point, 26-bin integer DFT.
Nothing here allocates after construction (floats would: they are boxed on the ESP32).
"""
from array import array
import math

from soothe_fw.compat import zeros, const, ticks_diff, isqrt

CAPACITY = const(1200)  # 5 min at 220 bpm plus margin
_COH_POINTS = const(128)  # 64 s at 2 Hz
_COH_BINS = const(27)  # up to 0.42 Hz at 1/64 Hz spacing
_DIFF_CLAMP = const(500)  # keeps integer sums inside 31-bit small ints on the ESP32
_DEV_CLAMP = const(8191)  # 512 ms from the mean, in 1/16 ms: keeps DFT sums below 2**30
_SXX_CENTRED = const(699008)  # sum of (2k-127)**2 for k in 0..127


class RollingHRVDFT:
    def __init__(self):
        self._t = zeros("i", CAPACITY)
        self._rr = zeros("H", CAPACITY)
        self._ok = zeros("b", CAPACITY)
        self._head = 0
        self._count = 0
        # Results of the last window() call.
        self.beats = 0
        self.artefacts = 0
        self.hr_bpm_x100 = 0
        self.rmssd_ms_x10 = 0
        self.sdnn_ms_x10 = 0
        self.pnn50_x10 = 0  # per mille
        # Results of the last coherence() call.
        self.coherence_x100 = 0
        self.resonance_mhz = 0
        self._grid = zeros("i", _COH_POINTS)
        self._cos = array("h", [int(round(512 * math.cos(2 * math.pi * i / _COH_POINTS)))
                                for i in range(_COH_POINTS)])
        self._spec = zeros("i", 2 * _COH_BINS)
        self._power = zeros("i", _COH_BINS)

    def add_beat(self, t_ms, rr_ms, ok):
        h = self._head
        self._t[h] = t_ms
        self._rr[h] = rr_ms if rr_ms < 65535 else 65535
        self._ok[h] = 1 if ok else 0
        self._head = (h + 1) % CAPACITY
        if self._count < CAPACITY:
            self._count += 1

    def clear(self):
        self._count = 0

    def window(self, now_ms, span_ms):
        """Time-domain figures over the beats of the last span_ms; returns the OK beat count."""
        t = self._t
        rr = self._rr
        okf = self._ok
        i = self._head
        n = 0
        bad = 0
        total = 0
        nd = 0
        sum_d2 = 0
        nn50 = 0
        prev = -1
        for _ in range(self._count):
            i = (i - 1) % CAPACITY
            if ticks_diff(now_ms, t[i]) > span_ms:
                break
            if okf[i]:
                r = rr[i]
                n += 1
                total += r
                if prev >= 0:
                    d = prev - r
                    if d < 0:
                        d = -d
                    if d > 50:
                        nn50 += 1
                    if d > _DIFF_CLAMP:
                        d = _DIFF_CLAMP
                    sum_d2 += d * d
                    nd += 1
                prev = r
            else:
                bad += 1
                prev = -1
        self.beats = n
        self.artefacts = bad
        if n < 2:
            self.hr_bpm_x100 = self.rmssd_ms_x10 = self.sdnn_ms_x10 = self.pnn50_x10 = 0
            return n
        mean = total // n
        self.hr_bpm_x100 = (6000000 * n + total // 2) // total
        dev2 = 0
        i = self._head
        for _ in range(n + bad):
            i = (i - 1) % CAPACITY
            if okf[i]:
                d = rr[i] - mean
                if d > _DIFF_CLAMP or d < -_DIFF_CLAMP:
                    d = _DIFF_CLAMP
                dev2 += d * d
        # Sample SDNN (n - 1), RMSSD over the successive differences.
        self.sdnn_ms_x10 = isqrt((dev2 * 100) // (n - 1)) if n > 1 else 0
        if nd:
            self.rmssd_ms_x10 = isqrt((sum_d2 * 100) // nd)
            self.pnn50_x10 = (nn50 * 1000) // nd
        else:
            self.rmssd_ms_x10 = self.pnn50_x10 = 0
        return n

    def hr_swing_x100(self, now_ms, span_ms, period_ms):
        """Mean HR peak-to-trough (1/100 bpm) per breath of period_ms over the last span_ms.

        The respiratory sinus arrhythmia amplitude the resonance finder scores.
        """
        t = self._t
        rr = self._rr
        okf = self._ok
        i = self._head
        cycle = -1
        lo = 1 << 30
        hi = 0
        total = 0
        cycles = 0
        for _ in range(self._count):
            i = (i - 1) % CAPACITY
            age = ticks_diff(now_ms, t[i])
            if age > span_ms:
                break
            if not okf[i] or rr[i] == 0:
                continue
            c = age // period_ms
            if c != cycle:
                if cycle >= 0 and hi > lo:
                    total += hi - lo
                    cycles += 1
                cycle = c
                lo = 1 << 30
                hi = 0
            hr = 6000000 // rr[i]
            if hr < lo:
                lo = hr
            if hr > hi:
                hi = hr
        if cycle >= 0 and hi > lo:
            total += hi - lo
            cycles += 1
        return total // cycles if cycles else 0

    def coherence(self, now_ms):
        """Coherence over the last 64 s of OK RR, resampled at 2 Hz.

        peak = power in a 0.030 Hz window around the highest peak in 0.04-0.26 Hz,
        total = power over 0.0033-0.4 Hz, ratio = peak / (total - peak)
        (HeartMath's coherence ratio).  Returns False without enough beats.
        Integer only (RR in 1/16 ms, cos in 1/512), with every intermediate kept
        below 2**30 so the ESP32's small ints never turn into heap-allocated big ints.
        """
        t = self._t
        rr = self._rr
        okf = self._ok
        grid = self._grid
        # Walk back from the newest beat, filling the grid from its end (linear interpolation).
        i = self._head
        gi = _COH_POINTS - 1
        g_age = 0  # age (ms) of grid point gi
        nxt_age = -1
        nxt_rr = 0
        used = 0
        for _ in range(self._count):
            i = (i - 1) % CAPACITY
            if not okf[i]:
                continue
            age = ticks_diff(now_ms, t[i])
            r = rr[i] << 4
            if nxt_age < 0:
                while gi >= 0 and g_age <= age:
                    grid[gi] = r
                    gi -= 1
                    g_age += 500
            else:
                while gi >= 0 and g_age <= age:
                    if age > nxt_age:
                        grid[gi] = nxt_rr + ((r - nxt_rr) * (g_age - nxt_age)) // (age - nxt_age)
                    else:
                        grid[gi] = r
                    gi -= 1
                    g_age += 500
            used += 1
            nxt_age = age
            nxt_rr = r
            if gi < 0:
                break
        if used < 16 or gi > 8:
            self.coherence_x100 = 0
            self.resonance_mhz = 0
            return False
        while gi >= 0:  # pad the oldest few points with the oldest RR
            grid[gi] = nxt_rr
            gi -= 1
        # Remove the mean and the linear trend (k centred as 2k-127), then Hann window.
        sy = 0
        for k in range(_COH_POINTS):
            sy += grid[k]
        mean = sy // _COH_POINTS
        sxy = 0
        for k in range(_COH_POINTS):
            y = grid[k] - mean
            if y > _DEV_CLAMP:
                y = _DEV_CLAMP
            elif y < -_DEV_CLAMP:
                y = -_DEV_CLAMP
            grid[k] = y
            sxy += (2 * k - 127) * y
        slope_q10 = sxy // (_SXX_CENTRED >> 10)  # slope per unit of (2k-127), in 1/1024
        cos = self._cos
        for k in range(_COH_POINTS):
            y = grid[k] - ((slope_q10 * (2 * k - 127)) >> 10)
            grid[k] = (y * (512 - cos[k])) >> 10
        # DFT of bins 1..26 (1/64 Hz apart), re/im kept for a common scale-down.
        spec = self._spec
        big = 1
        for b in range(1, _COH_BINS):
            re = 0
            im = 0
            idx = 0
            for k in range(_COH_POINTS):
                v = grid[k]
                re += v * cos[idx]
                im += v * cos[(idx + 32) & 127]
                idx = (idx + b) & 127
            spec[2 * b] = re
            spec[2 * b + 1] = im
            if re < 0:
                re = -re
            if im < 0:
                im = -im
            if re > big:
                big = re
            if im > big:
                big = im
        shift = 0
        while (big >> shift) > 4095:  # squares <= 2**24, their sum over 26 bins < 2**30
            shift += 1
        power = self._power
        total = 0
        for b in range(1, _COH_BINS):
            re = spec[2 * b] >> shift
            im = spec[2 * b + 1] >> shift
            p = re * re + im * im
            power[b] = p
            if b < 26:  # 0.0156..0.39 Hz (0.0033 Hz is below the first bin)
                total += p
        # Peak in 0.04-0.26 Hz: bins 3..16 at 1/64 Hz; the 0.030 Hz window is the peak bin
        # plus 0.46 of each neighbour (Hann main lobe, 0.0156 Hz bins).
        pk = 3
        for b in range(3, 17):
            if power[b] > power[pk]:
                pk = b
        left = power[pk - 1]
        right = power[pk + 1]
        peak = power[pk] + ((left + right) // 100) * 46
        rest = total - peak
        while peak > 8000000 or rest > 8000000:
            peak >>= 1
            rest >>= 1
        if rest > 0:
            ratio = (peak * 100) // rest
            self.coherence_x100 = ratio if ratio < 10000 else 10000
        else:
            self.coherence_x100 = 10000 if peak > 0 else 0
        # Peak frequency with a parabolic refinement between the neighbouring bins.
        top = power[pk]
        while top > 1000000:
            top >>= 1
            left >>= 1
            right >>= 1
        den = left - 2 * top + right
        off_x1000 = (500 * (left - right)) // den if den < 0 else 0
        off_x1000 = max(-500, min(500, off_x1000))  # the vertex within half a bin, as the firmware now
        self.resonance_mhz = (pk * 1000 + off_x1000) // 64
        return True
