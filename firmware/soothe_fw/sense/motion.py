"""Motion level of the wrist, from the accelerometer or from the pulse signal alone.

Input: after each PPG block, the accelerometer's FIFO read (x, y, z milli-g
interleaved in an array('h')), or with no accelerometer (PulseSensor on a DevKit)
the PPG block itself.  Output: `level_pct` (share of the last 60 s with movement,
each second), `moving` (movement in the last 5 s), `flag()`, which turns a beat
whose interval overlaps measured movement into beats.MOTION (never `ok`), and
`clean()`, which subtracts the artefact that follows the accelerometer from the
PPG block while the arm moves.
Cost: integer math, about 20 operations per 25 Hz accelerometer sample, max/min of
each PPG block in the fallback, 8 comparisons per beat; nothing allocated per call.
The accelerometer path (feed_accel + clean, viper) is ~0.09 M callgrind instructions per
second of 100 Hz signal while the arm moves now and then (0.36 M as native code), ~0.11 M
while walking (0.54 M as native code).
"""
from soothe_fw.compat import IS_MICROPYTHON, zeros, const
from soothe_fw.sense.beats import MOTION, EXTRA
from soothe_fw.sense.rhythm import sorted_replace as _median_insert

try:
    import micropython
except ImportError:
    from soothe_fw.compat import mp_shim as micropython  # type: ignore[no-redef]
import sys

# Viper's ptr32 load zero-extends on a 64-bit port (and ptr16 always does): (v << _SX) >> _SX
# gives a 32-bit item its sign back there; 0 on the 32-bit ESP32, where the load is the word,
# and any shift of a Python int (bytecode, CPython) and back is the same int.
_SX = 32 if sys.maxsize >> 32 else 0

if not IS_MICROPYTHON:  # viper's pointer casts, as plain indexing for CPython
    from soothe_fw.compat import ptr16, ptr32

# Movement threshold on the high-passed acceleration (sum of |deviation| over the
# three axes, smoothed over ~0.16 s).  Wrist actigraphy puts the line between
# sedentary and light activity at 45 mg of vector magnitude (ENMO; Hildebrand et
# al. 2014, van Hees et al. 2013); the three-axis sum reads 1-1.7x the magnitude, so
# 50 mg sits at that line.  Still, the sensor's noise (2-4 mg per axis plus the
# 4 mg steps) and the pulse's own recoil (ballistocardiogram, < 5 mg) sum to
# 8-15 mg; a hand gesture, typing excepted, is 80 mg and more, a walking arm swing
# 300-700 mg.
MOVE_MG = const(50)
# Gravity per axis (the posture) follows over ~0.3 s: a high-pass at 0.5 Hz keeps
# 87 % of a walking arm swing (0.8-1 Hz), and a new posture after a gesture (up to
# 1 g moved between axes) has faded under the threshold within 0.9 s.
_GRAVITY_TAU_MS = const(320)
_SMOOTH_TAU_MS = const(160)
# A beat's interval runs from the previous beat's foot, whose search looks 300 ms
# back along the upstroke; its own foot is found on an upstroke that ends after it,
# and the beat reaches the app 0.1-0.5 s later.  Movement from foot_prev - 300 ms up
# to that moment flags it: a movement grows from below the threshold, so what is
# measured just after a foot was often under way at the foot.
_PRE_MS = const(300)
# After the arm stops, the sensor resettles on the skin and the blood volume under
# it recovers from the last acceleration (hydrostatic shift): about a second.
_SETTLE_MS = const(1000)
_MERGE_MS = const(1000)  # movement this close to the last is the same episode
_MOVING_MS = const(5000)  # `moving`: movement within the last 5 s
_NOW_MS = const(1000)  # `moving_now`: within the last second (ContactGate: the wrist is moving)
_LEVEL_S = const(60)
_EPISODES = const(8)  # movement episodes remembered: a beat looks back at most ~2.5 s
_NEVER = const(1 << 29)
_REBASE = const(1 << 28)  # below ESP32 small-int range (2**30) with room for sums
# Signal-only fallback: a second whose raw range is over twice the median of the
# last 30 s is movement (breathing swings the pulse +-30 %, a beat missing from a
# 1 s window at 30-60 bpm lowers it; motion artefacts reach several pulse heights).
_FALLBACK_NUM = const(2)
_FALLBACK_DEN = const(1)
_RANGES = const(30)
# Artefact cancelling (MotionMeter.clean): bounds that keep every product a small
# int on the ESP32 (2**30): axes to +-2 g, the error to +-4095 counts.
_FIFO = const(32)
_REF_MAX = const(2047)
_ERR_MAX = const(4095)
_W_SHIFT = const(8)  # weights in 1/256 count per mg
_W_MAX = const(4096)  # 16 counts per mg: past any real coupling
# mu = 2**3 / 2**8 = 1/32 of a full normalised step: a time constant of ~4 s at
# 25 Hz.  Faster (1/8) cancels part of the pulse while walking, when the step rate
# sits near the heart rate and the two correlate over a second or two.
_MU_SHIFT = const(3)
_POWER_FLOOR = const(2500)  # (50 mg)^2: no learning from sensor noise


def _shift_for(rate_hz, tau_ms):
    """EMA shift s with 2**s samples about tau_ms long at rate_hz (at least 1)."""
    n = rate_hz * tau_ms // 1000
    s = 1
    while (1 << (s + 1)) <= n:
        s += 1
    return s


class MotionMeter:
    def __init__(self, accel_rate_hz=0, ppg_rate_hz=100, flat_range=8, adc_max=4095):
        """accel_rate_hz 0: no accelerometer, judge movement from the PPG blocks."""
        self.has_accel = accel_rate_hz > 0
        rate = accel_rate_hz if self.has_accel else ppg_rate_hz
        if not 1 <= rate <= 1000:
            raise ValueError("motion rate_hz must be 1..1000")
        self.rate_hz = rate
        self.flat_range = flat_range
        self.level_pct = 0
        self.moving = False
        self.moving_now = False
        self._n = 0  # samples seen (accelerometer samples, or PPG samples in the fallback)
        self._g_shift = _shift_for(rate, _GRAVITY_TAU_MS)
        self._s_shift = _shift_for(rate, _SMOOTH_TAU_MS)
        self._bx = self._by = self._bz = 0  # gravity per axis << g_shift
        self._dev = 0  # smoothed |deviation|, mg
        self._primed = False
        self._last_move = -_NEVER
        self._ep_s = zeros("i", _EPISODES)
        self._ep_e = zeros("i", _EPISODES)
        for i in range(_EPISODES):
            self._ep_s[i] = _NEVER
            self._ep_e[i] = -_NEVER
        self._ep_i = 0
        self._settle = rate * _SETTLE_MS // 1000
        self._merge = rate * _MERGE_MS // 1000
        self._sec = zeros("b", _LEVEL_S)  # 1 per second with movement, a ring
        self._sec_i = 0
        self._sec_sum = 0
        self._sec_n = 0
        self._sec_moved = False
        # Artefact cancelling (clean): the last read's high-passed axes, their
        # artefact estimates, the weights.
        self.adc_max = adc_max
        self._refs = zeros("h", 3 * _FIFO if self.has_accel else 0)
        self._ests = zeros("i", _FIFO if self.has_accel else 0)
        self._ref_n = 0
        self._w0 = self._w1 = self._w2 = 0
        self._pm = _NEVER  # the PPG at the accelerometer's rate, low-passed like gravity
        self._est_last = 0
        # Fallback: raw range per 1 s window against the median of the last 30.
        self._w_max = -_NEVER
        self._w_min = _NEVER
        self._ranges = zeros("i", 0 if self.has_accel else _RANGES)  # the last windows' ranges, a ring
        self._sorted_r = zeros("i", 0 if self.has_accel else _RANGES)  # the same, sorted (median)
        self._ri = 0
        self._rn = 0

    # ---- movement episodes ------------------------------------------------------
    @micropython.native
    def _moved_at(self, i):
        """Sample i moved: extend the open episode or start a new one."""
        j = self._ep_i
        if i - self._ep_e[j] <= self._merge:
            self._ep_e[j] = i
        else:
            j = (j + 1) % _EPISODES
            self._ep_i = j
            self._ep_s[j] = i
            self._ep_e[j] = i
        self._last_move = i
        self._sec_moved = True

    @micropython.native
    def _second_done(self):
        i = self._sec_i
        v = 1 if self._sec_moved else 0
        self._sec_sum += v - self._sec[i]
        self._sec[i] = v
        self._sec_i = (i + 1) % _LEVEL_S
        self._sec_moved = False
        self.level_pct = (self._sec_sum * 100) // _LEVEL_S

    @micropython.native
    def _after_block(self):
        since = self._n - self._last_move
        self.moving = since <= self.rate_hz * _MOVING_MS // 1000
        self.moving_now = since <= self.rate_hz * _NOW_MS // 1000
        if self._n > _REBASE:
            shift = _REBASE >> 1
            self._n -= shift
            self._last_move -= shift
            for i in range(_EPISODES):
                if self._ep_s[i] != _NEVER:
                    self._ep_s[i] -= shift
                    self._ep_e[i] -= shift

    @micropython.native
    def flag(self, flag, age_ms, rr_ms):
        """The beat's flag, MOTION if movement overlapped its interval.

        age_ms: how long before the end of the last block the beat's foot was;
        rr_ms: its interval.  Call it for each beat as it comes out of the detector.  An EXTRA beat keeps its flag (its interval is merged
        into the next beat, which is judged itself)."""
        if flag == EXTRA:
            return flag
        if rr_ms > 3000 or rr_ms < 0:
            rr_ms = 3000
        early = self._n - (age_ms + rr_ms + _PRE_MS) * self.rate_hz // 1000 - self._settle
        ep_e = self._ep_e
        for i in range(_EPISODES):
            if ep_e[i] >= early:  # every episode began before now
                return MOTION
        return flag

    # ---- accelerometer ------------------------------------------------------------
    # Viper (the per-sample loops at 25 and 100 Hz): the native emitter calls the runtime for
    # every small-int operation; viper does them in machine words.  Every value stays far
    # below 2**30 (the bounds above), so the ESP32's 32-bit words give the same numbers.
    @micropython.viper
    def feed_accel(self, buf, count: int):
        """count samples (x, y, z mg interleaved in buf), the newest at the block's end."""
        if count <= 0:
            self._after_block()
            return
        gs = int(self._g_shift)
        ss = int(self._s_shift)
        src = ptr16(buf)
        if not self._primed:
            x = int(src[0])
            y = int(src[1])
            z = int(src[2])
            self._bx = (x - 65536 if x > 32767 else x) << gs  # ptr16 reads unsigned
            self._by = (y - 65536 if y > 32767 else y) << gs
            self._bz = (z - 65536 if z > 32767 else z) << gs
            self._primed = True
        bx = int(self._bx)
        by = int(self._by)
        bz = int(self._bz)
        dev = int(self._dev)
        n = int(self._n)
        rate = int(self.rate_hz)
        sec_n = int(self._sec_n)
        refs = ptr16(self._refs)
        # _moved_at inlined (a method call per moving sample was half the cost while walking)
        sx = int(_SX)
        ep_s = ptr32(self._ep_s)
        ep_e = ptr32(self._ep_e)
        ep_i = int(self._ep_i)
        merge = int(self._merge)
        last_move = int(self._last_move)
        moved = False
        if count > _FIFO:
            count = _FIFO
        self._ref_n = count
        k = 0
        for _ in range(count):
            x = int(src[k])
            y = int(src[k + 1])
            z = int(src[k + 2])
            x = (x - 65536 if x > 32767 else x) - (bx >> gs)
            y = (y - 65536 if y > 32767 else y) - (by >> gs)
            z = (z - 65536 if z > 32767 else z) - (bz >> gs)
            # The cancelling's reference: the same high-passed axes (clean() puts the
            # PPG through the same high-pass, so the two match in phase).
            refs[k] = x if -_REF_MAX <= x <= _REF_MAX else (_REF_MAX if x > 0 else -_REF_MAX)
            refs[k + 1] = y if -_REF_MAX <= y <= _REF_MAX else (_REF_MAX if y > 0 else -_REF_MAX)
            refs[k + 2] = z if -_REF_MAX <= z <= _REF_MAX else (_REF_MAX if z > 0 else -_REF_MAX)
            k += 3
            bx += x
            by += y
            bz += z
            d = (x if x >= 0 else -x) + (y if y >= 0 else -y) + (z if z >= 0 else -z)
            dev += (d - dev) >> ss
            if dev > MOVE_MG:
                if n - ((int(ep_e[ep_i]) << sx) >> sx) <= merge:
                    ep_e[ep_i] = n
                else:
                    ep_i = (ep_i + 1) % _EPISODES
                    ep_s[ep_i] = n
                    ep_e[ep_i] = n
                last_move = n
                moved = True
            n += 1
            sec_n += 1
            if sec_n >= rate:
                sec_n = 0
                if moved:
                    self._sec_moved = True
                    moved = False
                self._second_done()
        if moved:
            self._sec_moved = True
        self._ep_i = ep_i
        self._last_move = last_move
        self._bx = bx
        self._by = by
        self._bz = bz
        self._dev = dev
        self._n = n
        self._sec_n = sec_n
        self._after_block()

    # ---- motion artefact cancelling -------------------------------------------------------
    @micropython.viper
    def clean(self, buf, count: int):
        """Subtracts from the PPG block the part of it that follows the accelerometer.

        Normalised LMS (Widrow; as used for PPG with an accelerometer reference by
        Ram et al. 2012): the sensor's contact pressure, hence the artefact, follows
        the arm's acceleration along a direction set by how the device sits.  The
        three high-passed axes are the reference; the PPG averaged over each
        accelerometer sample and high-passed the same way is the desired signal;
        the pulse, uncorrelated with the arm, is what the filter leaves.  Runs only
        within 2 s of measured movement, so a still wearer's signal is untouched;
        samples on the ADC's rails are left as they are (saturation stays visible).
        Call after feed_accel with the block it belongs to (buf: array('i'))."""
        n = int(self._ref_n)
        if count <= 0 or n <= 0:
            return
        sx = int(_SX)
        ppg = ptr32(buf)
        if count == int(len(buf)):
            v = (int(ppg[0]) << sx) >> sx
            hi = v
            lo = v
            for k in range(1, count):
                v = (int(ppg[k]) << sx) >> sx
                if v > hi:
                    hi = v
                elif v < lo:
                    lo = v
            if hi - lo < int(self.flat_range):
                # A flat block is a sensor off the skin: no contact pressure, no artefact to
                # cancel; subtracting the learnt estimate would paint the arm's swing onto
                # the flat line, a live wave that held "worn" for minutes after a slip.
                self._est_last = 0
                return
        gs = int(self._g_shift)
        pm = int(self._pm)
        if pm == _NEVER:
            pm = ((int(ppg[0]) << sx) >> sx) << gs
        learn = int(self._n) - int(self._last_move) <= int(self.rate_hz) * 2
        refs = ptr16(self._refs)
        ests = ptr32(self._ests)
        w0 = int(self._w0)
        w1 = int(self._w1)
        w2 = int(self._w2)
        # LMS at the accelerometer's rate: one step per accelerometer sample, on the
        # PPG averaged over that sample and high-passed as the axes are.
        k0 = 0
        for j in range(n):
            k1 = (j + 1) * count // n
            if k1 > k0:
                acc = 0
                for k in range(k0, k1):
                    acc += (int(ppg[k]) << sx) >> sx
                d = acc // (k1 - k0)
            else:
                d = (int(ppg[k0 if k0 < count else count - 1]) << sx) >> sx
            d -= pm >> gs
            pm += d
            k0 = k1
            if not learn:
                continue
            i = 3 * j
            rx = int(refs[i])
            ry = int(refs[i + 1])
            rz = int(refs[i + 2])
            rx = rx - 65536 if rx > 32767 else rx
            ry = ry - 65536 if ry > 32767 else ry
            rz = rz - 65536 if rz > 32767 else rz
            est = (w0 * rx + w1 * ry + w2 * rz) >> _W_SHIFT
            ests[j] = est
            e = d - est
            if e > _ERR_MAX:
                e = _ERR_MAX
            elif e < -_ERR_MAX:
                e = -_ERR_MAX
            p = rx * rx + ry * ry + rz * rz + _POWER_FLOOR
            # w += mu e r / |r|^2 (mu 1/32), weights in 1/2**_W_SHIFT counts per mg;
            # |e r| < 2**24, so e*r << 5 stays a small int on the ESP32 (2**30).
            w0 += ((e * rx) << _MU_SHIFT) // p
            w1 += ((e * ry) << _MU_SHIFT) // p
            w2 += ((e * rz) << _MU_SHIFT) // p
        self._pm = pm
        if not learn:  # still: the signal is left as it is
            self._est_last = 0
            return
        self._w0 = w0 if -_W_MAX <= w0 <= _W_MAX else (_W_MAX if w0 > 0 else -_W_MAX)
        self._w1 = w1 if -_W_MAX <= w1 <= _W_MAX else (_W_MAX if w1 > 0 else -_W_MAX)
        self._w2 = w2 if -_W_MAX <= w2 <= _W_MAX else (_W_MAX if w2 > 0 else -_W_MAX)
        # Subtract, the estimate interpolated between accelerometer samples (a step
        # every 40 ms would be a slope the beat detector sees).
        prev = int(self._est_last)
        last = (int(ests[n - 1]) << sx) >> sx
        top = int(self.adc_max) - 1
        for k in range(count):
            pos = ((k + 1) * n * 256) // count - 256  # position in accelerometer samples, 1/256
            j = pos >> 8
            f = pos & 255
            a = ((int(ests[j]) << sx) >> sx) if j >= 0 else prev
            b = ((int(ests[j + 1]) << sx) >> sx) if j + 1 < n else last
            x = (int(ppg[k]) << sx) >> sx
            if 1 < x < top:
                ppg[k] = x - (a + (((b - a) * f) >> 8))
        self._est_last = last

    # ---- signal-only fallback ---------------------------------------------------------
    @micropython.viper
    def feed_ppg(self, buf, count: int):
        """Without an accelerometer: a second whose raw PPG range is well over the
        usual pulse's is movement (the pulse is the reference, learnt while still)."""
        if count <= 0:
            return
        # The block's range in one viper pass over the samples (the max() and min()
        # builtins: two passes through the iterator protocol, a boxed compare per sample;
        # a native loop: a runtime call per compare).  The block is an array('i') (App,
        # replay and the probes make it so); ptr32 loads zero-extend on a 64-bit port, so a
        # load with bit 31 set there is a negative sample, and the ESP32's 32-bit words and
        # CPython's items come signed.  Its first and last items read both ways must agree,
        # else (another typecode) it is read item by item.
        p = ptr32(buf)
        hw = 16  # 2**32 as (1 << hw) << hw at run time: folded, it is no small int on the ESP32
        hi = int(buf[0])
        v = p[0]
        if (v >> 31) == 1:
            v -= (1 << hw) << hw
        last = p[count - 1]
        if (last >> 31) == 1:
            last -= (1 << hw) << hw
        lo = hi
        if v == hi and last == int(buf[count - 1]):
            for k in range(1, count):
                v = p[k]
                if (v >> 31) == 1:  # only on a 64-bit port
                    v -= (1 << hw) << hw
                if v > hi:
                    hi = v
                elif v < lo:
                    lo = v
        else:
            for k in range(1, count):
                v = int(buf[k])
                if v > hi:
                    hi = v
                elif v < lo:
                    lo = v
        if hi > int(self._w_max):
            self._w_max = hi
        if lo < int(self._w_min):
            self._w_min = lo
        start = int(self._n)
        n = start + count
        self._n = n
        rate = int(self.rate_hz)
        sec_n = int(self._sec_n) + count
        if sec_n < rate:
            self._sec_n = sec_n
        else:
            self._sec_n = sec_n - rate
            r = int(self._w_max) - int(self._w_min)
            self._w_max = 0 - _NEVER
            self._w_min = _NEVER
            if r >= 2 * int(self.flat_range):  # a flat line (no contact) teaches nothing
                rn = int(self._rn)
                sorted_r = self._sorted_r
                if rn >= _RANGES // 4 and r * _FALLBACK_DEN > int(sorted_r[rn // 2]) * _FALLBACK_NUM:
                    i = start - rate + count
                    self._moved_at(i if i > 0 else 0)
                    self._moved_at(n - 1)
                # Every window joins the median: a movement of a few seconds hardly moves
                # it, a lasting change of level (contact, skin warming) becomes it within
                # half the span, and so does steady rhythmic movement, which the signal
                # alone cannot tell from a stronger pulse.
                j = int(self._ri)
                ranges = self._ranges
                _median_insert(sorted_r, rn, int(ranges[j]) if rn == _RANGES else -1, r)
                ranges[j] = r
                self._ri = (j + 1) % _RANGES
                if rn < _RANGES:
                    self._rn = rn + 1
            self._second_done()
        self._after_block()
