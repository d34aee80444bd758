"""Small explicit fakes for the Guide (feedback/guide.py): a clock whose ticks the test
moves, a log that keeps (type, payload) pairs, and an event sink that keeps (kind, data).
The counters allocate nothing, so they can sit inside a locked MicroPython heap."""


class FakeClock:
    def __init__(self, unix_s=1767600000):
        self.t = 0
        self.unix0 = unix_s

    def ticks_ms(self):
        return self.t & ((1 << 30) - 1)

    def unix_ms(self):
        return self.unix0 * 1000 + self.t

    def unix_s(self):
        return self.unix0 + self.t // 1000


class FakeLog:
    def __init__(self):
        self.records = []
        self.flushes = 0

    def append(self, rtype, buf, plen):
        self.records.append((rtype, bytes(buf[:plen])))

    def flush(self):
        self.flushes += 1


class Sink:
    """Events (kind, data) and the calls of the two hooks, counted without allocating when
    `keep` is False."""

    def __init__(self):
        self.keep = True
        self.events = []
        self.n_events = 0
        self.wakes = 0
        self.rate_x10 = 0

    def event(self, kind, data=b""):
        self.n_events += 1
        if self.keep:
            self.events.append((kind, bytes(data)))

    def wake(self):
        self.wakes += 1

    def pacer_rate(self, rate_x10):
        self.rate_x10 = rate_x10
