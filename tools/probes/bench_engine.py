"""Cost probe for the signal engine, run by `soothe bench` under the `micropython` binary.

  bench_engine.py base|engine SECONDS RATE   callgrind pair: the same synthetic signal is made
                                             in both; only `engine` runs the device's signal
                                             pipeline on it (sense/pipeline.py: detector, motion
                                             from the PPG, contact gate, HRV, 60 s window and
                                             coherence every 5 s), as a DevKit without an
                                             accelerometer runs it
  bench_engine.py without-PART SECONDS RATE  `engine` with one part stubbed out (PART: motion, the
                                             PPG motion fallback and its per-beat flag; window, the
                                             60 s window; coherence): engine minus it is its share
  bench_engine.py alloc SECONDS RATE         prints bytes allocated per sample / per metrics run
  bench_engine.py bio SECONDS RATE           engine + state, coach, pacer and ui tick (callgrind
                                             bio minus engine = the biofeedback's cost)
  bench_engine.py alloc-bio SECONDS RATE     allocation of the same
  bench_engine.py heap SECONDS RATE          live heap of the engine over SECONDS of signal made
                                             block by block (run from .mpy on a small heap)
Not part of the device image (deploy leaves bench_* out).
"""
import gc
import sys

import micropython
from array import array

from soothe_sim import ppg_synth
from soothe_fw.sense.pipeline import Pipeline, METRICS_MS

BLOCK = 25


def make_blocks(seconds, rate):
    g = ppg_synth.SyntheticPPG(rate, ppg_synth.parse_plan("rest:%ds" % seconds), seed=2)
    blocks = [None] * (seconds * rate // BLOCK)  # type: list  # made first: a growing list wants one
    for k in range(len(blocks)):                 # unfragmented run of the heap
        b = array("i", [0] * BLOCK)
        g.fill(b, BLOCK)
        blocks[k] = b
    return blocks


class Engine:
    """The device's pipeline on the signal's own clock (ms of samples), as App.sense runs it."""

    def __init__(self, rate, accel_rate=0):
        self.rate = rate
        self.pipe = Pipeline(rate, accel_rate_hz=accel_rate)
        self.pipe.start(0)
        self.det = self.pipe.detector
        self.hrv = self.pipe.hrv
        self.samples = 0
        self.now_ms = 0

    # Native, as App.sense's loop is a coroutine whose frame is made once: a bytecode method
    # with this many locals takes its frame from the GC heap on every call, and what that
    # costs depends on where the heap's free blocks lie, which the parts stubbed out by
    # `without` move (up to 0.2 M instr/s of noise in the shares).
    @micropython.native
    def feed(self, b, accel_buf=None, accel_count=0):
        pipe = self.pipe
        self.samples += BLOCK
        self.now_ms = (self.samples * 1000) // self.rate
        pipe.feed(b, BLOCK, self.now_ms, accel_buf, accel_count)
        while pipe.next_beat():
            pass

    def metrics_due(self):
        return self.pipe.metrics_due(self.now_ms)

    def metrics(self):
        self.beats_60 = self.pipe.metrics(self.now_ms)


# Stubs with the methods' exact arity (a *args stub would allocate its tuple per call).
def _keep_flag(self, flag, age_ms, rr_ms):
    return flag


def _no_feed(self, buf, count):
    pass


def _no_window(self, now_ms, span_ms):
    return 0


def _no_coherence(self, now_ms):
    return False


def without(part):
    """Engine with one part of the pipeline stubbed out (PART: motion, window, coherence).
    The stub replaces the method in its class, for this probe process only: an attribute
    added to an instance would grow its member table and change what every other attribute
    look-up on it costs (0.06 M instr/s, measured).  The stub's own call stays in the count
    (a few hundred instructions).  Without an accelerometer none of these parts feeds back
    into the detector, so the rest runs the same: engine minus this is the part's share."""
    from soothe_fw.sense.hrv import RollingHRV
    from soothe_fw.sense.motion import MotionMeter

    if part == "motion":
        MotionMeter.feed_ppg = _no_feed
        MotionMeter.flag = _keep_flag
    elif part == "window":
        RollingHRV.window = _no_window
    elif part == "coherence":
        RollingHRV.coherence = _no_coherence
    else:
        raise ValueError("no part " + part)
    return Engine


PARTS = ("motion", "window", "coherence")


class Bio(Engine):
    """Engine plus what the biofeedback adds, at its worst: the state machine and the
    prompt coach every 5 s, a breathing session running the whole time (the pacer plan
    stepped at each of its change points, as the actuator task does) and the ui task's
    20 ms tick (button poll, LED colour)."""

    def __init__(self, rate):
        from soothe_fw.log.settings import Settings
        from soothe_fw.feedback.state import Baseline, StateMachine
        from soothe_fw.feedback.coach import Coach
        from soothe_fw.feedback.pacer import BreathPlan

        Engine.__init__(self, rate)
        s = Settings()
        self.sm = StateMachine(s, Baseline())
        self.coach = Coach(s)
        self.plan = BreathPlan(60, 4, 6, 60)
        self.brightness = s.get("led_brightness_pct")
        self.next_change = 0
        self.next_ui = 0
        self.session_ms = 0
        self.state = 0
        self.led = 0

    def feed(self, b):
        Engine.feed(self, b)
        now = self.now_ms
        plan = self.plan
        while self.next_change <= now:
            plan.at(self.next_change % 600000)  # a 10 min session, restarted
            self.next_change += plan.next_ms - (self.next_change % 600000) if plan.next_ms > 0 else 100
            self.led = (plan.glow * self.brightness) // 100
        while self.next_ui <= now:
            self.next_ui += 20
            self.led = (255 * self.brightness) // 100 if self.state == 0 else self.led

    def metrics(self):
        t = self.now_ms
        Engine.metrics(self)
        hrv = self.hrv
        self.sm.update(METRICS_MS, True, self.beats_60,
                       hrv.artefacts, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.coherence_x100, 0,
                       hrv.resonance_mhz)
        self.state = self.sm.state
        self.coach.update(t, METRICS_MS, self.state, self.sm.activity or self.sm.recovering, 12, False)


def run_engine(blocks, rate, cls=Engine):
    e = cls(rate)
    for b in blocks:
        e.feed(b)
        if e.metrics_due():
            e.metrics()
    return e


def measure_alloc(blocks, rate, cls=Engine):
    """Bytes allocated (gc disabled, mem_alloc deltas) per sample and per 5 s metrics run."""
    e = cls(rate)
    warm = len(blocks) // 4
    for b in blocks[:warm]:
        e.feed(b)
        if e.metrics_due():
            e.metrics()
    gc.collect()
    gc.disable()
    sample_bytes = 0
    metric_bytes = 0
    metric_runs = 0
    samples = 0
    for b in blocks[warm:]:
        a0 = gc.mem_alloc()
        e.feed(b)
        a1 = gc.mem_alloc()
        sample_bytes += a1 - a0
        samples += BLOCK
        if e.metrics_due():
            e.metrics()
            metric_bytes += gc.mem_alloc() - a1
            metric_runs += 1
        if gc.mem_free() < 4096:
            gc.enable()
            gc.collect()
            gc.disable()
    gc.enable()
    print("alloc %d %d %d %d" % (samples, sample_bytes, metric_runs, metric_bytes))


def measure_heap(seconds, rate):
    """Live heap (after a collection at every 5 s metrics run) while the engine runs
    through `seconds` of signal generated one block at a time, so nothing but the
    engine and its source grows.  Prints: modules, engine objects, source, peak."""
    gc.collect()
    modules = gc.mem_alloc()  # interpreter + beats, hrv, ppg_synth, this script
    # The source first: its 4 KB template wants one unfragmented run of the heap.
    g = ppg_synth.SyntheticPPG(rate, ppg_synth.parse_plan("rest:%ds" % seconds), seed=2, record_beats=False)
    b = array("i", [0] * BLOCK)
    gc.collect()
    source = gc.mem_alloc() - modules
    e = Engine(rate)
    gc.collect()
    engine = gc.mem_alloc() - modules - source
    peak = 0
    for _ in range(seconds * rate // BLOCK):
        g.fill(b, BLOCK)
        e.feed(b)
        if e.metrics_due():
            e.metrics()
            gc.collect()
            live = gc.mem_alloc()
            if live > peak:
                peak = live
    print("heap %d %d %d %d %d" % (modules, engine, source, peak, e.det.beats))


def main(argv):
    mode = argv[1]
    seconds = int(argv[2])
    rate = int(argv[3])
    if mode == "heap":
        measure_heap(seconds, rate)
        return
    import_device_modules()
    runs = {"engine": Engine, "bio": Bio}
    if mode.startswith("without-"):
        runs[mode] = without(mode[8:])
    run_mode(mode, make_blocks(seconds, rate), rate, runs, {"alloc": Engine, "alloc-bio": Bio}, "base")


def import_device_modules():
    """Imported in every callgrind mode, so compiling them is in the baseline too."""
    from soothe_fw.log import settings  # noqa: F401
    from soothe_fw.feedback import state, coach, pacer  # noqa: F401
    from soothe_fw.sense import motion  # noqa: F401


def run_mode(mode, blocks, rate, runs, allocs, base):
    """The probes' mode switch: `runs` maps a mode to the engine class it runs (callgrind),
    `allocs` one to the class whose allocations it prints; any other mode is the base line."""
    if mode in runs:
        e = run_engine(blocks, rate, runs[mode])
        print("beats %d motion %d" % (e.det.beats, getattr(e, "motion_beats", 0)))
    elif mode in allocs:
        measure_alloc(blocks, rate, allocs[mode])
    else:
        print("%s %d" % (base, len(blocks)))


if __name__ == "__main__":
    main(sys.argv)
