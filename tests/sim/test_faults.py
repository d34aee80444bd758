"""Faults between the device and the database: power cuts in the simulated device,
a byte-level proxy that mangles the serial link, Ctrl-C mid-sync, and fuzzed frames
at the device's frame parser and command handler."""
import asyncio
import json
import random
import sqlite3
import struct

import pytest
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_case
from soothe_tools.bench_log import FixedClock
from soothe.device import Device, DeviceError, open_port
from soothe_fw.log import records
from soothe_fw.link import wire
from soothe.simulator import Simulator
from soothe.store import Store
from soothe.sync import sync


def _reference(sim):
    """Every flushed record on the device, read with GET and never acknowledged."""
    from soothe_tools.faults import _reference as reference

    return reference(sim.port)


def _stored(db):
    con = sqlite3.connect(db)
    try:
        return [(s, t, bytes(p)) for s, t, p in con.execute("SELECT seq, type, payload FROM records ORDER BY seq")]
    finally:
        con.close()


def _check_decoded_tables_match_records(db):
    """The derived tables hold exactly what the raw records say (one transaction per batch)."""
    con = sqlite3.connect(db)
    try:
        n_min = con.execute("SELECT COUNT(*) FROM records WHERE type=?", (records.MINUTE,)).fetchone()[0]
        assert con.execute("SELECT COUNT(*) FROM minutes").fetchone()[0] == n_min
        beats = sum(len(records.decode_minute(p)["beats"]) for (p,) in
                    con.execute("SELECT payload FROM records WHERE type=?", (records.MINUTE,)))
        assert con.execute("SELECT COUNT(*) FROM beats").fetchone()[0] == beats
    finally:
        con.close()


# ---- power cut in the running device ------------------------------------------------
@pytest.mark.parametrize("cut", [7, 19, 33])  # a 6 min run programs about 39 blocks
def test_power_cut_in_the_simulated_device_then_reboot_and_sync(tmp_path, cut):
    # Reference: the same wearer, same seed, no power cut.
    ref_sim = Simulator(tmp_path / "ref.img", seed=5, duration="6m")
    with ref_sim:
        ref_sim.wait_stopped(timeout=120)
        _, ref = _reference(ref_sim)
    flash = tmp_path / "cut.img"
    sim = Simulator(flash, seed=5, duration="6m", cut_after_writes=cut)
    sim.start()
    sim.proc.wait(120)
    sim.stop()
    assert sim.proc.returncode != 0  # the supply died
    durable = [line for line in sim.stderr_lines if "log durable up to seq" in line]
    assert durable, sim.stderr_lines[-5:]
    flushed = int(durable[0].split("seq ")[1].split(")")[0])
    # Next boot on the same flash, then sync.
    sim2 = Simulator(flash, seed=5, duration="2m")
    with sim2:
        sim2.wait_stopped(timeout=120)
        dev = Device(open_port(sim2.port))
        store = Store(tmp_path / "cut.db")
        try:
            sync(dev, store, set_clock=False)
        finally:
            dev.close()
            store.close()
    got = _stored(tmp_path / "cut.db")
    seqs = []
    for s, t, p in got:
        seqs += range(s, s + max(1, records.declared_lost(t, s, p)))
    assert seqs == list(range(1, len(seqs) + 1))  # nothing missing, nothing twice
    # Every record flushed before the cut is there, byte for byte as in the reference.
    assert got[:flushed] == ref[:flushed]
    # Records in flight at the cut may have been committed before the failing program
    # (littlefs commits inside the flush): if so, byte for byte as in the reference.  Or the
    # cut tore their flush: their seqs were handed out (the high-water mark went first), so
    # they come as a declared GAP_DAMAGED record, never reused, and the reboot follows them.
    boot = next(i for i in range(flushed, len(got)) if got[i][1] == records.BOOT)
    for s, t, p in got[flushed:boot]:
        if not records.declared_lost(t, s, p):
            assert (s, t, p) == ref[s - 1]
    assert got[boot][1] == records.BOOT  # then the reboot, with the next seq
    _check_decoded_tables_match_records(tmp_path / "cut.db")


# ---- a mangled serial link ----------------------------------------------------------
class FaultyLink:
    """Byte-level proxy around a pyserial port: flips bits, drops, duplicates and injects
    bytes both ways, and pulls the cable (SerialException) at random points."""

    def __init__(self, ser, rng, rate=0.3, cut_after=None, mangle=None):
        self.ser = ser
        self.rng = rng
        self.rate = rate  # chance that one chunk read or written gets one fault
        self.cut_after = cut_after  # bytes read before the cable is pulled
        self.seen = 0
        self.faults = 0
        if mangle is not None:  # e.g. soothe_tools.faults.Mangler: faults per byte, not per chunk
            self._mangle = mangle

    def _mangle(self, data):
        if not data or self.rng.random() >= self.rate:
            return data
        self.faults += 1
        out = bytearray(data)
        i = self.rng.randrange(len(out))
        kind = self.rng.randrange(4)
        if kind == 0:
            out[i] ^= 1 << self.rng.randrange(8)  # flipped bit
        elif kind == 1:
            del out[i : i + self.rng.randrange(1, 20)]  # dropped bytes
        elif kind == 2:
            out[i:i] = out[i : i + self.rng.randrange(1, 20)]  # duplicated bytes
        else:
            out[i:i] = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 30)))  # junk
        return bytes(out)

    @property
    def in_waiting(self):
        return self.ser.in_waiting

    def read(self, n):
        data = self.ser.read(n)
        self.seen += len(data)
        if self.cut_after is not None and self.seen > self.cut_after:
            raise serial.SerialException("device reports readiness to read but returned no data")
        return self._mangle(data)

    def write(self, data):
        return self.ser.write(self._mangle(data))

    def flush(self):
        self.ser.flush()

    def reset_input_buffer(self):
        self.ser.reset_input_buffer()

    def close(self):
        self.ser.close()


def test_mangled_link_and_pulled_cables_still_give_the_exact_log(tmp_path):
    sim = Simulator(tmp_path / "w.img", seed=6, duration="40m")
    with sim:
        sim.wait_stopped(timeout=180)
        hello, ref = _reference(sim)
        assert len(ref) > 40
        rng = random.Random(1234)
        db = tmp_path / "w.db"
        attempts = 0
        faults = 0
        errors = []
        while True:
            attempts += 1
            assert attempts < 30, errors[-3:]
            cut = rng.randrange(500, 6000) if attempts < 6 else None  # pulled cables, then a steady link
            link = FaultyLink(open_port(sim.port), rng, cut_after=cut)
            dev = Device(link, timeout=0.5, retries=6)
            store = Store(db)
            try:
                sync(dev, store, batch_bytes=2048, set_clock=False)
                if store.max_seq(hello["device_id"]) >= ref[-1][0]:
                    break
            except DeviceError as e:
                errors.append(str(e))
            finally:
                faults += link.faults
                dev.close()
                store.close()
        # The faults really happened (sync now rides out most of them: the pulled cables still end runs).
        assert faults >= 20 and len(errors) >= 1, (faults, errors)
        assert _stored(db) == ref  # same seqs, same payloads, nothing twice
        _check_decoded_tables_match_records(db)
        # The device saw the ACK for everything and freed it.
        dev = Device(open_port(sim.port))
        after = dev.hello()
        dev.close()
        assert after["acked_seq"] == ref[-1][0]
        assert sim.alive()


def test_ctrl_c_mid_sync_keeps_a_consistent_database_and_the_next_sync_resumes(tmp_path):
    sim = Simulator(tmp_path / "c.img", seed=7, duration="30m")
    with sim:
        sim.wait_stopped(timeout=180)
        _, ref = _reference(sim)

        class CtrlC:
            calls = 0

            def update(self, *a):
                CtrlC.calls += 1
                if CtrlC.calls == 2:
                    raise KeyboardInterrupt

            def done(self):
                pass

        db = tmp_path / "c.db"
        dev, store = Device(open_port(sim.port)), Store(db)
        with pytest.raises(KeyboardInterrupt):
            sync(dev, store, batch_bytes=1024, progress=CtrlC(), set_clock=False)
        dev.close()
        store.close()
        part = _stored(db)
        assert 0 < len(part) < len(ref) and part == ref[: len(part)]
        _check_decoded_tables_match_records(db)
        dev, store = Device(open_port(sim.port)), Store(db)
        result = sync(dev, store, set_clock=False)
        dev.close()
        store.close()
        assert result.new_records == len(ref) - len(part)
        assert _stored(db) == ref


# ---- fuzzing the device's frame parser and command handler ---------------------------

def _link(tmp_path):
    from soothe_fw.link import handler as link_mod
    from soothe_fw.log.logstore import RecordLog
    from soothe_fw.log.settings import Settings

    log = RecordLog(str(tmp_path / "dev")).open()
    for i in range(30):
        p = bytes([i]) * 20
        log.append(records.EVENT, p, len(p))
    log.flush()
    sent = []

    async def send(frame):
        sent.append(bytes(frame))  # the device reuses its frame buffer

    ln = link_mod.Link(send, log, FixedClock(), Settings(), "fuzz-1")
    return ln, sent, log


def _valid_answers(sent):
    for f in sent:
        assert f.endswith(b"\x00") and b"\x00" not in f[:-1]
        op, body = wire.decode(f[:-1])  # every answer is a well-formed frame
        assert op == wire.ERR or op & wire.RESPONSE
        assert len(f) <= wire.MAX_FRAME + 16


_opcodes = st.sampled_from([wire.HELLO, wire.TIME, wire.GET, wire.ACK, wire.CONFIG, wire.LIVE, wire.DATA, 0x00,
                            0x42, 0x7F, 0xFF])
_framed = st.builds(lambda op, body: wire.encode(op, body), _opcodes, st.binary(max_size=40))
_chunks = st.lists(st.one_of(st.binary(max_size=80), _framed), max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=_chunks)
def test_fuzzed_bytes_get_an_error_frame_or_silence_and_never_crash(tmp_path, chunks):
    ln, sent, log = _link(tmp_path)
    acked_before = log.acked_seq
    asyncio.run(ln.feed(b"".join(chunks)))
    _valid_answers(sent)
    assert log.acked_seq >= acked_before and log.acked_seq <= log.flushed_seq
    # ...and it still answers a clean request afterwards.
    sent.clear()
    asyncio.run(ln.feed(b"\x00" + wire.encode(wire.HELLO)))
    assert wire.decode(sent[-1][:-1])[0] == wire.HELLO | wire.RESPONSE


def test_fuzz_corpus_under_micropython(tmp_path):
    """The same kind of garbage through the real Link under the MicroPython unix port."""
    rng = random.Random(99)
    corpus = []
    for _ in range(200):
        parts = []
        for _ in range(rng.randrange(1, 5)):
            if rng.random() < 0.5:
                parts.append(bytes(rng.randrange(256) for _ in range(rng.randrange(60))))
            else:
                op = rng.choice([1, 2, 3, 6, 7, 8, 0x42, 0x7F])
                parts.append(wire.encode(op, bytes(rng.randrange(256) for _ in range(rng.randrange(20)))))
        corpus.append(b"".join(parts).hex())
    corpus.append((b"\x00" + wire.encode(wire.HELLO)).hex())  # a host starts with a delimiter
    (tmp_path / "corpus.json").write_text(json.dumps(corpus))
    # the MicroPython side: tests/firmware/mp/link_cases.py
    n, bad, last = run_case("micropython", "link_cases.py", "fuzz", str(tmp_path / "mpdev"),
                            str(tmp_path / "corpus.json"))
    assert n > 100 and bad == 0
    assert last == wire.HELLO | wire.RESPONSE


def test_get_answers_are_bounded_by_max_bytes(tmp_path):
    ln, sent, log = _link(tmp_path)
    asyncio.run(ln.feed(wire.encode(wire.GET, struct.pack("<IH", 1, 100))))
    ops = [wire.decode(f[:-1])[0] for f in sent]
    assert ops[-1] == wire.END | wire.RESPONSE and ops.count(wire.DATA | wire.RESPONSE) >= 1
    data = sum(len(wire.decode(f[:-1])[1]) - 5 for f in sent[:-1])
    assert data <= 100 + 32  # at least one record, never much past the budget
