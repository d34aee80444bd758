"""The minute records: one MINUTE record per minute of wearing, its beats' RR intervals and
flags with the minute's summary (records.MinuteBuilder), written to the log as it closes.

A minute starts from the clock (not the previous minute + 60 s): after a sync sets the clock
the next minute follows it (issue 15 #9), and minutes already logged keep their time.  It
stays open up to _LATE_MS past its end for a beat the detector still holds, since a record
cannot put a beat before its start (its times are rebuilt from the RRs).  Allocates nothing
per beat; a minute's wall start is computed once a minute (a long int on 32-bit).
"""
from soothe_fw.compat import const, ticks_add, ticks_diff
from soothe_fw.log import records

_MINUTE_MS = const(60000)
# How long a minute's record stays open after its end for beats the detector still holds
# (seen up to ~4.8 s while the pulse evidence builds); 65 s at most, as the first beat's
# u16 offset (65535 ms) must still hold it.
_LATE_MS = const(5000)
_NO_READING = const(0)  # records.STATE_NAMES[0]: an unworn minute carries no HR or HRV


class Minutes:
    def __init__(self, log, clock, hrv, hour_of):
        self.log = log
        self.clock = clock
        self.hrv = hrv
        self.hour_of = hour_of  # unix s -> the wearer's local hour (the coach's quiet hours)
        self.builder = records.MinuteBuilder()
        self.tick = 0  # start of the open minute, ticks ms
        self.local_hour = 0  # of the open minute's start
        self._end_state = -1  # the state at the minute's end, while it stays open for late beats
        self._up_s = 0
        self._up_ms = 0

    def start(self, tick):
        self.tick = tick
        self._end_state = -1
        self._reset(tick)

    def add(self, pipe, state):
        """The pipeline's current beat into the open minute; a full minute closes first."""
        if not pipe.to_minute(self.builder, self.tick):
            self.close(pipe.t_ms, state)
            pipe.to_minute(self.builder, self.tick)

    def step(self, now, state, waiting):
        """After each block: closes the minute once it is over and no beat it may own is
        still held by the detector (`waiting`), or _LATE_MS after its end at the latest."""
        late = ticks_diff(now, self.tick) - _MINUTE_MS
        if late >= 0:
            if self._end_state < 0:
                self._end_state = state  # the minute's state is the one at its end
            if late >= _LATE_MS or not waiting:
                self.close(ticks_add(self.tick, _MINUTE_MS), state)  # type: ignore[type-var]

    def close(self, next_tick, state):
        """Writes the open minute's record and starts the next at `next_tick`."""
        hrv = self.hrv
        hrv.window(next_tick, _MINUTE_MS)
        if self._end_state >= 0:
            state = self._end_state
        self._end_state = -1
        m = self.builder
        if state == _NO_READING:
            plen = m.finish(state, 0, 0, 0, 0, 0, self.log.keep_rr)
        else:
            plen = m.finish(state, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.sdnn_ms_x10,
                            hrv.coherence_x100, hrv.resonance_mhz, self.log.keep_rr)
        self.log.append(records.MINUTE, m.buf, plen, self._up_s, self._up_ms)
        self._reset(next_tick)
        self.tick = next_tick

    def _reset(self, tick):
        """A minute from `tick`: its wall start in s + ms (the record's first_ms counts from
        the whole second: no beat reads early), its uptime for the record's header, and the
        local hour."""
        clock = self.clock
        ms = clock.unix_ms_at(tick)
        self._up_s = clock.at_s  # unix_ms_at set them to the uptime of `tick`
        self._up_ms = clock.at_ms
        self.builder.reset(ms // 1000, ms % 1000)
        self.local_hour = self.hour_of(self.builder.unix_s)
