"""The MINUTE record keeps every beat's own time when beats in between were left out
(the detector drops upstrokes no pulse claimed) or come out late (held beats)."""
# The MicroPython-side code: tests/firmware/mp/records_cases.py.


def test_a_gap_entry_keeps_the_later_beats_times(interp):
    beats, quality, count = interp.case("records_cases.py", "minute_gap")
    assert [b[0] for b in beats] == [500, 1300, 2100, 10100, 10900, 11200, 11700]
    assert [b[2] for b in beats] == [0, 0, 5, 0, 0, 1, 0]  # the gap entry is no beat
    assert [b[1] for b in beats] == [800, 800, 800, 800, 800, 300, 800]
    assert count == 8 and quality == 71  # 5 OK of 7 beats: the gap is not counted
