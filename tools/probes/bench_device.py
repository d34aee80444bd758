# mypy: ignore-errors
# (a bench harness: duck-typed fake peripherals in place of machine.PWM and friends)
"""A day of the device's hot paths, for the allocation tests and `soothe bench --only cost`.

Builds the real App on a board of allocation-free fake peripherals driving the real LED and
motor drivers (PwmLED, Ws2812Led, SimLED, Drv2605, PwmMotor), then runs per block: the
detector (heap locked), the sense loop's per-beat lines (locked), the 5 s metrics step
(gc.mem_alloc delta; steps that write a record are counted apart), the ui's own wake-ups
(Ui.show, locked) and a breathing session's pacer changes (Ui.pace, locked).
Device ticks start 2 h before their 2**30 wrap.  Between the first and last `sample_min`
the beats of the first 5 min are replayed instead of the samples, so a day runs in minutes
under the 32-bit WebAssembly port.  Not part of the device image.

    import bench_device as d; d.run_hours(0, 24, 24, 30); d.report()
"""
import gc
import json
import sys
import micropython
import os
from array import array
sys.modules['machine'] = __import__('fake_machine')
from soothe_sim import ppg_synth
from soothe_fw.log import records
from soothe_fw.hw import esp32 as board_esp32
from soothe_fw.hw.drv2605 import Drv2605
from soothe_fw.hw.ws2812 import Ws2812Led
from soothe_sim import board as board_sim
from soothe_fw.sense.beats import OK
from soothe_fw.clock import Clock
from soothe_fw.compat import ticks_add, ticks_diff, zeros
from soothe_fw.app import App
from soothe_fw.feedback.pacer import BreathPlan

_MINUTE_MS = 60000  # a minute record (soothe_fw/log/minutes.py)

RATE = 100
# Where the App keeps its settings and log (a memory filesystem under the WebAssembly port;
# SOOTHE_BENCH_DIR under the unix port, so parallel runs do not share files).
DATA_DIR = '/tmp/soothe-bench-device'
try:
    DATA_DIR = os.getenv('SOOTHE_BENCH_DIR') or DATA_DIR
except AttributeError:
    pass
BLOCK = 25
now = [(1 << 30) - 7200000]  # device ticks: the day crosses the 2**30 wrap
def ticks():
    return now[0]

class Regs:  # an I2C bus that keeps the last value per register, allocation-free
    def __init__(self):
        self.regs = bytearray(256)
        self.writes = 0
    def writeto_mem(self, addr, reg, buf):
        self.regs[reg] = buf[0]
        self.writes += 1

class Channel:  # a PWM channel that keeps its duty
    def __init__(self):
        self.duty = 0
        self.writes = 0
    def duty_u16(self, d):
        self.duty = d
        self.writes += 1

class Pixel:  # neopixel.NeoPixel: the colour is copied into a byte buffer
    def __init__(self):
        self.buf = bytearray(3)
        self.writes = 0
    def __setitem__(self, i, rgb):
        self.buf[0] = rgb[1]
        self.buf[1] = rgb[0]
        self.buf[2] = rgb[2]
    def write(self):
        self.writes += 1

class Button:
    def pressed(self):
        return False

class Sensor:
    rate_hz = RATE
    adc_max = 4095
    flat_range = 8
    block = BLOCK

class Serial:
    def write(self, b):
        pass

class Board:
    name = 'alloc32'
    device_id = 'alloc32'
    data_dir = DATA_DIR
    def __init__(self, led, motor):
        self.clock = Clock(ticks, 1767600000000, is_set=True)
        self.sensor = Sensor()
        self.serial = Serial()
        self.led = led
        self.motor = motor
        self.button = Button()
    def fs_mount(self):
        pass
    def pacer_rate(self, r):
        pass

def make_leds():
    pwm = board_esp32.PwmLED(25, 26, 27, common_anode=True)
    pwm.pwms = [Channel(), Channel(), Channel()]
    ws = Ws2812Led(Pixel())
    sim = board_sim.SimLED(board_sim.Trace(None, None))
    return pwm, ws, sim

pwm_led, ws_led, sim_led = make_leds()
class AllLeds:  # one set_rgb drives the three real LED drivers
    def set_rgb(self, r, g, b):
        pwm_led.set_rgb(r, g, b)
        ws_led.set_rgb(r, g, b)
        sim_led.set_rgb(r, g, b)
bus = Regs()
drv = Drv2605(bus)
pwm_motor = board_esp32.PwmMotor(23)
pwm_motor.pwm = Channel()
class BothMotors:
    def __init__(self):
        self.duty = 0
    def set(self, d):
        drv.set(d)
        pwm_motor.set(d)
        self.duty = d

for d in ('/tmp', DATA_DIR):
    try:
        os.mkdir(d)
    except OSError:
        pass
app = App(Board(AllLeds(), BothMotors()))
app.start()
app.log.keep_rr = False
pipe = app.pipe  # App.sense's own pipeline
det = pipe.detector
hrv = app.hrv

g = ppg_synth.SyntheticPPG(RATE, ppg_synth.parse_plan('rest:150s,stress:150s'), seed=5)
blocks = [None] * (300 * RATE // BLOCK)  # 5 min of signal, replayed all day (list made first:
for k in range(len(blocks)):               # the generator's garbage fragments the heap)
    b = array('i', [0] * BLOCK)
    g.fill(b, BLOCK)
    blocks[k] = b

fails = {'sample': 0, 'beat': 0, 'metrics': 0, 'ui': 0, 'pace': 0}
counts = {'sample': 0, 'beat': 0, 'metrics': 0, 'ui': 0, 'pace': 0, 'minutes': 0, 'record_steps': 0, 'record_bytes': 0}

def locked(kind, fn, a, b=None):  # no *args: packing them would allocate
    micropython.heap_lock()
    try:
        r = fn(a) if b is None else fn(a, b)
    except MemoryError:
        r = None
        fails[kind] += 1
    micropython.heap_unlock()
    counts[kind] += 1
    return r

# Beats seen in each block of the first 5 min (age in ms at the block's end, RR, flag): the
# hours in between replay them instead of the samples, so a day runs in a test's time.
beat_age = zeros('h', 4 * len(blocks))
beat_rr = zeros('h', 4 * len(blocks))
beat_flag = zeros('b', 4 * len(blocks))
beat_count = zeros('b', len(blocks))

hrv_calls = [0]

def add_beat(t_ms, rr_ms, flag):
    hrv_calls[0] += 1
    hrv.add_beat(t_ms, rr_ms, flag == OK)
    return app.minutes.builder.add(ticks_diff(t_ms, app.minutes.tick), rr_ms, flag)

def feed_block(b, end_tick):
    # App.sense, per block: motion, detector, contact gate
    pipe.feed(b, BLOCK, end_tick)

def beats_of_block(end_tick, k):
    # App.sense, per beat (without the live stream, which needs a host)
    n = 0
    j = k % len(blocks)
    while pipe.next_beat():
        hrv_calls[0] += 1
        if k < len(blocks) and n < 4:
            beat_age[4 * j + n] = ticks_diff(end_tick, pipe.t_ms)
            beat_rr[4 * j + n] = pipe.rr_ms
            beat_flag[4 * j + n] = pipe.flag
            beat_count[j] = n + 1
        if not pipe.to_minute(app.minutes.builder, app.minutes.tick):
            return -1 - n  # the minute is full: closing it writes a record (outside the lock)
        n += 1
    return n

def replayed_second(end_tick, k):
    total = 0
    for back in range(3, -1, -1):
        j = (k - back) % len(blocks)
        e = ticks_add(end_tick, -back * block_ms)
        for n in range(beat_count[j]):
            if not add_beat(ticks_add(e, -beat_age[4 * j + n]), beat_rr[4 * j + n], beat_flag[4 * j + n]):
                return -1 - total
            total += 1
    return total

plan = BreathPlan(60, 4, 6, 60)
session_ms = 600000
block_ms = BLOCK * 1000 // RATE
next_ui = now[0]
next_pace = 0
state_seen = app.state
debug = []


def run_hours(h0, h1, hours, sample_min):
    """Runs hours h0..h1 of a day of `hours`, samples in its first and last sample_min."""
    global next_ui, next_pace
    total_blocks = hours * 3600000 // block_ms
    SAMPLE_BLOCKS = sample_min * 60000 // block_ms
    for k in range(h0 * 3600000 // block_ms, h1 * 3600000 // block_ms):
        now[0] = ticks_add(now[0], block_ms)
        sampling = k < SAMPLE_BLOCKS or k >= total_blocks - SAMPLE_BLOCKS  # the first and last minutes
        if not sampling and k % 4 != 3:
            continue  # in between, one pass a second replays the beats of its 4 blocks
        end = now[0]
        if sampling:
            locked('sample', feed_block, blocks[k % len(blocks)], end)
            r = locked('beat', beats_of_block, end, k)
        else:
            r = locked('beat', replayed_second, end, k)
        if r is not None and r < 0:
            app.minutes.close(end, app.state)
            counts['minutes'] += 1
        if sampling and pipe.contact_changed:  # App.sense: an event record, outside the lock
            app.contact = pipe.contact
            app.event(records.EV_CONTACT_BACK if app.contact else records.EV_CONTACT_LOST)
        if pipe.metrics_due(end):
            # Measured (gc off, mem_alloc delta) rather than locked: a step that logs an event
            # (a new state, a prompt offered or ignored) or saves the baseline file (one in
            # 120) may allocate for the record; every other 5 s step must allocate nothing.
            # (The very first step is a warm-up: 192 B once on the 32-bit port.)
            seq_before = app.log.next_seq
            saving = ticks_diff(end, app._baseline_tick) >= 600000
            gc.disable()
            m0 = gc.mem_alloc()
            app._metrics_step(end)
            used = gc.mem_alloc() - m0
            gc.enable()
            counts['metrics'] += 1
            if app.log.next_seq != seq_before or saving or counts['metrics'] == 1:
                counts['record_steps'] += 1
                counts['record_bytes'] += used
            elif used:
                fails['metrics'] += 1
                if not debug:
                    debug.append([k, used])
        if ticks_diff(end, app.minutes.tick) >= _MINUTE_MS:
            app.minutes.close(ticks_add(app.minutes.tick, _MINUTE_MS), app.state)
            counts['minutes'] += 1
        if ticks_diff(end, next_ui) >= 0:  # the ui's own wake-ups: it asks when to come back
            wait = locked('ui', app.ui.show, end)
            next_ui = ticks_add(end, wait if wait is not None and 0 < wait < 5000 else 5000)
        if (k // 2400) % 3 == 2:  # a 10 min breathing session in every 30 min
            el = (k % 2400) * block_ms
            if el >= next_pace:  # the actuator's wake-ups: at each of the pacer's changes
                plan.at(el)
                locked('pace', app.ui.pace, plan)
                next_pace = plan.next_ms if plan.next_ms > el else el + block_ms
        else:
            next_pace = 0
        app.log._plen = 0  # records go nowhere here (flash writes are the log's own test)


def report():
    print(json.dumps({'fails': fails, 'beat_calls': hrv_calls[0], 'counts': counts, 'beats': det.beats, 'hr': hrv.hr_bpm_x100,
                      'led_writes': [c.writes for c in pwm_led.pwms] + [ws_led.np.writes, sim_led.changes],
                      'drv_writes': bus.writes, 'maxsize': sys.maxsize, 'state': app.state, 'debug': debug}))
