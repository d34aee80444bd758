"""When to offer a breathing prompt, and what a button press means.

Input: the state every 5 s (with activity), local hour, button presses.
Output: actions for the app: OFFER, START (manual/prompted/after a mark), STOP, SNOOZE,
IGNORED, FINDER, MARK.  Pure policy: no timers, no drivers; times are device ticks (ms).
Rules: threat held for prompt_after_s -> one gentle prompt, only while threat is
evidenced at that step; never in quiet hours (local time), during activity or its
cool-down, with no reading, while snoozed, or more than prompts_per_hour.
A double press is a MARK; after it one gentle offer of a practice (offer_mark), unless the
`prompts` setting is "off".  Threat prompts need `prompts` "on".
"""
from soothe_fw.compat import const, ticks_add, ticks_diff, zeros
from soothe_fw.feedback.state import THREAT

NONE = const(0)
OFFER = const(1)
START_MANUAL = const(2)
START_PROMPTED = const(3)
STOP = const(4)
SNOOZE = const(5)
IGNORED = const(6)
FINDER = const(7)
MARK = const(8)  # a double press: the wearer marks a moment
START_MARKED = const(9)  # the offer after a mark, accepted

_RECENT = const(6)  # prompts remembered for the per-hour limit
# The finder's pick lives with the finder (feedback/finder.py); the old name stays.
from soothe_fw.feedback.finder import pick as finder_pick  # noqa: E402,F401


def local_hour(settings, unix_s):
    """Local hour of day: UTC offset, switched at the next daylight-saving change the host
    sent (`soothe sync` sets utc_offset_min, dst_next_s and dst_offset_min)."""
    offset = settings.get("utc_offset_min")
    change = settings.get("dst_next_s")
    if change and unix_s >= change:
        offset = settings.get("dst_offset_min")
    return ((unix_s + offset * 60) // 3600) % 24


class Coach:
    def __init__(self, settings):
        self.settings = settings
        self.pending = False  # a prompt waits for an answer
        self.pending_mark = False  # ... and it is the offer after a mark
        self.offered_at = 0
        self.snoozed_until = 0
        self.snoozed = False
        self.threat_ms = 0
        self.recent = zeros("i", _RECENT)
        self.recent_n = 0
        self.recent_i = 0

    def _quiet(self, local_hour):
        start = self.settings.get("quiet_start_h")
        end = self.settings.get("quiet_end_h")
        if start == end:
            return False
        if start < end:
            return start <= local_hour < end
        return local_hour >= start or local_hour < end

    def _prompts_last_hour(self, now):
        n = 0
        for k in range(self.recent_n):
            if ticks_diff(now, self.recent[k]) < 3600000:
                n += 1
        return n

    def update(self, now, step_ms, state, activity, local_hour, busy):
        """Every metrics step; returns OFFER, IGNORED or NONE."""
        if self.pending:
            if ticks_diff(now, self.offered_at) >= self.settings.get("prompt_answer_s") * 1000:
                self.pending = False
                return IGNORED
            return NONE
        if self.snoozed and ticks_diff(now, self.snoozed_until) >= 0:
            self.snoozed = False
        self.threat_ms = self.threat_ms + step_ms if state == THREAT and not activity else 0
        if (self.settings.get("prompts") == "on" and self.threat_ms >= self.settings.get("prompt_after_s") * 1000 and not busy and not self.snoozed
                and not self._quiet(local_hour) and self._prompts_last_hour(now) < self.settings.get("prompts_per_hour")):
            self.pending = True
            self.pending_mark = False
            self.offered_at = now
            self.threat_ms = 0  # threat must hold again before the next prompt
            self.recent[self.recent_i] = now
            self.recent_i = (self.recent_i + 1) % _RECENT
            if self.recent_n < _RECENT:
                self.recent_n += 1
            return OFFER
        return NONE

    def offer_mark(self, now, busy):
        """After a mark: one gentle offer of a practice (OFFER), or NONE (prompts off, or a
        practice runs).  A threat prompt still waiting becomes this offer."""
        if busy or self.settings.get("prompts") == "off":
            return NONE
        self.pending = True
        self.pending_mark = True
        self.offered_at = now
        return OFFER

    def press(self, now, long, session_running, finder_allowed, double=False):
        """A debounced gesture (long, double or else short); returns what it means."""
        if self.pending and not double:
            self.pending = False
            if long:
                self.snoozed = True
                self.snoozed_until = ticks_add(now, self.settings.get("snooze_min") * 60000)
                return SNOOZE
            return START_MARKED if self.pending_mark else START_PROMPTED
        if session_running:
            return STOP
        if double:
            return MARK
        if long:
            return FINDER if finder_allowed else NONE
        return START_MANUAL
