"""MicroPython-side cases of tests/firmware/test_time_base.py: the clock across the ticks
wrap, packed wall times, an event under a locked heap with its boot and uptime, the boot
counter, a minute off the whole second.  `FILE CASE ARGS` (mpcase)."""
import struct

import mpcase
from soothe_fw.clock import Clock
from soothe_fw.compat import ticks_add
from soothe_fw.log import records
from soothe_fw.log.logstore import RecordLog

try:
    import micropython
except ImportError:  # CPython: nothing to lock
    class micropython:
        heap_lock = heap_unlock = staticmethod(lambda: None)

now = [(1 << 30) - 1000]  # ESP32-like ticks: the 2**30 wrap comes a second in


def ticks():
    return now[0]


def eight_days():
    c = Clock(ticks, 1767600000123, True)
    u = Clock(ticks)  # never set: the wall clock is the uptime
    bad = 0
    for h in range(1, 24 * 8 + 1):  # 8 days in hourly readings (the app reads per sensor block)
        now[0] = ticks_add(now[0], 3600000)
        if c.unix_ms() != 1767600000123 + h * 3600000 or u.unix_ms() != h * 3600000:
            bad += 1
    return {"bad": bad, "up_s": c.up_s, "up_ms": c.up_ms, "u": u.unix_s()}


def packed_wall_times():
    buf = bytearray(16)
    bad = []
    for start in (0, 999, 1767600000999, 1767600065535, (1 << 32) * 1000 - 70000000):
        c = Clock(ticks, start, start > 0)
        for step in (1, 999, 1000, 65535000, 65536000, 86400000, 300000001):
            now[0] = ticks_add(now[0], step)
            for back in (0, -1, -999, -60001):
                t = ticks_add(now[0], back)
                want = c.unix_ms_at(t)
                c.at(t)
                c.pack_wall(buf, 0)
                c.pack_wall_ms(buf, 6)
                s, ms = struct.unpack_from("<IH", buf, 0)
                if (s, ms) != (want // 1000 % (1 << 32), want % 1000) or struct.unpack_from("<Q", buf, 6)[0] != want:
                    bad.append([start, step, back])
    c = Clock(ticks)
    before = c.unix_ms()
    prev = c.set_unix_ms(1767600000500)
    errs = 0
    for v in (-1, (1 << 32) * 1000):
        try:
            c.set_unix_ms(v)
        except ValueError:
            errs += 1
    return {"bad": bad[:5], "prev_ok": prev == before, "now": c.unix_ms(), "errs": errs}


class Part:
    def set_rgb(self, r, g, b):
        pass

    def set(self, d):
        pass

    def pressed(self):
        return False

    def write(self, b):
        pass


class Sensor:
    rate_hz = 100
    adc_max = 4095
    flat_range = 8
    block = 25


class Board:
    name = 'time32'
    device_id = 'time32'
    data_dir = None  # set by the case

    def __init__(self):
        self.clock = Clock(ticks, 1767600000000, is_set=True)
        self.sensor = Sensor()
        self.serial = self.led = self.motor = self.button = Part()

    def fs_mount(self):
        pass

    def pacer_rate(self, r):
        pass


def event_allocates_nothing(data_dir):
    from soothe_fw.app import App

    now[0] = (1 << 30) - 5000
    Board.data_dir = data_dir
    app = App(Board())
    app.start()
    fails = 0
    buf = bytearray(16)
    for day in range(8):  # across the ticks wrap and past 6.2 days of uptime
        now[0] = ticks_add(now[0], 86400000 + 321)
        t = now[0]
        try:
            micropython.heap_lock()
            app.event(records.EV_BUTTON, b"short")
            app.clock.at(t)
            app.clock.pack_wall_ms(buf, 0)  # a LIVE frame's time
        except MemoryError:
            fails += 1
        finally:
            micropython.heap_unlock()
    app.log.flush()
    got = []
    for first in app.log.segments():
        f = open(app.log._seg_path(first), 'rb')
        blob = f.read()
        f.close()
        for rtype, seq, p, boot, up in records.iter_framed(blob):
            d = records.decode(rtype, p)
            got.append([rtype, boot, up // 1000, d["unix_s"] - 1767600000])
    return {"fails": fails, "got": got, "boot": app.log.boot}


def boot_counter(data_dir):
    t = [0]
    boots = []
    for i in range(4):
        if i == 3:
            f = open(data_dir + '/boot', 'wb')
            f.write(b'junk')  # a damaged counter file
            f.close()
        log = RecordLog(data_dir, clock=Clock(lambda: t[0])).open()
        log.append(records.EVENT, bytearray(8), 8)
        log.close()
        boots.append(log.boot)
    return boots


def minute_off_the_second():
    mb = records.MinuteBuilder()
    mb.reset(1767600000, 937)  # the minute starts 937 ms into its second
    for i in range(5):
        mb.add(100 + i * 800, 800, 0)
    n = mb.finish(3, 7500, 400, 500, 80, 100)
    d = records.decode_minute(mb.buf[:n])
    return [d["unix_s"], [b[0] for b in d["beats"]]]


mpcase.main(globals())
