"""Device clock: uptime from injected ticks, plus a wall clock the host sets.

Input: a `ticks_ms` source (`time.ticks_ms` on the ESP32, the simulator's virtual
clock under test).  Output: the uptime of this boot (`up_s` + `up_ms`) and wall
times packed straight into record and frame buffers.

Why not `base + ticks_diff(now, base_ticks)`: on the ESP32 ticks_ms wraps every
2**30 ms and a diff reaches only 2**29 ms, so that wall clock jumped back after 6.2
days without a sync; and a unix time in ms (or in s past 2**30) is a heap-allocated
long int on a 32-bit port.  Here the uptime advances by ticks diffs on every reading
(the app reads it per sensor block: no wrap), both parts stay small ints (2**30 s is
34 years), and the wall clock is the uptime plus an offset kept in 16-bit limbs.
`pack_wall` / `pack_wall_ms` write a wall time into a buffer from those limbs, so
logging an event or sending a LIVE frame builds no long int (tests/firmware/
test_time_base.py runs them under a locked heap on the 32-bit port).  Cost: a few
small-int operations per call.
"""
import struct

from soothe_fw.compat import ticks_diff

_MAX_UNIX_S = (1 << 32) - 1  # the records' u32 seconds


class Clock:
    def __init__(self, ticks_ms, unix_ms=0, is_set=False):
        self.ticks_ms = ticks_ms
        self._tick = ticks_ms()
        self.up_s = 0  # uptime of this boot at the last reading (whole seconds)
        self.up_ms = 0  # and its milliseconds (0..999)
        self.at_s = 0  # uptime of the tick given to at() (whole seconds, ms)
        self.at_ms = 0
        # wall - uptime = (_off_hi * 65536 + _off_lo) s + _off_ms ms; all small ints
        self._off_hi = 0
        self._off_lo = 0
        self._off_ms = 0
        self._w_lo = self._w_hi = self._w_ms = 0  # _wall()'s result
        self._set_offset(unix_ms)
        self.is_set = is_set

    # ---- uptime ---------------------------------------------------------------
    def now(self):
        """Advances the uptime to the current tick.  Allocates nothing."""
        t = self.ticks_ms()
        d = ticks_diff(t, self._tick)
        if d > 0:
            self._tick = t
            ms = self.up_ms + d
            if ms >= 1000:
                self.up_s += ms // 1000
                ms %= 1000
            self.up_ms = ms

    def at(self, ticks):
        """Sets at_s/at_ms to the uptime of `ticks` (a tick within 6 days of now, earlier
        or later: a beat's, a minute's start).  Allocates nothing."""
        self.now()
        ms = self.up_ms + ticks_diff(ticks, self._tick)
        s = self.up_s
        if ms < 0 or ms >= 1000:
            s += ms // 1000  # floor division: right for negative ms too
            ms %= 1000
        if s < 0:
            s = ms = 0
        self.at_s = s
        self.at_ms = ms

    def uptime_ms(self):
        """Uptime in ms as one int (a long int past 12 days on 32-bit: not for hot paths)."""
        self.now()
        return self.up_s * 1000 + self.up_ms

    # ---- wall clock -----------------------------------------------------------
    def _set_offset(self, off_ms):
        off_s = off_ms // 1000
        self._off_ms = off_ms - off_s * 1000
        self._off_hi = off_s >> 16
        self._off_lo = off_s & 0xFFFF

    def _offset_ms(self):
        return ((self._off_hi << 16) + self._off_lo) * 1000 + self._off_ms

    def _wall(self):
        """Wall time of at_s/at_ms into _w_lo/_w_hi (seconds, 16-bit limbs; _w_hi may
        exceed 16 bits by a carry) and _w_ms: small ints only."""
        ms = self._off_ms + self.at_ms
        c = 0
        if ms >= 1000:
            ms -= 1000
            c = 1
        s = self.at_s
        lo = self._off_lo + (s & 0xFFFF) + c
        self._w_hi = self._off_hi + (s >> 16) + (lo >> 16)
        self._w_lo = lo & 0xFFFF
        self._w_ms = ms

    def pack_wall(self, buf, pos):
        """Writes the wall time of at_s/at_ms as u32 unix_s + u16 ms (the records' time
        fields) into buf at pos, from small-int limbs: no long int on a 32-bit port."""
        self._wall()
        struct.pack_into("<HHH", buf, pos, self._w_lo, self._w_hi & 0xFFFF, self._w_ms)

    def pack_wall_ms(self, buf, pos):
        """Writes the wall time of at_s/at_ms as u64 unix ms (LIVE frames), from limbs."""
        self._wall()
        # (hi * 65536 + lo) * 1000 + ms in 16-bit limbs: each product stays < 2**27
        l0 = self._w_lo * 1000 + self._w_ms
        l1 = self._w_hi * 1000 + (l0 >> 16)
        l2 = l1 >> 16
        struct.pack_into("<HHHH", buf, pos, l0 & 0xFFFF, l1 & 0xFFFF, l2 & 0xFFFF, l2 >> 16)

    def unix_ms(self):
        """Wall time now in ms (an int: for the host-facing paths, not per event)."""
        self.now()
        return self._offset_ms() + self.up_s * 1000 + self.up_ms

    def unix_s(self):
        return self.unix_ms() // 1000

    def unix_ms_at(self, ticks):
        """Wall time of an earlier or later tick on the current timeline (a clock set
        since then counts: what is logged from now on follows the new setting)."""
        self.at(ticks)
        return self._offset_ms() + self.at_s * 1000 + self.at_ms

    def set_unix_ms(self, unix_ms):
        """Sets the wall clock; returns the previous reading.  ValueError when the time
        does not fit the records' u32 seconds (a fuzzed or broken host)."""
        if not 0 <= unix_ms <= _MAX_UNIX_S * 1000:
            raise ValueError("time out of range")
        before = self.unix_ms()
        self._set_offset(unix_ms - self.up_s * 1000 - self.up_ms)
        self.is_set = True
        return before
