"""A practice session's bookkeeping: how it started, which practice, its lead-in, and the
before/during/after figures of its SESSION record.

Input: device ticks, the HRV figures of each 5 s step, presses in the lead-in.
Output: the SESSION record (records.encode_session).  Pure: no drivers, no clock of its
own; the app plays the timeline.  Nothing is allocated per 5 s step.
Lead-in: a session started by a press waits PICK_MS before its first cue; presses in
that time pick the practice (n presses: the n-th of the practice menu) and restart it.
"""
from soothe_fw.compat import const, ticks_add, ticks_diff, zeros
from soothe_fw.log import records

# How a session started: the same order as records.SESSION_KINDS.
MANUAL = const(0)
PROMPTED = const(1)
FINDER = const(2)
MARKED = const(3)  # accepted after the offer that follows a mark

PICK_MS = const(2500)  # the lead-in: long enough for a few unhurried presses
AFTER_MS = const(60000)  # the "after" figures: the minute after the end
_OWN_MS = const(10000)  # the session's own HR/RMSSD count from this far in
_COH_WINDOW_MS = const(64000)  # coherence is the session's own once its window fits


class Session:
    def __init__(self):
        self.active = False
        self.kind = MANUAL
        self.practice = 0
        self.plan = None  # the practice's timeline once the lead-in is over
        self.length_ms = 0
        self.start = 0  # ticks of the first cue (the end of the lead-in until then)
        self.start_s = 0
        self.picks = 0
        self.stop = False
        self.completed = False
        self.dur_s = 0
        self.rate_x10 = 0
        self.before = zeros("i", 3)  # hr_x100, rmssd_x10, coh_x100 at the start
        # hr, rmssd, n (5 s steps of the session's own beats); coh, resonance, n (steps
        # whose 64 s coherence window lies inside the session)
        self.sums = zeros("i", 6)
        self.after_pending = False
        self.after_due = 0

    def begin(self, now, unix_s, kind, lead_ms, hr_x100, rmssd_x10, coh_x100):
        self.active = True
        self.start_s = unix_s
        self.kind = kind
        self.plan = None
        self.start = ticks_add(now, lead_ms)
        self.picks = 0
        self.stop = False
        b = self.before
        b[0] = hr_x100
        b[1] = rmssd_x10
        b[2] = coh_x100
        s = self.sums
        for i in range(6):
            s[i] = 0

    def leading_in(self):
        return self.active and self.plan is None

    def pick(self, now, presses):
        """Presses in the lead-in: count them and give the wearer PICK_MS more."""
        self.picks += presses
        self.start = ticks_add(now, PICK_MS)

    def chosen(self, menu, default):
        """The practice picked: no press, the default; n presses, the n-th of the menu."""
        if self.picks == 0 or not menu:
            return default
        return menu[(self.picks - 1) % len(menu)]

    def go(self, now, unix_s, practice, plan, length_ms):
        """The lead-in is over: the timeline (length_ms long) starts now."""
        self.practice = practice
        self.plan = plan
        self.length_ms = length_ms
        self.start = now
        self.start_s = unix_s
        self.rate_x10 = plan.rate_x10

    def elapsed(self, now):
        return ticks_diff(now, self.start)

    def own(self, now):
        """True when a window of the session's elapsed time holds its own beats."""
        return self.plan is not None and ticks_diff(now, self.start) >= _OWN_MS

    def add(self, hr_x100, rmssd_x10):
        s = self.sums
        s[0] += hr_x100
        s[1] += rmssd_x10
        s[2] += 1

    def add_coherence(self, now, coh_x100, resonance_mhz):
        if self.plan is not None and ticks_diff(now, self.start) >= _COH_WINDOW_MS:
            s = self.sums
            s[3] += coh_x100
            s[4] += resonance_mhz
            s[5] += 1

    def end(self, now, completed, most_ms=-1):
        """Ends it (at once); the record follows AFTER_MS later with the 'after' figures.
        Its duration counts at most most_ms (a practice's end cue is not practice time)."""
        started = self.plan is not None
        self.completed = completed and started
        el = ticks_diff(now, self.start) if started else 0
        self.dur_s = (el if most_ms < 0 or el < most_ms else most_ms) // 1000
        self.active = False
        self.plan = None
        self.after_pending = True
        self.after_due = ticks_add(now, AFTER_MS)

    def after_ready(self, now):
        return self.after_pending and ticks_diff(now, self.after_due) >= 0

    def encode(self, buf, after_hr_x100, after_rmssd_x10, after_coh_x100):
        """The SESSION record's payload into buf; returns its length."""
        self.after_pending = False
        s = self.sums
        n = s[2] or 1
        nc = s[5] or 1  # 0 coherence and resonance: shorter than their window
        b = self.before
        return records.encode_session(buf, self.start_s, self.dur_s, self.rate_x10, self.kind, self.completed,
                                      (b[0], b[1], b[2]), (s[0] // n, s[1] // n, s[3] // nc),
                                      (after_hr_x100, after_rmssd_x10, after_coh_x100), s[4] // nc,
                                      self.practice)
