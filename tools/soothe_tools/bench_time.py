"""`soothe bench --only time` (issue 15 #5): the real firmware on the simulated board.

- beat times against the generator's truth before and after a clock set with a 537 ms
  fraction (a minute's first_ms counts from its whole-second unix_s; before format 0.4
  the beats after any sync read up to 1 s early);
- a boot worn without a host (clock at 0), placed at the next sync between the boots
  before and after it: placed start minus true start, against the bound it reports.
About a minute of simulation.
"""
import bisect
import os
import statistics
import struct
import tempfile
import time
from array import array

T0 = 1767600000  # the simulator's default start (a clock kept over the reset)


def beat_time_after_a_set(work, seed=6):
    """(n before, median error before, n after, median error after) in ms."""
    from soothe_sim import ppg_synth

    from soothe.device import Device, open_port
    from soothe.simulator import Simulator
    from soothe.store import Store
    from soothe.sync import sync

    sim = Simulator(os.path.join(work, "set.img"), seed=seed, duration="8m", speed=30)
    with sim:
        time.sleep(6)
        dev = Device(open_port(sim.port))
        h = dev.hello()
        dev.set_time(h["unix_ms"] + 3600 * 1000 + 537)
        dev.close()
        sim.wait_stopped(timeout=400)
        dev = Device(open_port(sim.port))
        store = Store(os.path.join(work, "set.db"))
        try:
            sync(dev, store, set_clock=False)
        finally:
            dev.close()
    rows = store.db.execute("SELECT t_unix_ms, flag FROM beats ORDER BY t_unix_ms").fetchall()
    set_at, data = store.db.execute("SELECT unix_ms, data FROM events WHERE kind='time_set'").fetchone()
    store.close()
    delta = struct.unpack("<q", data)[0]
    g = ppg_synth.SyntheticPPG(100, None, seed=seed)
    b = array("i", [0] * 25)
    for _ in range(8 * 60 * 4 + 40):
        g.fill(b, 25)
    truth = [T0 * 1000 + u // 1000 for u in g.beats_us]

    def err(t):
        i = bisect.bisect_left(truth, t)
        return min((t - truth[j] for j in (i - 1, i) if 0 <= j < len(truth)), key=abs)

    before = [err(t) for t, f in rows if f == 0 and t < set_at - delta - 2000]
    after = [err(t - delta) for t, f in rows if f == 0 and t > set_at + 61000]
    return len(before), statistics.median(before), len(after), statistics.median(after)


# Three boots on one flash image: A with a clock kept, a power-off, B worn without a host
# (clock at 0), a power-off, C (clock at 0) synced at its end (s: durations and gaps).
BOOTS_S = {"a": 600, "off1": 45, "b": 1200, "off2": 30, "c": 180}


def three_boots(work, seed=6, boots=BOOTS_S):
    """Runs the three boots and the sync with the host's clock on the scenario's timeline.
    Returns (database path, SyncResult, B's true start in unix ms)."""
    from soothe.device import Device, open_port
    from soothe.simulator import Simulator
    from soothe.store import Store
    from soothe.sync import sync

    k = boots
    c_start = T0 + k["a"] + k["off1"] + k["b"] + k["off2"]
    flash, db = os.path.join(work, "boots.img"), os.path.join(work, "boots.db")
    r = None
    for i, (start, dur) in enumerate(((T0, k["a"]), (0, k["b"]), (0, k["c"]))):
        sim = Simulator(flash, seed=seed, duration="%ds" % dur, start=start)
        with sim:
            sim.wait_stopped(timeout=400)
            if i == 2:  # C's clock stopped with the simulation, at c s of uptime
                dev = Device(open_port(sim.port))
                store = Store(db)
                try:
                    r = sync(dev, store, host_clock=lambda: c_start + k["c"])
                finally:
                    dev.close()
                    store.close()
    return db, r, (T0 + k["a"] + k["off1"]) * 1000


def hostless_boot_placement(work, seed=6):
    """(placed start - true start ms, bound ms, minutes placed) of three_boots' boot B."""
    from soothe.store import Store

    db, r, b_start_ms = three_boots(work, seed)
    store = Store(db)
    row = store.db.execute("SELECT start_unix_ms, bound_ms FROM boots WHERE dating='neighbours'").fetchone()
    store.close()
    if row is None:
        return None, None, 0
    return row[0] - b_start_ms, row[1], r.placed_minutes


def bench_time(out, quick=False):
    with tempfile.TemporaryDirectory(prefix="soothe-time-") as work:
        nb, eb, na, ea = beat_time_after_a_set(work)
        out.write("  beat times vs truth, clock set mid-run with a 537 ms fraction: median error %+d ms "
                  "before the set (n=%d), %+d ms after (n=%d): shift %+d ms (target: |shift| < 20 ms; "
                  "format 0.3 read -539 ms)\n" % (eb, nb, ea, na, ea - eb))
        err, bound, n = hostless_boot_placement(work)
        if err is None:
            out.write("  boot worn without a host: NOT placed (target: placed within its bound)\n")
        else:
            out.write("  boot worn without a host, placed by its neighbours at the next sync: %d minutes, "
                      "start off by %+d ms, bound +-%d ms (target: |error| <= bound)\n" % (n, err, bound))
