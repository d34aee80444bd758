"""Power cut at every block write: the real littlefs (MicroPython's vfs.VfsLfs2) over
the simulated flash, the real RecordLog, and a supply that dies mid-program.

After each cut the image is mounted again as on the next boot: it must mount, hold
every record whose flush() returned (unless the host already acknowledged it),
hold nothing twice, and go on with fresh seqs.
"""
import json
import sqlite3

import pytest

from conftest import run_case, run_snippet

from soothe_tools.faults import POWER_CUT_SWEEP as SWEEP  # noqa: E402 - the sweep is shared with `make faults`


def _sweep(tmp_path, n, cuts=None, tear=-1, erases=False):
    out = run_snippet("micropython", SWEEP % {"img": str(tmp_path / "flash.img"), "n": n, "cuts": repr(cuts),
                                              "tear": tear, "erases": erases}, timeout=900)
    return json.loads(out.strip().splitlines()[-1])


def _check(res):
    for r in res["results"]:
        assert r["mounted"], r
        assert r["lost"] == [], r
        assert r["bad_payload"] == [] and r["dups"] == 0 and r["ordered"], r
        assert r["continues"], r
        # the low-water mark is the old one or the new one, never a torn value
        assert r["acked"] in (0, r["acked_known"]) or r["acked_known"] == 0 and r["acked"] <= r["flushed"], r


def test_power_cut_at_every_block_write_of_a_small_workload(tmp_path):
    res = _sweep(tmp_path, n=40)
    assert res["total"] > 20  # the workload really spans many block programs
    assert len(res["results"]) == res["total"] + 1
    assert sum(r["hit"] for r in res["results"]) == res["total"]  # every write index was cut once
    _check(res)


def test_power_cut_with_torn_erases_and_torn_writes_at_random_offsets_sampled_in_160_records(tmp_path):
    # Issue 15 #12: erases were never torn and a torn write always landed its first half.
    # `make faults` cuts at every program and erase of this workload; this is a sample.
    probe = _sweep(tmp_path, n=160, cuts=[], erases=True)
    total = probe["total"]
    res = _sweep(tmp_path, n=160, cuts=list(range(1, total, max(1, total // 30))), tear=7, erases=True)
    assert all(r["hit"] for r in res["results"])
    _check(res)


def test_power_cut_sampled_in_a_larger_workload(tmp_path):
    probe = _sweep(tmp_path, n=160, cuts=[])
    total = probe["total"]
    step = max(1, total // 25)
    res = _sweep(tmp_path, n=160, cuts=list(range(3, total, step)))
    assert all(r["hit"] for r in res["results"])
    _check(res)


def test_full_flash_keeps_summaries_then_drops_with_a_gap_record(tmp_path):
    r = run_case("micropython", "logstore_cases.py", "full_flash", str(tmp_path / "full.img"))
    states = [(k, f) for k, f, _, _ in r["trace"]]
    first_no_rr = states.index((False, False))
    first_full = states.index((False, True))
    assert 0 < first_no_rr < first_full  # beats stop first, then records are dropped
    # nothing flushed was ever deleted before the host acknowledged it
    assert r["unsynced"] == list(range(r["unsynced"][0], r["flushed_when_full"] + 1))
    # once full, flushed_seq stands still and the drops are counted
    assert all(t[2] == r["flushed_when_full"] for t in r["trace"][first_full:])
    assert r["dropped_total"] > 0
    reasons = {g["reason"]: g for g in r["gaps"]}
    assert reasons[1]["count"] == r["dropped_total"] and reasons[1]["lost_from_seq"] == r["flushed_when_full"] + 1
    assert reasons[2]["count"] > 0
    # seqs after the sync carry on without a hole (the newest, synced segment stays)
    seqs = r["seqs"]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert seqs[0] <= r["flushed_when_full"] + 1 < seqs[-1]


def test_statvfs_wraparound_reads_as_full(tmp_path, monkeypatch):


    from soothe_fw.log import logstore

    log = logstore.RecordLog(str(tmp_path)).open()
    monkeypatch.setattr(logstore.os, "statvfs", lambda p: (4096, 4096, 512, 4294967290, 0, 0, 0, 0, 0, 255))
    assert log.free_bytes() == 0
    monkeypatch.setattr(logstore.os, "statvfs", lambda p: (4096, 4096, 512, 100, 100, 0, 0, 0, 0, 255))
    assert log.free_bytes() == 409600
