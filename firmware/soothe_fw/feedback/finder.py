"""The resonance finder's bookkeeping: which rate each step paces, their scores, the pick.

Input: the elapsed ms of the finder session, each step's score (HR swing + coherence).
Output: the rate to pace now, and at the end the rate to keep (or why none is clear).
Pure: the app plays the pacer and logs the events.  Nothing is allocated per step.
"""
from soothe_fw.compat import const, zeros

RATES_X10 = (65, 60, 55, 50, 45)  # breaths/min x10, high to low
_MARGIN_PCT = const(125)


def pick(scores):
    """Index of the best step when its peak is clear, else -1.

    Clear: the best score beats every step that is not its neighbour by 25 %.  A score's
    own noise is ~10 % (the mean HR swing of ~10 breaths with beat-to-beat jitter), so
    two steps differ by ~14 % (sqrt 2 x 10 %) by chance; 25 % is ~1.8 times that.  A
    resonance between two rates shows as two near-equal neighbours, which passes; a flat
    or noisy curve does not.
    """
    n = len(scores)
    best = 0
    for i in range(n):
        if scores[i] > scores[best]:
            best = i
    rival = 0
    for i in range(n):
        if (i < best - 1 or i > best + 1) and scores[i] > rival:
            rival = scores[i]
    if scores[best] > 0 and scores[best] * 100 >= rival * _MARGIN_PCT:
        return best
    return -1


class Finder:
    def __init__(self):
        self.step = -1  # -1: not running
        self.step_ms = 0
        self.scores = zeros("i", len(RATES_X10))

    def begin(self, step_ms):
        self.step = 0
        self.step_ms = step_ms
        for i in range(len(self.scores)):
            self.scores[i] = 0

    @property
    def running(self):
        return self.step >= 0

    def length_ms(self):
        return len(RATES_X10) * self.step_ms

    def step_at(self, el_ms):
        """The step that paces at el_ms from the start."""
        k = el_ms // self.step_ms
        return k if k < len(RATES_X10) else len(RATES_X10) - 1

    def score(self, swing_x100, coh_x100):
        """Scores the step that just ended: HR swing plus half the coherence."""
        s = swing_x100 + coh_x100 // 2
        self.scores[self.step] = s
        return s

    def best(self):
        """The index of the clearly best rate, or -1."""
        return pick(self.scores)

    def top(self):
        """The highest-scoring step, clear or not (for the 'kept' event)."""
        scores = self.scores
        top = 0
        for i in range(len(scores)):
            if scores[i] > scores[top]:
                top = i
        return top

    def stop(self):
        self.step = -1
