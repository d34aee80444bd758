"""MicroPython-side case of tests/sim/test_faults.py: a corpus of garbage and stray frames
through the real Link (link/handler.py) over a real RecordLog.  `FILE CASE ARGS` (mpcase)."""
import asyncio
import binascii
import json

import mpcase
from soothe_fw.link import handler as link
from soothe_fw.link import wire
from soothe_fw.log import records
from soothe_fw.log.logstore import RecordLog
from soothe_fw.log.settings import Settings


class C:
    is_set = True

    def unix_ms(self):
        return 1767600000000

    def set_unix_ms(self, ms):
        return 1767600000000


def fuzz(log_dir, corpus_path):
    log = RecordLog(log_dir).open()
    for i in range(10):
        log.append(records.EVENT, bytes([i]) * 20, 20)
    log.flush()
    sent = []

    async def send(f):
        sent.append(bytes(f))
    ln = link.Link(send, log, C(), Settings(), 'fuzz-mp')
    bad = 0
    for h in json.load(open(corpus_path)):
        asyncio.run(ln.feed(binascii.unhexlify(h)))
    for f in sent:
        try:
            op, body = wire.decode(f[:-1])
        except wire.FrameError:
            bad += 1
    return [len(sent), bad, wire.decode(sent[-1][:-1])[0]]


mpcase.main(globals())
