"""The MINUTE record keeps every beat's own time when beats in between were left out
(the detector drops upstrokes no pulse claimed) or come out late (held beats)."""
from conftest import run_snippet  # noqa: F401  (interp fixture lives in conftest)

GAP = """
import json
from soothe_fw.log import records
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
print(json.dumps([d['beats'], d['quality_pct'], m.count]))
"""


def test_a_gap_entry_keeps_the_later_beats_times(interp):
    beats, quality, count = interp(GAP)
    assert [b[0] for b in beats] == [500, 1300, 2100, 10100, 10900, 11200, 11700]
    assert [b[2] for b in beats] == [0, 0, 5, 0, 0, 1, 0]  # the gap entry is no beat
    assert [b[1] for b in beats] == [800, 800, 800, 800, 800, 300, 800]
    assert count == 8 and quality == 71  # 5 OK of 7 beats: the gap is not counted
