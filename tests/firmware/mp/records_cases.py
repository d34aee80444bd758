"""MicroPython-side cases of tests/firmware/test_log_gaps.py and test_mark_records.py: a
MINUTE record's gap entry, the MARK record and SESSION's practice byte.  `FILE CASE ARGS` (mpcase)."""
import mpcase
from soothe_fw.log import records
from soothe_fw.log import records as R


def minute_gap():
    m = records.MinuteBuilder()
    m.reset(1767600000)
    # true times 500, 1300, 2100 | dropped 2900..9300 | 10100, 10900 (EXTRA 11200), 11700
    beats = [(500, 800, 0), (1300, 800, 0), (2100, 800, 5), (10100, 800, 0), (10900, 800, 0),
             (11200, 300, 1), (11700, 800, 0)]
    last = None
    for t, rr, flag in beats:
        if m.count:
            gap = t - last - rr
            if gap > 200:
                assert m.gap(gap)
        m.add(t, rr, flag)
        if flag != 1:
            last = t
    n = m.finish(4, 0, 0, 0, 0, 0)
    d = records.decode_minute(bytes(m.buf[:n]))
    return [d['beats'], d['quality_pct'], m.count]


def mark_and_session():
    buf = bytearray(64)
    n = R.encode_mark(buf, 1767600061, 250, 1, (6512, 423, 1, 97), (R.NO_EVIDENCE, R.NO_EVIDENCE, 0, 12))
    raw = bytes(buf[:n]).hex()
    m = R.decode_mark(buf[:n])
    k = R.encode_session(buf, 1767600100, 300, 55, 3, False, (7000, 400, 50), (6800, 450, 120),
                         (6600, 480, 130), 92, 2)
    s = R.decode_session(buf[:k])
    old = R.decode_session(buf[:k - 1])   # a format 0.3 record: no practice byte
    return [n, raw, m, k, s["practice"], s["kind"], s["completed"], old["practice"],
            R.TYPE_NAMES[R.MARK], R.EVENT_NAMES[R.EV_MARK]]


mpcase.main(globals())
