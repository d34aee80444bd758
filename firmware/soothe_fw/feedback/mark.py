"""A marked moment (issue 19): the physiology in the minute before a double press and the
minute after, for the MARK record.

Input: the state at every 5 s step (a 12-step ring), the rolling HRV, device ticks.
Output: the MARK record (records.encode_mark).  Figures count only with evidence:
enough OK beats, few artefacts, and a reading most of the minute; otherwise they are
records.NO_EVIDENCE, never a made-up number.  Nothing is allocated per 5 s step.
"""
from soothe_fw.compat import const, ticks_diff, zeros
from soothe_fw.log import records

SPAN_MS = const(60000)
_STEPS = const(12)  # 5 s steps in a minute
_MIN_SPAN_MS = const(10000)  # a shorter 'after' (a practice began at once) holds no evidence
_MIN_BEATS_PER_MIN = const(20)  # the state machine's own floor for a minute's reading
_NO_READING = const(0)


class Marks:
    def __init__(self):
        self.states = bytearray(_STEPS)  # the state at each of the last 12 steps
        self._si = 0
        self._sn = 0
        self._tally = bytearray(len(records.STATE_NAMES))
        self.pending = False
        self.at = 0  # ticks of the press
        self.unix_s = 0
        self.ms = 0
        self.state = 0
        self.steps = 0  # 5 s steps since the press
        self.before = zeros("i", 4)  # hr_x100, rmssd_x10, state, ok_pct
        self.after = zeros("i", 4)

    def note_state(self, state):
        """Every 5 s step (allocates nothing)."""
        self.states[self._si] = state
        self._si = (self._si + 1) % _STEPS
        if self._sn < _STEPS:
            self._sn += 1
        if self.pending:
            self.steps += 1

    def _mode(self, last):
        """The state shown most over the last `last` steps (ties: the latest)."""
        tally = self._tally
        for i in range(len(tally)):
            tally[i] = 0
        n = last if last < self._sn else self._sn
        best = _NO_READING
        top = 0
        i = self._si
        for _ in range(n):
            i = (i - 1) % _STEPS
            s = self.states[i]
            tally[s] += 1
            if tally[s] > top:
                top = tally[s]
                best = s
        return best

    def _figures(self, out, hrv, now, span_ms, steps):
        n = hrv.window(now, span_ms)
        bad = hrv.artefacts
        total = n + bad
        state = self._mode(steps)
        out[2] = state
        out[3] = (n * 100) // total if total else 0
        need = _MIN_BEATS_PER_MIN * span_ms // SPAN_MS
        if span_ms >= _MIN_SPAN_MS and state != _NO_READING and n >= need and bad * 5 <= total:
            out[0] = hrv.hr_bpm_x100
            out[1] = hrv.rmssd_ms_x10
        else:
            out[0] = out[1] = records.NO_EVIDENCE

    def begin(self, now, unix_ms, state, hrv):
        """The double press: the minute before is taken now."""
        self.pending = True
        self.at = now
        self.unix_s = unix_ms // 1000
        self.ms = unix_ms % 1000
        self.state = state
        self.steps = 0
        self._figures(self.before, hrv, now, SPAN_MS, _STEPS)

    def due(self, now):
        return self.pending and ticks_diff(now, self.at) >= SPAN_MS

    def finish(self, buf, now, hrv):
        """The minute after (partial when a practice began or the device stops): the
        record's payload into buf; returns its length."""
        self.pending = False
        span = ticks_diff(now, self.at)
        if span > SPAN_MS:
            span = SPAN_MS
        self._figures(self.after, hrv, now, span, self.steps if self.steps else 1)
        b = self.before
        a = self.after
        return records.encode_mark(buf, self.unix_s, self.ms, self.state, (b[0], b[1], b[2], b[3]),
                                   (a[0], a[1], a[2], a[3]))
