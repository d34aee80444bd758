"""Issue 15 #5, the device side of time: the clock's uptime never wraps (ESP32 ticks_ms
wraps every 2**30 ms, and a diff reaches only 2**29 ms: 6.2 days), wall times are packed
from small-int limbs exactly, every record carries its boot counter and uptime, and
logging an event allocates nothing on the 32-bit port (a unix time is a long int there)."""
import pytest

_TICKS = """
import json, struct
from soothe_fw.clock import Clock
from soothe_fw.compat import ticks_add
now = [(1 << 30) - 1000]  # ESP32-like ticks: the 2**30 wrap comes a second in
def ticks():
    return now[0]
"""


def test_the_wall_clock_and_uptime_run_8_days_without_a_wrap(interp):
    r = interp(_TICKS + """
c = Clock(ticks, 1767600000123, True)
u = Clock(ticks)  # never set: the wall clock is the uptime
bad = 0
for h in range(1, 24 * 8 + 1):  # 8 days in hourly readings (the app reads per sensor block)
    now[0] = ticks_add(now[0], 3600000)
    if c.unix_ms() != 1767600000123 + h * 3600000 or u.unix_ms() != h * 3600000:
        bad += 1
print(json.dumps({"bad": bad, "up_s": c.up_s, "up_ms": c.up_ms, "u": u.unix_s()}))
""")
    assert r == {"bad": 0, "up_s": 8 * 86400, "up_ms": 0, "u": 8 * 86400}


def test_packed_wall_times_are_exact_across_carries_and_sets(interp):
    r = interp(_TICKS + """
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
print(json.dumps({"bad": bad[:5], "prev_ok": prev == before, "now": c.unix_ms(), "errs": errs}))
""")
    assert r == {"bad": [], "prev_ok": True, "now": 1767600000500, "errs": 2}


_BOARD = """
import json, struct, micropython
from soothe_fw.clock import Clock
from soothe_fw.compat import ticks_add
from soothe_fw.log import records
from soothe_fw.app import App
now = [(1 << 30) - 5000]
def ticks():
    return now[0]
class Part:
    def set_rgb(self, r, g, b): pass
    def set(self, d): pass
    def pressed(self): return False
    def write(self, b): pass
class Sensor:
    rate_hz = 100
    adc_max = 4095
    flat_range = 8
    block = 25
class Board:
    name = 'time32'
    device_id = 'time32'
    data_dir = %r
    def __init__(self):
        self.clock = Clock(ticks, 1767600000000, is_set=True)
        self.sensor = Sensor()
        self.serial = self.led = self.motor = self.button = Part()
    def fs_mount(self): pass
    def pacer_rate(self, r): pass
app = App(Board())
app.start()
"""


def test_an_event_allocates_nothing_and_every_record_carries_boot_and_uptime(interp, tmp_path):
    """On the 32-bit port (small ints +-2**30) an event's unix time was a long int: now the
    clock packs it from limbs, and the record's CRC is sealed at flush (it is one too)."""
    d = interp.tmpdir(tmp_path)
    code = _BOARD % d + """
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
print(json.dumps({"fails": fails, "got": got, "boot": app.log.boot}))
"""
    if interp.name == "cpython":
        code = code.replace("import json, struct, micropython", "import json, struct\n"
                            "class micropython:\n    heap_lock = heap_unlock = staticmethod(lambda: None)")
    r = interp(code)
    assert r["fails"] == 0
    assert r["boot"] == 1
    got = r["got"]
    assert got[0][:2] == [1, 1]  # BOOT
    events = [g for g in got if g[0] == 3]
    assert len(events) == 8
    for day, (_t, boot, up_s, wall_s) in enumerate(events, 1):
        assert boot == 1 and up_s == day * 86400 + (day * 321) // 1000 and wall_s == up_s


def test_the_boot_counter_goes_on_even_when_its_file_is_damaged(interp, tmp_path):
    d = interp.tmpdir(tmp_path)
    r = interp("""
import json
from soothe_fw.log.logstore import RecordLog
from soothe_fw.log import records
from soothe_fw.clock import Clock
t = [0]
boots = []
for i in range(4):
    if i == 3:
        f = open(%r + '/boot', 'wb'); f.write(b'junk'); f.close()  # a damaged counter file
    log = RecordLog(%r, clock=Clock(lambda: t[0])).open()
    log.append(records.EVENT, bytearray(8), 8)
    log.close()
    boots.append(log.boot)
print(json.dumps(boots))
""" % (d, d))
    assert r == [1, 2, 3, 4]  # the newest segment's headers outdo the damaged file


def test_a_minute_that_starts_off_the_whole_second_keeps_its_beats_on_time(interp):
    """A minute starts on the clock's ms (after a full minute closes at a beat, or after a sync
    set the clock): its unix_s is whole seconds, so its beats count from there (0.3 counted
    them from the minute's own start and read up to 1 s early)."""
    r = interp("""
import json
from soothe_fw.log import records
mb = records.MinuteBuilder()
mb.reset(1767600000, 937)  # the minute starts 937 ms into its second
for i in range(5):
    mb.add(100 + i * 800, 800, 0)
n = mb.finish(3, 7500, 400, 500, 80, 100)
d = records.decode_minute(mb.buf[:n])
print(json.dumps([d["unix_s"], [b[0] for b in d["beats"]]]))
""")
    assert r == [1767600000, [1037, 1837, 2637, 3437, 4237]]
