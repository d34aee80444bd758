"""Issue 15: the log survives its own damage, sync never skips, logs have an identity,
and the wire has sessions.  Device code runs in-process (firmware/soothe_fw/link/handler.py and
logstore.py under CPython) behind soothe_tools.faults' loopback; the same code runs under
MicroPython in the tests at the bottom and through the simulator in test_faults.py."""
import asyncio
import json
import os
import random
import shutil
import struct

import pytest

from soothe_tools import faults
from soothe.device import Device
from soothe_fw.log import records
from soothe_fw.link import wire
from soothe.store import Store
from soothe.sync import sync


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    root = tmp_path_factory.mktemp("day") / "clean"
    truth = faults.write_day(str(root), minutes=120)
    return root, truth, faults.record_spans(str(root))


def _copy(day, tmp_path):
    root, truth, spans = day
    img = tmp_path / "img"
    shutil.copytree(root, img)
    return str(img), truth, spans


def _flip(img, name, bit):
    path = os.path.join(img, "log", name)
    blob = bytearray(open(path, "rb").read())
    blob[bit >> 3] ^= 1 << (bit & 7)
    open(path, "wb").write(blob)


def _wire_sync(log, db, **kw):
    ln, outbox = faults.device_link(log)
    dev = Device(faults.LoopSerial(ln, outbox, **kw), timeout=0.05, retries=3)
    store = Store(db)
    try:
        return sync(dev, store, set_clock=False), store.db.execute(
            "SELECT seq, type, payload FROM records ORDER BY seq").fetchall(), store.lost("loop-1")
    finally:
        dev.close()
        store.close()


# 1. one flipped bit in an older segment blocked every sync forever
def test_a_flipped_bit_in_an_older_segment_loses_that_record_only_and_sync_goes_on(day, tmp_path):
    img, truth, spans = _copy(day, tmp_path)
    names = sorted({s[0] for s in spans})
    assert len(names) >= 3
    name, off, n, seq = [s for s in spans if s[0] == names[0]][10]  # a record in the oldest segment
    _flip(img, name, 8 * (off + n // 2) + 3)
    log = faults.logstore.RecordLog(img, segment_bytes=8192).open()
    result, stored, lost = _wire_sync(log, str(tmp_path / "s.db"))
    assert lost == [(seq, 1, records.GAP_REASONS[records.GAP_DAMAGED])]
    assert [(s, t, bytes(p)) for s, t, p in stored if s != seq] == [r for r in truth if r[0] != seq]
    assert log.acked_seq == truth[-1][0]
    assert "device lost 1 record(s) on flash (seqs %d)" % seq in result.summary_line()


# 2. a flipped bit in the newest segment silently dropped the rest, and the next boot reused the seqs
def test_a_flipped_bit_in_the_newest_segment_loses_that_record_only_and_its_seq_is_never_reused(day, tmp_path):
    img, truth, spans = _copy(day, tmp_path)
    newest = max(s[0] for s in spans)
    mine = [s for s in spans if s[0] == newest]
    name, off, n, seq = mine[len(mine) // 2]
    _flip(img, name, 8 * off + 8 * 5 + 1)  # inside the header's seq field
    log = faults.logstore.RecordLog(img, segment_bytes=8192).open()
    assert log.next_seq == truth[-1][0] + 1  # the rest of the segment is still found
    got, lost = faults.device_side_sync(log)
    assert lost == {seq} and set(got) == {s for s, _, _ in truth} - {seq}
    # Now the newest record is torn: the high-water mark keeps its seq from being handed out again.
    img2 = str(tmp_path / "img2")
    shutil.copytree(day[0], img2)
    last = spans[-1]
    path = os.path.join(img2, "log", last[0])
    blob = open(path, "rb").read()
    open(path, "wb").write(blob[: last[1] + last[2] // 2])
    log2 = faults.logstore.RecordLog(img2, segment_bytes=8192).open()
    assert log2.next_seq == truth[-1][0] + 1
    got, lost = faults.device_side_sync(log2)
    assert lost == {truth[-1][0]}


# 3. a GET answer that starts later than asked was stored, acknowledged past the hole, and never fetched
def test_an_answer_that_starts_later_than_asked_is_never_stored_nor_acknowledged(day, tmp_path):
    img, truth, _ = _copy(day, tmp_path)
    log = faults.logstore.RecordLog(img, segment_bytes=8192).open()
    real = log.read_into

    def skipping(from_seq, buf, pos, end, limit):  # a device that skips 5 records undeclared
        return real(from_seq + 5 if from_seq == 1 else from_seq, buf, pos, end, limit)

    log.read_into = skipping
    ln, outbox = faults.device_link(log)
    dev = Device(faults.LoopSerial(ln, outbox), timeout=0.05, retries=1)
    got, next_seq, _, error = dev.get_partial(1, 2048)
    assert got == [] and next_seq == 1 and error is not None
    store = Store(tmp_path / "s.db")
    with pytest.raises(Exception, match="too noisy"):
        sync(dev, store, set_clock=False)
    assert store.max_seq("loop-1") == 0 and log.acked_seq == 0
    store.close()
    dev.close()


def test_one_dropped_frame_leaves_no_hole_and_every_good_frame_before_it_is_kept(day, tmp_path):
    img, truth, _ = _copy(day, tmp_path)
    log = faults.logstore.RecordLog(img, segment_bytes=8192).open()
    ln, outbox = faults.device_link(log)
    port = faults.LoopSerial(ln, outbox)
    dropped = []
    real_read = port.read

    def read(n):  # the third DATA frame of the first answer never arrives
        data = real_read(n)
        if not dropped and data.count(b"\x00") >= 3 and len(data) > 2000:
            frames = data.split(b"\x00")
            dropped.append(frames[2])
            data = b"\x00".join(frames[:2] + frames[3:])
        return data

    port.read = read
    dev = Device(port, timeout=0.05, retries=2)
    store = Store(tmp_path / "s.db")
    got, next_seq, _, error = dev.get_partial(1, 8192)
    assert dropped and error is not None  # the hole is noticed...
    assert [g[0] for g in got] == list(range(1, next_seq)) and len(got) >= 2  # ...the good prefix is kept
    sync(dev, store, set_clock=False)
    assert [(s, t, bytes(p)) for s, t, p in store.db.execute(
        "SELECT seq, type, payload FROM records ORDER BY seq")] == truth
    store.close()
    dev.close()


# 4. a log restarting at seq 1 under the same device id was acknowledged and not stored
def test_a_new_log_of_the_same_device_is_stored_beside_the_old_one_and_a_replay_is_not(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    first = faults.write_day(a, minutes=10, seed=1)
    second = faults.write_day(b, minutes=10, seed=2)  # a reformatted flash: seq 1 again, new epoch
    db = str(tmp_path / "s.db")
    log_a = faults.logstore.RecordLog(a).open()
    log_b = faults.logstore.RecordLog(b).open()
    assert log_a.epoch != log_b.epoch
    ra, _, _ = _wire_sync(log_a, db)
    rb, _, _ = _wire_sync(log_b, db)
    assert ra.log_id == "loop-1" and rb.log_id == "loop-1.2" and rb.new_records == len(second)
    again, _, _ = _wire_sync(faults.logstore.RecordLog(a).open(), db)  # the first log once more
    assert again.log_id == "loop-1" and again.new_records == 0
    store = Store(db)
    for lid, truth in (("loop-1", first), ("loop-1.2", second)):
        assert [(s, t, bytes(p)) for s, t, p in store.db.execute(
            "SELECT seq, type, payload FROM records WHERE device_id=? ORDER BY seq", (lid,))] == truth
    store.close()


# 6. a noisy line never completed
@pytest.mark.parametrize("seed", [11, 12])
def test_sync_through_a_line_with_1e3_errors_per_byte_and_pulled_cables_converges(tmp_path, seed):
    r = faults.noisy_sync(str(tmp_path), rate=1e-3, minutes=120, seed=seed, max_runs=10)
    assert r["faults"] > 20 and r["done"] and r["equal"], r


def test_an_error_reply_to_junk_is_not_taken_for_the_answer_to_our_request(day, tmp_path):
    img, truth, _ = _copy(day, tmp_path)
    log = faults.logstore.RecordLog(img, segment_bytes=8192).open()
    ln, outbox = faults.device_link(log)
    port = faults.LoopSerial(ln, outbox)
    real_write = port.write
    port.write = lambda data: real_write(b"\x00\x13\x37junk\x00" + bytes(data))  # junk before every request
    dev = Device(port, timeout=0.05, retries=0)
    h = dev.hello()
    assert h["oldest_seq"] == 1 and dev.ignored_errors >= 1
    assert dev.ack(5) == 5


# 8. a fuzzed frame with a valid CRC acknowledged the log and changed settings
def test_ack_config_and_time_need_the_session_nonce(day, tmp_path):
    img, truth, _ = _copy(day, tmp_path)
    log = faults.logstore.RecordLog(img, segment_bytes=8192).open()
    ln, outbox = faults.device_link(log)
    loop = asyncio.new_event_loop()

    def ask(op, body):
        outbox.clear()
        loop.run_until_complete(ln.feed(b"\x00" + wire.encode(op, body)))
        return wire.decode(bytes(outbox).split(b"\x00")[0])

    for nonce in (b"", struct.pack("<I", 0), struct.pack("<I", 12345)):
        assert ask(wire.ACK, struct.pack("<I", 50) + nonce)[0] == wire.ERR
        assert ask(wire.TIME, struct.pack("<Q", 99) + nonce)[0] == wire.ERR
        op, body = ask(wire.CONFIG, b"\x01" + wire.pack_str("flush_s") + wire.pack_str("5") + nonce)
        assert op == wire.ERR and body[0] == wire.E_SESSION and wire.error_opcode(body) == wire.CONFIG
    assert log.acked_seq == 0 and ln.settings.get("flush_s") != 5 and ln.clock.ms == faults.START_S * 1000
    op, body = ask(wire.HELLO, struct.pack("<I", 77))
    h = wire.parse_hello(body)
    assert h["token"] == 77 and h["epoch"] == log.epoch and h["nonce"]
    assert ask(wire.HELLO, struct.pack("<I", 77))[1] == body[:len(body)]  # a retried HELLO: the same session
    good = struct.pack("<I", h["nonce"])
    assert ask(wire.ACK, struct.pack("<I", 50) + good)[0] == wire.ACK | wire.RESPONSE and log.acked_seq == 50
    ask(wire.HELLO, struct.pack("<I", 78))  # another host: the first one's nonce is stale now
    assert ask(wire.ACK, struct.pack("<I", 60) + good)[0] == wire.ERR and log.acked_seq == 50
    loop.close()


def test_fuzzed_frames_with_valid_crcs_delete_and_change_nothing(tmp_path):
    f = faults.fuzz_frames(str(tmp_path), n=20000, seed=5)
    assert f["crashes"] == 0 and f["bad_answers"] == 0
    assert not f["acked_changed"] and not f["settings_changed"] and not f["clock_changed"]


# 7. live output with no reader blocked the firmware in write()
def test_live_frames_are_dropped_when_the_port_is_full_and_stop_when_the_lease_runs_out(tmp_path):
    log = faults.logstore.RecordLog(str(tmp_path / "d")).open()
    ln, outbox = faults.device_link(log)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(ln.feed(wire.encode(wire.LIVE, b"\x01" + struct.pack("<H", 2))))
    assert ln.live
    ready = [True]
    ln.can_send = lambda: ready[0]
    outbox.clear()
    loop.run_until_complete(ln.send_live(1, 800, 0, 3, 7000, 400, 50, 0, 0))
    assert len(outbox) > 0 and ln.live_dropped == 0
    ready[0] = False  # nobody reads: the frame is dropped, send() is never awaited
    outbox.clear()
    loop.run_until_complete(ln.send_live(1, 800, 0, 3, 7000, 400, 50, 0, 0))
    assert len(outbox) == 0 and ln.live_dropped == 1
    ready[0] = True
    ln.live_until = ln._ticks() - 1  # the lease ran out: nobody renewed it
    loop.run_until_complete(ln.send_live(1, 800, 0, 3, 7000, 400, 50, 0, 0))
    assert not ln.live and len(outbox) == 0
    loop.close()


# The same damage handling under MicroPython: resync, high-water mark, declared gaps
# (tests/firmware/mp/logstore_cases.py).
def test_damage_is_skipped_and_declared_under_both_interpreters(tmp_path, interp):
    r = interp.case("logstore_cases.py", "damage", interp.tmpdir(tmp_path) + "/log-" + str(random.random())[2:8])
    assert r["next"] == 41 and r["epoch"] != 0
    assert len(r["lost"]) == 2 and r["lost"][-1] == 40  # the flipped record and the torn newest one
    assert sorted(r["got"] + r["lost"]) == list(range(1, 41))


def test_damage_sweep_sample_every_damaged_image_boots_logs_syncs_and_reports_loss_exactly(tmp_path):
    t = faults.damage_sweep(str(tmp_path), bit_step=211, full_sync_every=25)
    assert t["cases"] > 400
    for k in ("boot", "logging", "sync", "loss_exact"):
        assert t[k] == t["cases"], (k, t["failures"][:3])


# 5. a zeroed flash block stopped the firmware at boot (OSError 84 from the log reader)
def test_zeroed_flash_blocks_the_firmware_boots_logs_and_sync_reports_the_loss(tmp_path):
    # The newest blocks hold the live metadata and the newest segment; two older ones too.
    r = faults.sim_block_sweep(str(tmp_path), duration="40m", boot="3m", blocks=[-1, -2, -3, -8, 0])
    for x in r["results"]:
        assert all(x[k] for k in ("boot", "logging", "sync", "loss_exact")), x
    assert sum(x["lost"] for x in r["results"]) > 0  # the damage really hit records


# 4 (sessions): two syncs at once; 7: a killed monitor
def test_a_second_sync_on_the_same_port_or_database_says_busy_in_one_line(tmp_path, soothe_cmd):
    import subprocess

    from soothe.device import open_port
    from soothe.simulator import Simulator

    sim = Simulator(tmp_path / "b.img", seed=2, duration="3m")
    with sim:
        sim.wait_stopped(timeout=120)
        first = open_port(sim.port)  # a sync (or monitor) holds the port
        try:
            proc = subprocess.run(soothe_cmd + ["sync", "--port", sim.port, "--db", str(tmp_path / "a.db")],
                                  capture_output=True, text=True, timeout=60)
        finally:
            first.close()
        assert proc.returncode != 0 and proc.stderr.count("\n") == 1 and "busy" in proc.stderr, proc.stderr
        store = Store(tmp_path / "b.db").lock()  # a sync holds the database
        try:
            proc = subprocess.run(soothe_cmd + ["sync", "--port", sim.port, "--db", str(tmp_path / "b.db")],
                                  capture_output=True, text=True, timeout=60)
        finally:
            store.close()
        assert proc.returncode != 0 and proc.stderr.count("\n") == 1 and "busy" in proc.stderr, proc.stderr
        proc = subprocess.run(soothe_cmd + ["sync", "--port", sim.port, "--db", str(tmp_path / "b.db")],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr


def test_live_output_nobody_reads_never_stops_the_firmware(tmp_path):
    from soothe.device import open_port
    from soothe.simulator import Simulator

    sim = Simulator(tmp_path / "l.img", seed=4, duration="25m")
    with sim:
        dev = Device(open_port(sim.port))
        dev.live(True, 600)  # the longest lease, then the monitor is killed: nobody reads again
        dev.close()
        sim.wait_stopped(timeout=240)  # blocked in write() before: the clock never got there
        assert sim.alive()
        dev = Device(open_port(sim.port))
        store = Store(tmp_path / "l.db")
        try:
            sync(dev, store, set_clock=False)
            n = store.db.execute("SELECT COUNT(*) FROM minutes").fetchone()[0]
        finally:
            dev.close()
            store.close()
        assert n >= 24


def test_sessions_and_the_report_show_what_the_device_lost(day, tmp_path, capsys):
    from soothe import cli

    img, truth, spans = _copy(day, tmp_path)
    name, off, n, seq = spans[40]
    _flip(img, name, 8 * (off + n // 2))
    log = faults.logstore.RecordLog(img, segment_bytes=8192).open()
    _wire_sync(log, str(tmp_path / "s.db"))
    assert cli.main(["sessions", "--db", str(tmp_path / "s.db")]) == 0
    out = capsys.readouterr().out
    assert "Records the device lost (1, declared at sync)" in out and "seq %d (1 record)" % seq in out
    assert cli.main(["report", "--db", str(tmp_path / "s.db"), "--out", str(tmp_path / "rep")]) == 0
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "Records lost on the device" in page and "1 record(s) after" in page


def test_sync_of_a_2h_log_over_the_simulators_port_at_1e3_errors_per_byte_converges(tmp_path):
    from test_faults import FaultyLink

    from soothe.device import DeviceError, open_port
    from soothe.simulator import Simulator

    sim = Simulator(tmp_path / "n.img", seed=9, duration="2h")
    with sim:
        sim.wait_stopped(timeout=300)
        _, ref = faults._reference(sim.port)
        rng = random.Random(2024)
        mangle = faults.Mangler(rng, 1e-3)
        runs, errors = 0, []
        db = tmp_path / "n.db"
        while True:
            runs += 1
            assert runs <= 8, errors  # a bounded number of `soothe sync` runs
            cut = rng.randrange(3000, 15000) if runs % 3 == 1 else None
            dev = Device(FaultyLink(open_port(sim.port), rng, cut_after=cut, mangle=mangle), timeout=0.5, retries=6)
            store = Store(db)
            try:
                r = sync(dev, store, set_clock=False)
                if store.max_seq(r.log_id) >= ref[-1][0]:
                    break
            except DeviceError as e:
                errors.append(str(e))
            finally:
                dev.close()
                store.close()
        assert mangle.faults >= 5  # about 30 expected (30 KB at 1e-3); timing moves chunk sizes
        con = __import__("sqlite3").connect(db)
        stored = [(s, t, bytes(p)) for s, t, p in con.execute("SELECT seq, type, payload FROM records ORDER BY seq")]
        con.close()
        assert stored == ref  # no duplicate, no hole, every byte as on the device
