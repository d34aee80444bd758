"""Issue 17: nothing allocated per ui wake and per MAX30102 burst, with the heap locked, on
the real tasks and drivers.  The ui tasks (Ui.buttons, Ui.edges, Ui.actuator) sleep on a
reusable Wake instead of asyncio.wait_for_ms (a task, a coroutine and a TimeoutError per
wake); the MAX30102 sensor is slept for (wait_ms) and read (read) like the analog one."""
import json

from conftest import run_script


def test_ui_tasks_wake_without_allocating(tmp_path, monkeypatch):
    monkeypatch.setenv("SOOTHE_BENCH_DIR", str(tmp_path))
    out = run_script("micropython", "ui_wake_alloc.py", heapsize="16m", timeout=300)
    r = json.loads(out.strip().splitlines()[-1])
    assert r["died"] == [0, 0, 0], r  # no task ended in a MemoryError
    # no reading: a wake at each edge of the 100 ms blink every 4 s, for an hour, heap locked
    assert r["no_reading_ok"] and r["no_reading_wakes"] == 1800
    # a new state wakes it at once (0 ms later), heap locked; then the 5 s idle wakes only
    assert r["state_woke"] == [1, 0]
    assert r["soothe_ok"] and 700 <= r["soothe_wakes"] <= 721
    assert r["green"] == [0, 20, 0]  # soothe, at the default brightness
    assert r["press_woke"] == [1, 0]  # a button edge (the IRQ's ThreadSafeFlag) wakes it at once
    # a breathing practice: the actuator moves the motor at the pacer's changes, heap locked
    assert r["practice_ok"] and r["playing"] and r["practice_motor_writes"] >= 10


def test_max30102_burst_read_allocates_nothing():
    out = run_script("micropython", "max30102_alloc.py")
    r = json.loads(out.strip().splitlines()[-1])
    assert r["ok"], r
    assert r["awake_ms"] == [125, 125]  # half the 250 ms block: the 32-deep FIFO never fills
    assert r["counts"] == [0, 25, 0, 25, 0, 0, 25]  # partial bursts wait in the block
    assert (r["first"], r["last"]) == (50050, 50074)  # the third block, in order
