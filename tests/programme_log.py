"""A scripted 14-day programme written as the device writes it: MINUTE, EVENT, SESSION and
MARK payloads made by the firmware's own codec (soothe_fw.log.records), stored through
Store.add_batch, the path a sync takes.  The script is known, so tests can check the
programme view, the marks and the report against it and against the store.

Each day (local time): 120 worn minutes from 08:00; a threat stretch 08:44-08:56 on two days
in three, with a mark at 08:50 inside it; a calm mark at 09:45 every fourth day; one
practice at 09:05 (the kind cycles through every practice, prompted on odd days, chosen on
even ones; day 6's ends early) and on even days a breathing practice offered after a mark at
09:35; drive (activity) 09:20-09:30.  Resting RMSSD rises 0.6 ms a day from 30 ms, with
+-4 ms of minute-to-minute noise.  Day 10 is not worn; day 12 is worn only 20 min.
"""
import datetime as dt
import random
import time

from soothe_fw.log import records

START_DAY = dt.date(2026, 3, 2)
DAYS = 14
DEVICE = "prog-1"
UNWORN_DAY, SHORT_DAY, EARLY_END_DAY = 10, 12, 6
REST_SLOPE_MS_PER_DAY = 0.6
STATE = {name: i for i, name in enumerate(records.STATE_NAMES)}
NO_EVIDENCE = 0xFFFF


def local(day, h, m=0, s=0):
    return int(time.mktime(dt.datetime(day.year, day.month, day.day, h, m, s).timetuple()))


class LogWriter:
    """Appends records with consecutive seqs, as the device's log does."""

    def __init__(self):
        self.seq = 0
        self.batch = []
        self.buf = bytearray(records.MAX_PAYLOAD)
        self.mb = records.MinuteBuilder()

    def put(self, rtype, n):
        self.seq += 1
        self.batch.append((self.seq, rtype, bytes(self.buf[:n])))

    def minute(self, unix_s, state, rmssd_ms, rng, hr_bpm=68.0):
        mb = self.mb
        mb.reset(unix_s)
        rr = int(60000 / hr_bpm)
        t = 400
        while t < 59000:
            r = rr + rng.randint(-20, 20)
            mb.add(t, r, 0)
            t += r
        n = mb.finish(STATE[state], int(hr_bpm * 100), int(round(rmssd_ms * 10)), int(rmssd_ms * 12), 80, 100)
        self.buf[:n] = mb.buf[:n]
        self.put(records.MINUTE, n)

    def event(self, unix_ms, kind, data=b""):
        n = records.encode_event(self.buf, unix_ms // 1000, unix_ms % 1000, kind, data)
        self.put(records.EVENT, n)

    def session(self, start_s, duration_s, kind, practice, completed, before_rmssd, after_rmssd):
        n = records.encode_session(self.buf, start_s, duration_s, 60, records.SESSION_KINDS.index(kind),
                                   completed, (7000, int(round(before_rmssd * 10)), 50), (6800, 500, 150),
                                   (6900, int(round(after_rmssd * 10)), 60), 100,
                                   practice=records.PRACTICE_NAMES.index(practice))
        self.put(records.SESSION, n)

    def mark(self, unix_ms, state_at_mark, before, after):
        """before/after: (hr_bpm, rmssd_ms, state, ok_pct); None in hr/rmssd = no evidence."""

        def part(p):
            hr, rmssd, state, ok = p
            return (NO_EVIDENCE if hr is None else int(hr * 100), NO_EVIDENCE if rmssd is None else int(rmssd * 10),
                    STATE[state], ok)

        n = records.encode_mark(self.buf, unix_ms // 1000, unix_ms % 1000, STATE[state_at_mark], part(before),
                                part(after))
        self.put(records.MARK, n)


def script(seed=19):
    """(batch [(seq, type, payload)], truth): the records and what was scripted."""
    rng = random.Random(seed)
    w = LogWriter()
    truth = {"rest_ms": {}, "sessions": [], "marks": []}
    for d in range(DAYS):
        day = START_DAY + dt.timedelta(days=d)
        if d == UNWORN_DAY:
            continue
        rest = 30.0 + REST_SLOPE_MS_PER_DAY * d
        truth["rest_ms"][day.isoformat()] = rest
        threat_day = d % 3 != 2
        p_start = local(day, 9, 5)
        practice = records.PRACTICE_NAMES[d % len(records.PRACTICE_NAMES)]
        p_dur = 240 if d == EARLY_END_DAY else 300
        offered = local(day, 9, 35) if d % 2 == 0 else None
        state = None
        minutes = 20 if d == SHORT_DAY else 120
        for i in range(minutes):
            t = local(day, 8) + 60 * i
            if threat_day and local(day, 8, 44) <= t < local(day, 8, 56):
                st, v = "threat", 18.0 + rng.uniform(-2, 2)
            elif p_start - 60 <= t < p_start + p_dur + 60 or (offered and offered - 60 <= t < offered + 240):
                st, v = "soothe", 45.0 + rng.uniform(-3, 3)
            elif local(day, 9, 20) <= t < local(day, 9, 30):
                st, v = "drive", 24.0 + rng.uniform(-2, 2)
            else:
                st, v = "balanced", rest + rng.uniform(-4, 4)
            if st != state:
                w.event(t * 1000, records.EV_STATE, st.encode())
                state = st
            w.minute(t, st, v, rng)
            if d == SHORT_DAY:
                continue
            if t == local(day, 8, 50) and threat_day:
                at = (t + 25) * 1000
                w.event(at, records.EV_MARK, b"mark")
                w.mark(at, "threat", (82.0, 17.5, "threat", 96), (76.0, 22.0, "threat", 90))
                truth["marks"].append((at, "threat", 6 * 60 + 25))
            if t == local(day, 9, 45) and d % 4 == 0:
                at = (t + 10) * 1000
                w.event(at, records.EV_MARK, b"mark")
                # the wearer started nothing; the 60 s after had too few clean beats: no evidence
                w.mark(at, "balanced", (68.0, rest, "balanced", 98), (None, None, "balanced", 30))
                truth["marks"].append((at, "no threat", None))
            if t == p_start + p_dur + 60:
                kind = "prompted" if d % 2 else "manual"
                after = rest + 3.0 + rng.uniform(-2, 2)
                w.session(p_start, p_dur, kind, practice, d != EARLY_END_DAY, rest, after)
                truth["sessions"].append((day.isoformat(), practice, kind, p_dur, after - rest))
            if offered and t == offered + 240:
                after = rest + 1.0 + rng.uniform(-2, 2)
                w.session(offered, 180, "mark", "breathing", True, rest, after)
                truth["sessions"].append((day.isoformat(), "breathing", "mark", 180, after - rest))
    return w.batch, truth


def build_store(path, seed=19):
    """A store at `path` holding the scripted programme; returns (Store, truth)."""
    from soothe.store import Store

    batch, truth = script(seed)
    store = Store(path)
    store.note_device(DEVICE, records.FIRMWARE_VERSION, time.time())
    for i in range(0, len(batch), 200):
        store.add_batch(DEVICE, batch[i:i + 200])
    return store, truth
