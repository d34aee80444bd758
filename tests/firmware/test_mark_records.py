"""Issue 19's records: MARK (a double press with the minute before and after) and the
SESSION record's trailing practice byte; the same bytes on every interpreter."""
from hypothesis import given, strategies as st

from soothe_fw.log import records

# The MicroPython-side code: tests/firmware/mp/records_cases.py.


def test_mark_and_session_practice_on_every_interpreter(interp):
    n, raw, m, k, practice, kind, completed, old, tname, ename = interp.case("records_cases.py", "mark_and_session")
    assert n == 19 and k == 30
    assert m == {"unix_s": 1767600061, "ms": 250, "state_at_mark": "threat",
                 "before": {"hr": 65.12, "rmssd": 42.3, "state": "threat", "ok_pct": 97},
                 "after": {"hr": None, "rmssd": None, "state": "no-reading", "ok_pct": 12}}
    assert raw == "bd6f5b69fa00017019a7010161ffffffff000c"  # byte-exact: u32 s, u16 ms, u8 state, 2 x (u16, u16, u8, u8)
    assert (practice, kind, completed, old) == ("compassion_break", "mark", False, "breathing")
    assert (tname, ename) == ("mark", "mark")


figure = st.one_of(st.just(records.NO_EVIDENCE), st.integers(0, 0xFFFE))
part = st.tuples(figure, figure, st.integers(0, len(records.STATE_NAMES) - 1), st.integers(0, 100))


@given(st.integers(0, 2**32 - 1), st.integers(0, 999), st.integers(0, len(records.STATE_NAMES) - 1), part, part)
def test_mark_round_trip(unix_s, ms, state, before, after):
    buf = bytearray(64)
    d = records.decode_mark(buf[:records.encode_mark(buf, unix_s, ms, state, before, after)])
    assert (d["unix_s"], d["ms"], d["state_at_mark"]) == (unix_s, ms, records.STATE_NAMES[state])
    for got, want in ((d["before"], before), (d["after"], after)):
        assert got["hr"] == (None if want[0] == records.NO_EVIDENCE else want[0] / 100.0)
        assert got["rmssd"] == (None if want[1] == records.NO_EVIDENCE else want[1] / 10.0)
        assert (got["state"], got["ok_pct"]) == (records.STATE_NAMES[want[2]], want[3])


@given(st.integers(0, len(records.PRACTICE_NAMES) - 1), st.integers(0, len(records.SESSION_KINDS) - 1))
def test_session_practice_round_trip(practice, kind):
    buf = bytearray(64)
    n = records.encode_session(buf, 1, 2, 60, kind, True, (1, 2, 3), (4, 5, 6), (7, 8, 9), 10, practice)
    d = records.decode_session(buf[:n])
    assert (d["practice"], d["kind"]) == (records.PRACTICE_NAMES[practice], records.SESSION_KINDS[kind])
