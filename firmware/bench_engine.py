"""Cost probe for the signal engine, run by `soothe bench` under the `micropython` binary.

  bench_engine.py base|engine SECONDS RATE   callgrind pair: the same synthetic signal is made
                                             in both; only `engine` runs detector + HRV on it
  bench_engine.py alloc SECONDS RATE         prints bytes allocated per sample / per metrics run
  bench_engine.py bio SECONDS RATE           engine + state, coach, pacer and ui tick (callgrind
                                             bio minus engine = the biofeedback's cost)
  bench_engine.py alloc-bio SECONDS RATE     allocation of the same
  bench_engine.py heap SECONDS RATE          live heap of the engine over SECONDS of signal made
                                             block by block (run from .mpy on a small heap)
  bench_engine.py base-accel|accel SECONDS RATE   callgrind pair with the accelerometer: both make
                                             PPG and accelerometer blocks; `accel` runs the engine
                                             plus MotionMeter and the reflagging, as App.sense does
  bench_engine.py alloc-accel SECONDS RATE   allocation of the same
  bench_engine.py motion-beats PLAN SEED RATE   beats of a generated plan: `A t_us flag` with the
                                             accelerometer (cleaned PPG, MOTION flags), `S t_us flag`
                                             from the signal alone; measured movement `M start_ms end_ms`
Not part of the device image (deploy leaves bench_* out).
"""
import gc
import sys
from array import array

import ppg_synth
from beats import BeatDetector, OK, MOTION
from hrv import RollingHRV

BLOCK = 25
METRICS_MS = 5000


def make_blocks(seconds, rate):
    g = ppg_synth.SyntheticPPG(rate, ppg_synth.parse_plan("rest:%ds" % seconds), seed=2)
    blocks = []
    for _ in range(seconds * rate // BLOCK):
        b = array("i", [0] * BLOCK)
        g.fill(b, BLOCK)
        blocks.append(b)
    return blocks


class Engine:
    def __init__(self, rate):
        self.rate = rate
        self.det = BeatDetector(rate)
        self.hrv = RollingHRV()
        self.next_ms = METRICS_MS

    def feed(self, b):
        det = self.det
        hrv = self.hrv
        det.process(b, BLOCK)
        while det.available():
            i = det.pop()
            t_ms = (det.beat_n[i] * 1000) // self.rate
            hrv.add_beat(t_ms, (det.beat_rr_us[i] + 500) // 1000, det.beat_flag[i] == OK)

    def metrics_due(self):
        return (self.det.n * 1000) // self.rate >= self.next_ms

    def metrics(self):
        hrv = self.hrv
        self.beats_60 = hrv.window(self.next_ms, 60000)
        hrv.window(self.next_ms, 300000)
        hrv.coherence(self.next_ms)
        self.next_ms += METRICS_MS


class Bio(Engine):
    """Engine plus what the biofeedback adds, at its worst: the state machine and the
    prompt coach every 5 s, a breathing session running the whole time (the pacer plan
    stepped at each of its change points, as the actuator task does) and the ui task's
    20 ms tick (button poll, LED colour)."""

    def __init__(self, rate):
        from settings import Settings
        from state import Baseline, StateMachine
        from coach import Coach
        from pacer import BreathPlan

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
        now = (self.det.n * 1000) // self.rate
        plan = self.plan
        while self.next_change <= now:
            plan.at(self.next_change % 600000)  # a 10 min session, restarted
            self.next_change += plan.next_ms - (self.next_change % 600000) if plan.next_ms > 0 else 100
            self.led = (plan.glow * self.brightness) // 100
        while self.next_ui <= now:
            self.next_ui += 20
            self.led = (255 * self.brightness) // 100 if self.state == 0 else self.led

    def metrics(self):
        t = self.next_ms
        Engine.metrics(self)
        hrv = self.hrv
        self.sm.update(METRICS_MS, True, self.beats_60,
                       hrv.artefacts, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.coherence_x100)
        self.state = self.sm.state
        self.coach.update(t, METRICS_MS, self.state, self.sm.activity, 12, False)


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


# ---- motion (issue 13): the accelerometer read after each PPG block -----------------
ACCEL_PLAN = "rest/fidget:%ds"  # seated, hands moving now and then: both meter paths run


def make_accel_blocks(seconds, rate, plan=ACCEL_PLAN, seed=2):
    """PPG blocks and, after each, the accelerometer FIFO read (buffer, count)."""
    g = ppg_synth.SyntheticPPG(rate, ppg_synth.parse_plan(plan % seconds if "%" in plan else plan), seed=seed)
    blocks = []
    for _ in range(g.total_ms * rate // 1000 // BLOCK):
        b = array("i", [0] * BLOCK)
        g.fill(b, BLOCK)
        a = array("h", [0] * 96)
        blocks.append((b, a, g.read_accel(a)))
    return blocks


class MotionEngine(Engine):
    """Engine plus the accelerometer path of App.sense: MotionMeter fed with each
    FIFO read, every beat reflagged before HRV sees it."""

    def __init__(self, rate, accel_rate=25):
        from motion import MotionMeter

        Engine.__init__(self, rate)
        self.motion = MotionMeter(accel_rate, rate)
        self.motion_beats = 0

    def feed(self, block):
        b, a, na = block
        det = self.det
        hrv = self.hrv
        motion = self.motion
        motion.feed_accel(a, na)
        motion.clean(b, BLOCK)
        det.process(b, BLOCK)
        while det.available():
            i = det.pop()
            age_ms = ((det.n - det.beat_n[i]) * 32 - det.beat_off32[i]) * 1000 // (32 * self.rate)
            rr_ms = (det.beat_rr_us[i] + 500) // 1000
            flag = motion.flag(det.beat_flag[i], age_ms, rr_ms)
            if flag == MOTION:
                self.motion_beats += 1
            hrv.add_beat((det.beat_n[i] * 1000) // self.rate, rr_ms, flag == OK)


def motion_beats(plan, seed, rate):
    """Prints the beats found with the accelerometer (artefact cancelled, MOTION flags)
    and from the signal alone, then the movement the accelerometer measured (blocks
    merged within 1 s)."""
    from motion import MotionMeter

    g = ppg_synth.SyntheticPPG(rate, ppg_synth.parse_plan(plan), seed=seed, record_beats=False)
    dets = (BeatDetector(rate), BeatDetector(rate))  # on the cleaned block; on the raw one
    with_accel = MotionMeter(g.accel_rate_hz, rate)
    signal_only = MotionMeter(0, rate)
    meters = (with_accel, signal_only)
    blk = max(1, rate // 4)  # 250 ms, as the simulated board reads
    b = array("i", [0] * blk)
    raw = array("i", [0] * blk)
    a = array("h", [0] * 96)
    measured = []  # type: list
    for k in range(1, g.total_ms * rate // 1000 // blk + 1):
        g.fill(b, blk)
        for j in range(blk):
            raw[j] = b[j]
        n = g.read_accel(a)
        with_accel.feed_accel(a, n)
        with_accel.clean(b, blk)
        signal_only.feed_ppg(raw, blk)
        end_ms = k * blk * 1000 // rate
        if with_accel._n - with_accel._last_move < n:
            start = end_ms - blk * 1000 // rate
            if measured and start - measured[-1][1] <= 1000:
                measured[-1][1] = end_ms
            else:
                measured.append([start, end_ms])
        for which in (0, 1):
            det = dets[which]
            det.process(b if which == 0 else raw, blk)
            while det.available():
                i = det.pop()
                pos32 = det.beat_n[i] * 32 + det.beat_off32[i]
                age_ms = (det.n * 32 - pos32) * 1000 // (32 * rate)
                rr_ms = (det.beat_rr_us[i] + 500) // 1000
                print("%s %d %d" % ("AS"[which], (pos32 * 1000000) // (32 * rate),
                                    meters[which].flag(det.beat_flag[i], age_ms, rr_ms)))
    for start, end in measured:
        print("M %d %d" % (start, end))


def motion_main(argv):
    mode = argv[1]
    if mode == "motion-beats":
        motion_beats(argv[2], int(argv[3]), int(argv[4]))
        return
    seconds = int(argv[2])
    rate = int(argv[3])
    import settings, state, coach, pacer, motion  # noqa: F401,E401
    blocks = make_accel_blocks(seconds, rate)
    if mode == "accel":
        e = run_engine(blocks, rate, MotionEngine)
        print("beats %d motion %d" % (e.det.beats, e.motion_beats))
    elif mode == "alloc-accel":
        measure_alloc(blocks, rate, MotionEngine)
    else:
        print("base-accel %d" % len(blocks))


def main(argv):
    mode = argv[1]
    if mode in ("base-accel", "accel", "alloc-accel", "motion-beats"):
        motion_main(argv)
        return
    seconds = int(argv[2])
    rate = int(argv[3])
    if mode == "heap":
        measure_heap(seconds, rate)
        return
    # Imported in every callgrind mode, so compiling them is in the baseline too.
    import settings, state, coach, pacer  # noqa: F401,E401

    blocks = make_blocks(seconds, rate)
    if mode in ("engine", "bio"):
        e = run_engine(blocks, rate, Bio if mode == "bio" else Engine)
        print("beats %d" % e.det.beats)
    elif mode == "alloc":
        measure_alloc(blocks, rate)
    elif mode == "alloc-bio":
        measure_alloc(blocks, rate, Bio)
    else:
        print("base %d" % len(blocks))


if __name__ == "__main__":
    main(sys.argv)
