"""Issue 15 #9: time on a device without a clock.  A boot that starts at 0 (an ESP32 after
power-up) is dated by the host from the offset it applies at sync; a boot that never met
a host is kept as undated, never shown as 1970; a clock set mid-boot moves the minutes
logged from then on, not the ones already logged."""
import time

from soothe import cli
from soothe.device import Device, open_port
from soothe.simulator import Simulator
from soothe.store import UNDATED_BEFORE_S, Store
from soothe.sync import sync


def _sync(sim, db, set_clock=True):
    dev = Device(open_port(sim.port))
    store = Store(db)
    try:
        return sync(dev, store, set_clock=set_clock)
    finally:
        dev.close()
        store.close()


def test_boots_without_a_clock_are_dated_from_the_sync_or_marked_undated(tmp_path, capsys):
    flash, db = tmp_path / "f.img", tmp_path / "s.db"
    sim = Simulator(flash, seed=3, duration="10m", start=0)
    with sim:
        sim.wait_stopped(timeout=120)
        now = time.time()
        r = _sync(sim, db)
    assert r.undated_minutes == 0
    store = Store(db)
    mins = [u for (u,) in store.db.execute("SELECT unix_s FROM minutes ORDER BY seq")]
    beats = store.db.execute("SELECT MIN(t_unix_ms) FROM beats").fetchone()[0]
    store.close()
    assert len(mins) >= 9 and all(now - 15 * 60 < u < now + 60 for u in mins), mins  # not 1970
    assert beats > UNDATED_BEFORE_S * 1000
    for start, dur in ((0, "5m"), (0, "3m")):  # a boot nobody synced, then one that is synced
        sim = Simulator(flash, seed=4, duration=dur, start=start)
        with sim:
            sim.wait_stopped(timeout=120)
            if dur == "3m":
                r = _sync(sim, db)
    assert 4 <= r.undated_minutes <= 6 and "undated minute(s)" in r.summary_line()
    store = Store(db)
    dated = store.db.execute("SELECT COUNT(*) FROM minutes WHERE unix_s>=?", (UNDATED_BEFORE_S,)).fetchone()[0]
    store.close()
    assert dated >= 9 + 2
    assert cli.main(["sessions", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "1970" not in out and "undated minute(s)" in out


def test_a_clock_set_mid_boot_moves_the_minutes_logged_after_it_and_not_before(tmp_path):
    flash, db = tmp_path / "c.img", tmp_path / "c.db"
    sim = Simulator(flash, seed=5, duration="8m", speed=30)  # 8 virtual minutes in 16 s
    with sim:
        time.sleep(7)
        dev = Device(open_port(sim.port))
        h = dev.hello()
        dev.set_time(h["unix_ms"] + 3600 * 1000)  # the host's clock is an hour ahead
        dev.close()
        sim.wait_stopped(timeout=400)
        _sync(sim, db, set_clock=False)
    store = Store(db)
    mins = [u for (u,) in store.db.execute("SELECT unix_s FROM minutes ORDER BY seq")]
    ev = store.db.execute("SELECT unix_ms FROM events WHERE kind='time_set'").fetchone()[0] // 1000
    store.close()
    steps = [b - a for a, b in zip(mins, mins[1:])]
    assert sum(1 for s in steps if s > 3000) == 1, steps  # one jump of an hour at the change
    assert all(50 <= s <= 70 or 3600 <= s <= 3700 for s in steps), steps
    assert min(mins[i + 1] for i, s in enumerate(steps) if s > 3000) <= ev + 60  # the minute after follows the clock
