"""MicroPython-side cases of tests/firmware/test_guide.py: the Guide (prompts, marks,
practices, finder) driven through its real interface with the small fakes of
tests/fakes/fake_guide_env.py; module-level state, as one case runs per process.
`FILE CASE ARGS` (mpcase)."""
import mpcase
from fake_guide_env import FakeClock, FakeLog, Sink
from soothe_fw.feedback import practice as P
from soothe_fw.feedback.button import Button
from soothe_fw.feedback.display import Display
from soothe_fw.feedback.guide import Guide
from soothe_fw.log import records
from soothe_fw.log.settings import Settings
from soothe_fw.sense.hrv import RollingHRV

try:
    import micropython
except ImportError:  # CPython: nothing to lock (the heap-locked case runs on the ports only)
    micropython = None

clock = FakeClock()
log = FakeLog()
sink = Sink()
settings = Settings()
hrv = RollingHRV()
g = Guide(settings, hrv, clock, log, sink.event, sink.wake, sink.pacer_rate)
g.boot = 0
beat_t = [0]


def advance(ms, rr=900, ok=True, state=5, threat=0):
    # beats and 5 s steps up to clock.t + ms, the timeline ticked at each change
    end = clock.t + ms
    while clock.t < end:
        step = 5000 - clock.t % 5000
        if step > end - clock.t:
            step = end - clock.t
        clock.t += step
        while beat_t[0] + rr <= clock.t:
            beat_t[0] += rr
            hrv.add_beat(beat_t[0], rr + (beat_t[0] // rr) % 3 * 12, ok)
        while g.playing():
            w = g.tick(clock.ticks_ms())
            if w < 0 or w > 0:
                break
        if clock.t % 5000 == 0:
            now = clock.ticks_ms()
            g.session_window(now)
            hrv.window(now, 60000)
            hrv.coherence(now)
            g.step(now, state, threat, False, 12)


def names():
    return [[records.EVENT_NAMES[k], d.decode()] for k, d in sink.events]


class Pin:
    def __init__(self):
        self.v = 0

    def set(self, v):
        self.v = v

    def set_rgb(self, r, gr, b):
        self.v = r + gr + b


def flows():
    out = {}
    advance(70000)
    # a double press: a mark, its tap and the offer
    ack = g.gesture(clock.ticks_ms(), False, True, 2, 5)
    out["mark"] = [ack, names(), g.playing(), g.cue.length_ms]
    sink.events = []
    advance(70000)    # the offer goes unanswered; the MARK record is written 60 s after the press
    out["after_mark"] = [names(), [t for t, _ in log.records]]
    m = records.decode_mark(log.records[0][1])
    out["mark_rec"] = [m["before"]["hr"] is not None, m["after"]["hr"] is not None, m["state_at_mark"]]
    sink.events = []
    # prompts off: a mark is still logged, nothing is offered
    settings.set("prompts", "off")
    g.gesture(clock.ticks_ms(), False, True, 2, 5)
    out["off"] = names()
    sink.events = []
    advance(61000)
    # a short press: lead-in; two presses pick the menu's 2nd; a long press in the lead-in stops it
    settings.set("prompts", "marks_only")
    settings.set("practice_menu", "body_scan,safe_place,imagery")
    g.gesture(clock.ticks_ms(), False, False, 1, 5)
    lead = [g.session.leading_in(), g.tick(clock.ticks_ms())]
    g.gesture(clock.ticks_ms(), False, False, 1, 5)
    g.gesture(clock.ticks_ms(), False, False, 1, 5)
    advance(3000)
    out["picked"] = [lead, g.session.practice, names()]
    sink.events = []
    g.gesture(clock.ticks_ms(), False, False, 1, 5)   # any press ends it at once
    advance(100)
    out["stopped"] = [g.playing(), names()]
    sink.events = []
    advance(61000)
    s = records.decode_session(log.records[-1][1])
    out["session"] = [s["practice"], s["kind"], s["completed"], s["duration_s"]]
    # marks_only: threat held for prompt_after_s offers nothing
    advance(400000, rr=650, state=1, threat=1)
    out["threat"] = [n for n in names() if n[0] == "prompt"]
    settings.set("prompts", "on")
    advance(400000, rr=650, state=1, threat=1)
    out["threat_on"] = [n for n in names() if n[0] == "prompt"][:1]
    sink.events = []
    # the host starts breathing (no lead-in) and stops it
    acc = g.host(1)
    stop = g.host(0)
    out["host"] = [acc, stop, g.tick(clock.ticks_ms()), g.host(0)]
    return out


def locked():
    pin = Pin()
    disp = Display(pin, pin, settings)
    button = Button()
    sink.keep = False
    advance(70000)
    res = []
    for k in range(5):
        settings.set("practice_default", P.NAMES[k])
        g.start(clock.ticks_ms(), 0, 0)           # the plan is built here, at its first cue
        length = g.session.length_ms
        ok = False
        micropython.heap_lock()
        try:
            end = clock.t + length - 100
            while clock.t < end:
                clock.t += 20                          # the ui tick: button and LED
                button.update(clock.t % 2000 < 100, 20, True)
                disp.show(clock.ticks_ms(), 3)
                if clock.t % 100 == 0:
                    advance(0)
                while beat_t[0] + 900 <= clock.t:
                    beat_t[0] += 900
                    hrv.add_beat(beat_t[0], 900, True)
                if clock.t % 5000 == 0:                # the 5 s step
                    now = clock.ticks_ms()
                    g.session_window(now)
                    hrv.window(now, 60000)
                    hrv.coherence(now)
                    g.step(now, 3, 0, False, 12)
                if g.playing():
                    g.tick(clock.ticks_ms())           # the actuator's step
            ok = True
        except MemoryError:
            pass
        micropython.heap_unlock()
        res.append([P.NAMES[k], ok, g.session.practice])
        advance(200000)
    return res


mpcase.main(globals())
