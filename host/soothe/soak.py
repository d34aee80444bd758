"""`soothe soak`: days of wearing on the simulated board, from the .mpy image, on a small heap.

Passes when the firmware ends without a MemoryError or a task error, the watchdog never
fired, and a sync afterwards gets the whole log: seqs 1..newest with no hole, one MINUTE
record per simulated minute, no GAP record.

The heap: `-X heapsize=64k` is the target for an ESP32 without PSRAM, but the unix port
here is 64-bit, where every object and pointer is twice the size; the firmware and the
simulated board's own sensor generator and movement model (ppg_synth, motion_synth: the
accelerometer) do not start below 168k on it, and a sync after 3 h failed with a MemoryError
at 176k (live heap peak ~160 KB).  The contact gate of issue 13/14 needed 196k to start, and
the package layout of issue 16 adds 3.2 KB of module objects (soothe_fw and soothe_sim with
their sub-packages, measured at import), after which 200k no longer started.  So the soak
runs at 216k by default and prints the live heap peak.  That 64-bit figure is not the
ESP32's: on 32-bit the firmware's objects take 0.8-0.9x their 64-bit size (issue 17), and
`soothe bench --only cost` measures the device's own heap on the 32-bit MicroPython.
"""
import os
import re
import tempfile
import time

from .device import Device, open_port
from soothe_fw.log import records
from .simulator import Simulator
from .store import Store
from .sync import sync


class SoakError(Exception):
    pass


def run_soak(days, heapsize="216k", seed=3, progress=None):
    """`progress(done_s, total_s)`, when given, hears how far the virtual clock got."""
    minutes = int(round(days * 24 * 60))
    if minutes < 10:
        raise SoakError("--days %s: soak at least 10 minutes (0.007 days)" % days)
    with tempfile.TemporaryDirectory() as work:
        sim = Simulator(os.path.join(work, "flash.img"), seed=seed, duration="%dm" % minutes, heapsize=heapsize,
                        progress=progress is not None)
        sim.use_mpy(os.path.join(work, "mpy"))
        t0 = time.time()
        with sim:
            try:
                if progress is not None:
                    deadline = time.monotonic() + 600 + minutes
                    while not sim.stopped.wait(0.5) and time.monotonic() < deadline:
                        at = [ln for ln in sim.stderr_lines[-5:] if ln.startswith("sim: at t=")]
                        if at:
                            progress(int(at[-1].split("=")[1].split()[0]), minutes * 60)
                    progress(minutes * 60, minutes * 60)
                sim.wait_stopped(timeout=600 + minutes)
            except Exception as e:  # noqa: BLE001 - reported as the soak's result
                raise SoakError("simulator stopped early: %s" % e) from e
            wall = time.time() - t0
            stats = sim.stats_line()
            dev = Device(open_port(sim.port))
            store = Store(os.path.join(work, "soak.db"))
            try:
                result = sync(dev, store, set_clock=False)
                seqs = store.seqs(result.hello["device_id"])
                n_min = store.db.execute("SELECT COUNT(*) FROM minutes").fetchone()[0]
                n_gap = store.db.execute("SELECT COUNT(*) FROM records WHERE type=?", (records.GAP,)).fetchone()[0]
                n_err = store.db.execute("SELECT COUNT(*) FROM events WHERE kind='task_error'").fetchone()[0]
            finally:
                dev.close()
                store.close()
        errors = [ln for ln in sim.stderr_lines if "Error" in ln or "failed" in ln]
    figures = {k: int(v) for k, v in re.findall(r"(live_peak|feeds|max_gap|fired|writes|erases)=(\d+)", stats)}
    out = {"minutes": minutes, "wall_s": wall, "heapsize": heapsize, "records": len(seqs),
           "contiguous": seqs == list(range(1, len(seqs) + 1)), "minute_records": n_min, "gaps": n_gap,
           "task_errors": n_err, "errors": errors, **figures}
    out["ok"] = (out["contiguous"] and n_min == minutes and n_gap == 0 and n_err == 0 and not errors
                 and figures.get("fired", 1) == 0)
    return out


def format_soak(r):
    return ("soak %s: %.2f days (%d min) at -X heapsize=%s in %.0f s; live heap peak %d bytes; watchdog fired %d "
            "(max gap %d ms, %d feeds); %d records, seqs contiguous: %s; %d/%d minute records; %d gaps; "
            "%d task errors; flash %d programs, %d erases%s"
            % ("PASSED" if r["ok"] else "FAILED", r["minutes"] / 1440.0, r["minutes"], r["heapsize"], r["wall_s"],
               r.get("live_peak", -1), r.get("fired", -1), r.get("max_gap", -1), r.get("feeds", -1), r["records"],
               "yes" if r["contiguous"] else "NO", r["minute_records"], r["minutes"], r["gaps"], r["task_errors"],
               r.get("writes", -1), r.get("erases", -1), ("; " + " | ".join(r["errors"][:3])) if r["errors"] else ""))
