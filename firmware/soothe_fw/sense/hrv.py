"""Rolling HRV on the device: HR, RMSSD, SDNN, pNN50 over 60 s / 5 min, and coherence.

Input: beats (device ticks in ms, RR in ms, flag) one at a time; only OK beats
count, and a successive difference only when both of its beats are OK.
Output: integer fixed-point figures in attributes (hr_bpm_x100, rmssd_ms_x10, ...).
Cost: add_beat() is O(1) integer work into pre-allocated arrays; window() walks the
window in integers; coherence() (every 5 s) is a real 128-point integer FFT done as a
64-point complex radix-2 FFT (192 butterflies instead of the 3,328 multiply-adds of a
26-bin DFT).  Nothing here allocates
after construction (floats would: they are boxed on the ESP32), and no intermediate passes
2**30, so the ESP32's 31-bit small ints never become heap-allocated long ints.
"""
from array import array
import math

from soothe_fw.compat import IS_MICROPYTHON, zeros, const, ticks_diff, isqrt

if not IS_MICROPYTHON:  # viper's pointer casts, as plain indexing for CPython
    from soothe_fw.compat import ptr8, ptr16, ptr32

try:
    import micropython
except ImportError:
    from soothe_fw.compat import mp_shim as micropython  # type: ignore[no-redef]

# The device keeps the 60 s window, the 64 s coherence window and a resonance-finder step
# (at most 270 s of swing): 600 beats = 64 s at 220 bpm, or 270 s at 133 bpm.  The 5 min
# window is a host figure (replay, analysis): those callers pass CAPACITY_5MIN.
CAPACITY = const(600)
CAPACITY_5MIN = const(1200)  # 5 min at 220 bpm plus margin
_COH_POINTS = const(128)  # 64 s at 2 Hz
_HALF = const(64)  # the real 128-point DFT as a 64-point complex FFT
_COH_BINS = const(27)  # up to 0.42 Hz at 1/64 Hz spacing
_DIFF_CLAMP = const(500)  # keeps integer sums inside 31-bit small ints on the ESP32
_DEV_CLAMP = const(8191)  # 512 ms from the mean, in 1/16 ms: keeps DFT sums below 2**30
_SXX_CENTRED = const(699008)  # sum of (2k-127)**2 for k in 0..127
# Viper (the window and coherence passes): ptr32 loads zero-extend on a 64-bit port and
# sign-extend on the 32-bit ESP32, so the arrays those passes read back hold signed values plus
# _BIAS (|value| < 2**29: never negative, still a small int); the signed 16-bit cos table is
# read back as ((v + _S16) & _M16) - _S16, right for either load and for CPython's signed items.
_BIAS = const(1 << 29)
_S16 = const(0x8000)
_M16 = const(0xFFFF)
# ticks_diff inlined (ticks_ms wraps at 2**30 on the ESP32 and in compat): right for any two
# ticks less than 2**29 ms (6.2 days) apart, whatever their size.
_TICKS_HALF = const(1 << 29)
_TICKS_MASK = const((1 << 30) - 1)


@micropython.viper
def _root_x100_over(total: int, n: int) -> int:
    """isqrt(total * 100 // n) without the product: a sum of squares can pass 2**30 / 100."""
    q = total // n
    return int(isqrt(q * 100 + ((total - q * n) * 100) // n))


class RollingHRV:
    def __init__(self, capacity=CAPACITY):
        self.capacity = capacity
        self._t = zeros("i", capacity)
        self._rr = zeros("H", capacity)
        self._ok = zeros("b", capacity)
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
        # Arrays read through viper's pointers; what coherence() leaves in them is biased
        # (_BIAS).
        self._grid = zeros("i", _COH_POINTS)
        self._cos = array("h", [int(round(512 * math.cos(2 * math.pi * i / _COH_POINTS)))
                                for i in range(_COH_POINTS)])
        self._hann = array("h", [512 - c for c in self._cos])  # Hann window in 1/1024
        self._re = zeros("i", _HALF)
        self._im = zeros("i", _HALF)
        self._spec = zeros("i", 2 * _COH_BINS)
        # Bit-reversed index of each of the 64 points, for the in-place FFT.
        self._rev = zeros("B", _HALF)
        for k in range(_HALF):
            r = 0
            for bit in range(6):
                if k & (1 << bit):
                    r |= 1 << (5 - bit)
            self._rev[k] = r
        self._power = zeros("i", _COH_BINS)

    @micropython.native
    def add_beat(self, t_ms, rr_ms, ok):
        h = self._head
        self._t[h] = t_ms
        self._rr[h] = rr_ms if rr_ms < 65535 else 65535
        self._ok[h] = 1 if ok else 0
        h += 1
        self._head = h if h < self.capacity else 0
        if self._count < self.capacity:
            self._count += 1

    def clear(self):
        self._count = 0

    @micropython.viper
    def window(self, now_ms: int, span_ms: int) -> int:
        """Time-domain figures over the beats of the last span_ms; returns the OK beat count."""
        t = ptr32(self._t)
        rr = ptr16(self._rr)
        okf = ptr8(self._ok)
        cap = int(self.capacity)
        head = int(self._head)
        i = head
        n = 0
        bad = 0
        total = 0
        nd = 0
        sum_d2 = 0
        nn50 = 0
        prev = -1
        seen = 0  # beats walked, those after now_ms included
        for _ in range(int(self._count)):
            i -= 1
            if i < 0:
                i = cap - 1
            age = ((now_ms - t[i] + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF  # ticks_diff
            if age > span_ms:
                break
            seen += 1
            if age < 0:  # after now_ms: a minute closed late (app._LATE_MS) is still its own
                continue
            if okf[i]:
                r = rr[i]
                n += 1
                total += r
                if prev >= 0:
                    d = prev - r
                    if d < 0:
                        d = 0 - d
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
            self.hr_bpm_x100 = 0
            self.rmssd_ms_x10 = 0
            self.sdnn_ms_x10 = 0
            self.pnn50_x10 = 0
            return n
        mean = total // n
        # 6000000 * n // total, split so no product passes 2**30 (the ESP32's small ints):
        # 6000000 * n = q * n * total + r * n with r < total.
        q = 6000000 // total
        self.hr_bpm_x100 = q * n + ((6000000 - q * total) * n + total // 2) // total
        dev2 = 0
        i = head
        for _ in range(seen):  # the same beats again (not the n + bad newest: some may be after now_ms)
            i -= 1
            if i < 0:
                i = cap - 1
            if okf[i] and ((now_ms - t[i] + _TICKS_HALF) & _TICKS_MASK) >= _TICKS_HALF:
                d = rr[i] - mean
                if d > _DIFF_CLAMP or d < 0 - _DIFF_CLAMP:
                    d = _DIFF_CLAMP
                dev2 += d * d
        # Sample SDNN (n - 1), RMSSD over the successive differences.
        self.sdnn_ms_x10 = _root_x100_over(dev2, n - 1)
        if nd:
            self.rmssd_ms_x10 = _root_x100_over(sum_d2, nd)
            self.pnn50_x10 = (nn50 * 1000) // nd
        else:
            self.rmssd_ms_x10 = 0
            self.pnn50_x10 = 0
        return n

    @micropython.native
    def hr_swing_x100(self, now_ms, span_ms, period_ms):
        """Mean HR peak-to-trough (1/100 bpm) per breath of period_ms over the last span_ms.

        The respiratory sinus arrhythmia amplitude the resonance finder scores.
        """
        t = self._t
        rr = self._rr
        okf = self._ok
        cap = self.capacity
        i = self._head
        cycle = -1
        lo = 1 << 30
        hi = 0
        total = 0
        cycles = 0
        for _ in range(self._count):
            i = (i - 1) % cap
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

    @micropython.viper
    def coherence(self, now_ms: int) -> bool:
        """Coherence over the last 64 s of OK RR, resampled at 2 Hz.

        peak = power in a 0.030 Hz window around the highest peak in 0.04-0.26 Hz,
        total = power over 0.0033-0.4 Hz, ratio = peak / (total - peak)
        (HeartMath's coherence ratio).  Returns False without enough beats.
        Integer only (RR in 1/16 ms, cos in 1/512), with every intermediate kept
        below 2**30 so the ESP32's small ints never turn into heap-allocated big ints
        where this runs as bytecode (viper's machine words would hold 2**31).
        """
        t = ptr32(self._t)
        rr = ptr16(self._rr)
        okf = ptr8(self._ok)
        cap = int(self.capacity)
        grid = ptr32(self._grid)
        # Walk back from the newest beat, filling the grid from its end (linear interpolation).
        i = int(self._head)
        gi = _COH_POINTS - 1  # grid point gi lies (127 - gi) * 500 ms before now_ms
        nxt_age = -1
        nxt_rr = 0
        used = 0
        for _ in range(int(self._count)):
            i -= 1
            if i < 0:
                i = cap - 1
            if okf[i] == 0:
                continue
            age = ((now_ms - t[i] + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF  # ticks_diff
            r = rr[i] << 4
            stop = 127 - age // 500  # the points not older than this beat are gi >= stop
            if stop < 0:
                stop = 0
            if nxt_age >= 0 and age > nxt_age:
                # (the same products as nxt_rr + (r - nxt_rr) * (g_age - nxt_age) // span,
                # stepped by one addition per grid point)
                d = r - nxt_rr
                span = age - nxt_age
                num = d * ((127 - gi) * 500 - nxt_age)
                step = d * 500
                while gi >= stop:
                    grid[gi] = nxt_rr + num // span
                    num += step
                    gi -= 1
            else:
                while gi >= stop:
                    grid[gi] = r
                    gi -= 1
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
        # One pass sums y and (2k-127)*y; as sum(2k-127) = 0 that weighted sum is the
        # centred one, unless a point lies past the clamp (then the clamped pass below).
        sy = 0
        sxy = 0
        lo = grid[0]
        hi = lo
        w = -127
        for k in range(_COH_POINTS):
            y = grid[k]
            sy += y
            sxy += w * y  # |sum| <= 8192 * 65535 < 2**30 (hi checked below)
            w += 2
            if y > hi:
                hi = y
            elif y < lo:
                lo = y
        mean = sy // _COH_POINTS
        gb = 0  # the bias of what the grid holds (signed values: see _BIAS)
        if hi > 65535 or hi - mean > _DEV_CLAMP or mean - lo > _DEV_CLAMP:
            sxy = 0
            for k in range(_COH_POINTS):
                y = grid[k] - mean
                if y > _DEV_CLAMP:
                    y = _DEV_CLAMP
                elif y < 0 - _DEV_CLAMP:
                    y = 0 - _DEV_CLAMP
                grid[k] = y + _BIAS
                sxy += (2 * k - 127) * y
            mean = 0
            gb = _BIAS
        slope_q10 = sxy // (_SXX_CENTRED >> 10)  # slope per unit of (2k-127), in 1/1024
        hann = ptr16(self._hann)
        # slope_q10 * (2k - 127), stepped, plus the mean in 1/1024 (a multiple of 1024 passes
        # the shift unchanged); |trend| < 2**28 as the mean <= 65535 here
        trend = -127 * slope_q10 + (mean << 10)
        step = 2 * slope_q10
        top = 0
        for k in range(_COH_POINTS):
            y = ((grid[k] - gb - (trend >> 10)) * hann[k]) >> 10
            grid[k] = y + _BIAS
            trend += step
            if y > top:
                top = y
            elif 0 - y > top:
                top = 0 - y
        big = int(self._fft(top))
        spec = ptr32(self._spec)
        shift = 0
        while (big >> shift) > 4095:  # squares <= 2**24, their sum over 26 bins < 2**30
            shift += 1
        power = ptr32(self._power)
        total = 0
        for b in range(1, _COH_BINS):
            re = (spec[2 * b] - _BIAS) >> shift
            im = (spec[2 * b + 1] - _BIAS) >> shift
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
        elif peak > 0:
            self.coherence_x100 = 10000
        else:
            self.coherence_x100 = 0
        # Peak frequency with a parabolic refinement between the neighbouring bins.
        top = power[pk]
        while top > 1000000:
            top >>= 1
            left >>= 1
            right >>= 1
        den = left - 2 * top + right
        off_x1000 = 0
        if den < 0:
            off_x1000 = (500 * (left - right)) // den
        # The parabola's vertex lies within half a bin of a local maximum; at the band's edge
        # (bin 3 or 16) the neighbour outside may be higher, and the vertex then runs off (a
        # negative frequency at bin 3 in a test series): the edge it is.
        if off_x1000 > 500:
            off_x1000 = 500
        elif off_x1000 < -500:
            off_x1000 = -500
        self.resonance_mhz = (pk * 1000 + off_x1000) // 64
        return True

    @micropython.viper
    def _fft(self, top: int) -> int:
        """Bins 1..26 of the 128-point DFT of the real series in _grid into _spec as re, im
        pairs; returns the largest |re| or |im| of them.  `top` is the largest |x[k]|.
        _grid, _re, _im and _spec hold their signed values plus _BIAS.

        A real 128-point DFT as one 64-point complex FFT of z[n] = x[2n] + i x[2n+1]
        (radix-2 decimation in time, Cooley-Tukey, in place), then split into the even and
        odd halves' spectra and joined with the 128-point twiddles: 192 butterflies and 26
        joins instead of 3,328 multiply-adds.  Twiddles in 1/512 (the cos table).  The
        input is scaled to within +-16383 first, so the products stay below 2**30 (small
        ints on the ESP32) and the twiddles' rounding stays small beside weak spectra.
        """
        x = ptr32(self._grid)
        re = ptr32(self._re)
        im = ptr32(self._im)
        rev = ptr8(self._rev)
        cos = ptr16(self._cos)  # signed 16-bit: read back through _S16 (see below)
        spec = ptr32(self._spec)
        up = 0
        while top != 0 and (top << (up + 1)) <= 16383:
            up += 1
        # Pack (scaled, bit-reversed) and do the first two stages together: their twiddles
        # are 1 and -i, so a group of four needs additions only (the same integers).
        a = 0
        while a < _HALF:
            j = rev[a] << 1
            r0 = (x[j] - _BIAS) << up
            i0 = (x[j + 1] - _BIAS) << up
            j = rev[a + 1] << 1
            r1 = (x[j] - _BIAS) << up
            i1 = (x[j + 1] - _BIAS) << up
            j = rev[a + 2] << 1
            r2 = (x[j] - _BIAS) << up
            i2 = (x[j + 1] - _BIAS) << up
            j = rev[a + 3] << 1
            r3 = (x[j] - _BIAS) << up
            i3 = (x[j + 1] - _BIAS) << up
            ar = r0 + r1
            ai = i0 + i1
            br = r0 - r1
            bi = i0 - i1
            cr = r2 + r3
            ci = i2 + i3
            dr = r2 - r3
            di = i2 - i3
            re[a] = ar + cr + _BIAS
            im[a] = ai + ci + _BIAS
            re[a + 2] = ar - cr + _BIAS
            im[a + 2] = ai - ci + _BIAS
            re[a + 1] = br + di + _BIAS  # b - (-i) d
            im[a + 1] = bi - dr + _BIAS
            re[a + 3] = br - di + _BIAS
            im[a + 3] = bi + dr + _BIAS
            a += 4
        # In the stages a biased value minus or plus a plain one stays biased.
        half = 4
        stride = 16  # twiddle step in the 128-entry table for butterflies of this span
        while half < _HALF:
            span = half << 1
            a = 0
            while a < _HALF:  # twiddle 1: no multiply
                b = a + half
                xr = re[b] - _BIAS
                xi = im[b] - _BIAS
                re[b] = re[a] - xr
                im[b] = im[a] - xi
                re[a] = re[a] + xr
                im[a] = im[a] + xi
                a += span
            a = half >> 1
            while a < _HALF:  # twiddle -i: no multiply
                b = a + half
                xr = re[b] - _BIAS
                xi = im[b] - _BIAS
                re[b] = re[a] - xi
                im[b] = im[a] + xr
                re[a] = re[a] + xi
                im[a] = im[a] - xr
                a += span
            w = stride
            for j in range(1, half):
                if w == 32:
                    w += stride
                    continue
                c = ((cos[w] + _S16) & _M16) - _S16
                s = ((cos[(w + 96) & 127] + _S16) & _M16) - _S16  # sin(2 pi w / 128)
                a = j
                while a < _HALF:
                    b = a + half
                    xr = re[b] - _BIAS
                    xi = im[b] - _BIAS
                    tr = (c * xr + s * xi) >> 9  # (c - i s) * x
                    ti = (c * xi - s * xr) >> 9
                    re[b] = re[a] - tr
                    im[b] = im[a] - ti
                    re[a] = re[a] + tr
                    im[a] = im[a] + ti
                    a += span
                w += stride
            half = span
            stride >>= 1
        big = 1
        for k in range(1, _COH_BINS):
            zr = re[k] - _BIAS
            zi = im[k] - _BIAS
            yr = re[_HALF - k] - _BIAS
            yi = im[_HALF - k] - _BIAS
            er = (zr + yr) >> 1  # even samples' spectrum
            ei = (zi - yi) >> 1
            o_r = (zi + yi) >> 1  # odd samples' spectrum
            o_i = (yr - zr) >> 1
            c = ((cos[k] + _S16) & _M16) - _S16
            s = ((cos[(k + 96) & 127] + _S16) & _M16) - _S16
            r = er + ((c * o_r + s * o_i) >> 9)
            i = ei + ((c * o_i - s * o_r) >> 9)
            spec[2 * k] = r + _BIAS
            spec[2 * k + 1] = i + _BIAS
            if r < 0:
                r = 0 - r
            if i < 0:
                i = 0 - i
            if r > big:
                big = r
            if i > big:
                big = i
        return big
