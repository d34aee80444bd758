"""Device clock: monotonic ticks (injected) plus a wall clock the host sets.

The ticks source is passed in: `time.ticks_ms` on the ESP32, the simulator's
virtual clock under test, so a simulated day runs in seconds.
"""
from soothe_fw.compat import ticks_diff


class Clock:
    def __init__(self, ticks_ms, unix_ms=0, is_set=False):
        self.ticks_ms = ticks_ms
        self._base_unix_ms = unix_ms
        self._base_ticks = ticks_ms()
        self.is_set = is_set

    def unix_ms(self):
        return self._base_unix_ms + ticks_diff(self.ticks_ms(), self._base_ticks)

    def unix_s(self):
        return self.unix_ms() // 1000

    def unix_ms_at(self, ticks):
        """Wall time of an earlier or later tick on the current timeline (a clock set
        since then counts: what is logged from now on follows the new setting)."""
        return self._base_unix_ms + ticks_diff(ticks, self._base_ticks)

    def set_unix_ms(self, unix_ms):
        """Sets the wall clock; returns the previous reading."""
        before = self.unix_ms()
        self._base_unix_ms = unix_ms
        self._base_ticks = self.ticks_ms()
        self.is_set = True
        return before
