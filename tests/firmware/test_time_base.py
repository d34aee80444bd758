"""Issue 15 #5, the device side of time: the clock's uptime never wraps (ESP32 ticks_ms
wraps every 2**30 ms, and a diff reaches only 2**29 ms: 6.2 days), wall times are packed
from small-int limbs exactly, every record carries its boot counter and uptime, and
logging an event allocates nothing on the 32-bit port (a unix time is a long int there)."""
import pytest

# The MicroPython-side code: tests/firmware/mp/time_base_cases.py (one function a case).
CASES = "time_base_cases.py"


def test_the_wall_clock_and_uptime_run_8_days_without_a_wrap(interp):
    r = interp.case(CASES, "eight_days")
    assert r == {"bad": 0, "up_s": 8 * 86400, "up_ms": 0, "u": 8 * 86400}


def test_packed_wall_times_are_exact_across_carries_and_sets(interp):
    r = interp.case(CASES, "packed_wall_times")
    assert r == {"bad": [], "prev_ok": True, "now": 1767600000500, "errs": 2}


def test_an_event_allocates_nothing_and_every_record_carries_boot_and_uptime(interp, tmp_path):
    """On the 32-bit port (small ints +-2**30) an event's unix time was a long int: now the
    clock packs it from limbs, and the record's CRC is sealed at flush (it is one too)."""
    d = interp.tmpdir(tmp_path)
    r = interp.case(CASES, "event_allocates_nothing", d)
    assert r["fails"] == 0
    assert r["boot"] == 1
    got = r["got"]
    assert got[0][:2] == [1, 1]  # BOOT
    events = [g for g in got if g[0] == 3]
    assert len(events) == 8
    for day, (_t, boot, up_s, wall_s) in enumerate(events, 1):
        assert boot == 1 and up_s == day * 86400 + (day * 321) // 1000 and wall_s == up_s


def test_the_boot_counter_goes_on_even_when_its_file_is_damaged(interp, tmp_path):
    d = interp.tmpdir(tmp_path)
    r = interp.case(CASES, "boot_counter", d)
    assert r == [1, 2, 3, 4]  # the newest segment's headers outdo the damaged file


def test_a_minute_that_starts_off_the_whole_second_keeps_its_beats_on_time(interp):
    """A minute starts on the clock's ms (after a full minute closes at a beat, or after a sync
    set the clock): its unix_s is whole seconds, so its beats count from there (0.3 counted
    them from the minute's own start and read up to 1 s early)."""
    r = interp.case(CASES, "minute_off_the_second")
    assert r == [1767600000, [1037, 1837, 2637, 3437, 4237]]
