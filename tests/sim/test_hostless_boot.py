"""Issue 15 #5 end to end: the real firmware on the simulated board, three boots on one
flash image.  A: its clock kept (a boot with a known date).  B: powered up away from any
host (the ESP32's clock starts at 0), worn 20 minutes, reset.  C: powered up (clock 0
again), later synced.  The host places B between A and C from the records' boot counter
and uptime, within the bound it reports, and never as 1970.

The host's clock for the sync is the test's own timeline (sync's host_clock), so the
simulator's virtual minutes and the placement do not depend on how fast this machine is."""
from soothe import cli
from soothe_tools.bench_time import BOOTS_S, T0, three_boots
from soothe.store import UNDATED_BEFORE_S, Store


def test_a_boot_worn_without_a_host_is_placed_between_its_neighbours_at_the_next_sync(tmp_path, capsys):
    db, r, b_truth_ms = three_boots(str(tmp_path))  # A 600 s, 45 s off, B 1200 s, 30 s off, C 180 s
    k = BOOTS_S
    c_start = T0 + k["a"] + k["off1"] + k["b"] + k["off2"]
    assert r.undated_minutes == 0 and r.placed_minutes >= 18, r.summary_line()
    assert "dated by their neighbours (within %d s)" % r.placed_bound_s in r.summary_line()
    store = Store(db)
    boots = store.db.execute("SELECT first_seq, last_seq, boot, dating, start_unix_ms, bound_ms FROM boots "
                             "ORDER BY first_seq").fetchall()
    assert [(b[2], b[3]) for b in boots] == [(1, "clock"), (2, "neighbours"), (3, "clock")], boots
    first, last, _, _, start_ms, bound_ms = boots[1]
    assert abs(start_ms - b_truth_ms) <= bound_ms <= (k["off1"] + k["off2"]) * 1000 // 2 + 61000  # within its bound
    mins = [u for (u,) in store.db.execute("SELECT unix_s FROM minutes WHERE seq BETWEEN ? AND ? ORDER BY seq",
                                           (first, last))]
    assert len(mins) >= 18 and all(59 <= y - x <= 61 for x, y in zip(mins, mins[1:]))
    assert abs(mins[0] - (b_truth_ms // 1000)) <= bound_ms // 1000 + 2
    # A and C: on their clocks; nothing anywhere left near 1970
    a_mins = [u for (u,) in store.db.execute("SELECT unix_s FROM minutes WHERE seq<? ORDER BY seq", (first,))]
    c_mins = [u for (u,) in store.db.execute("SELECT unix_s FROM minutes WHERE seq>? ORDER BY seq", (last,))]
    assert a_mins[0] == T0 and abs(c_mins[0] - c_start) <= 2
    assert a_mins[-1] < mins[0] and mins[-1] < c_mins[0]
    assert store.db.execute("SELECT COUNT(*) FROM events WHERE unix_ms<?", (UNDATED_BEFORE_S * 1000,)).fetchone()[0] == 0
    store.close()
    assert cli.main(["sessions", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "dated by their neighbours" in out and "1970" not in out
