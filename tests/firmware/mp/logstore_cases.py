"""MicroPython-side cases of the log store's tests: a full flash (tests/firmware/test_power_cut.py,
the unix port's littlefs) and damage resync (tests/sim/test_log_damage.py, every interpreter).
`FILE CASE ARGS` (mpcase)."""
import os

import mpcase
from soothe_fw.log import records
from soothe_fw.log.logstore import RecordLog


def full_flash(img):
    import vfs
    from soothe_sim.board import FileBlockDevice

    bdev = FileBlockDevice(img, blocks=24)
    vfs.VfsLfs2.mkfs(bdev)
    vfs.mount(vfs.VfsLfs2(bdev), "/full")
    log = RecordLog("/full", segment_bytes=8192, reserve_bytes=16384, unix_s=lambda: 1767600000).open()
    body = bytes(range(250))
    trace = []
    for i in range(600):
        log.append(records.MINUTE if log.keep_rr else records.EVENT, body, 250 if log.keep_rr else 60)
        if i % 5 == 4:
            log.flush()
            trace.append([log.keep_rr, log.full, log.flushed_seq, log.dropped])
    flushed_when_full = log.flushed_seq
    unsynced = [s for f in log.segments() for _, s, _ in log.iter_segment(f)]
    # The host syncs everything that was flushed; the device frees it, then logs on.
    log.ack(log.flushed_seq)
    for i in range(20):
        log.append(records.EVENT, body, 60)
        if i % 5 == 4:
            log.flush()
    log.close()
    log2 = RecordLog("/full").open()
    got = [(t, s, bytes(p)) for f in log2.segments() for t, s, p in log2.iter_segment(f)]
    gaps = [records.decode_gap(p) for t, s, p in got if t == records.GAP]
    return {"trace": trace, "flushed_when_full": flushed_when_full, "unsynced": unsynced,
            "seqs": [s for _, s, _ in got], "gaps": gaps, "dropped_total": log.dropped_total}


def damage(root):
    """Resync, high-water mark, declared gaps."""
    for d in (root, root + "/log"):
        try:
            os.mkdir(d)
        except OSError:
            pass
    log = RecordLog(root, segment_bytes=600).open()
    for i in range(40):
        log.append(records.EVENT, bytes([i]) * (20 + i), 20 + i)
        if i % 4 == 3:
            log.flush()
    log.close()
    segs = log.segments()
    # flip one bit in the middle of the second segment, and tear the end of the newest
    p = root + "/log/%08x.seg" % segs[1]
    b = bytearray(open(p, "rb").read())
    b[len(b) // 2] ^= 4
    open(p, "wb").write(b)
    p = root + "/log/%08x.seg" % segs[-1]
    b = open(p, "rb").read()
    open(p, "wb").write(b[: len(b) - 10])
    log = RecordLog(root, segment_bytes=600).open()
    buf = bytearray(1100)
    got, lost, seq = [], [], 1
    while seq <= log.flushed_seq:
        n, nxt, end = log.read_into(seq, buf, 0, 900, 1096)
        if not n:
            break
        for t, s, pl in records.iter_records(buf[:end]):
            k = records.declared_lost(t, s, pl)
            if k:
                lost.extend(range(s, s + k))
            else:
                got.append(s)
        seq = nxt
    return {"next": log.next_seq, "got": got, "lost": lost, "epoch": log.epoch}


mpcase.main(globals())
