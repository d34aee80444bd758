"""Motion probe for `soothe bench` (issue 13), run under the `micropython` binary.

  bench_motion.py base-accel|accel SECONDS RATE   callgrind pair with the accelerometer: both make
                                             PPG and accelerometer blocks; `accel` runs the engine
                                             plus MotionMeter (cancelling, reflagging) as App.sense does
  bench_motion.py alloc-accel SECONDS RATE   allocation of the same
  bench_motion.py motion-beats PLAN SEED RATE   beats of a generated plan: `A t_us flag` with the
                                             accelerometer (cleaned PPG, MOTION flags), `S t_us flag`
                                             from the signal alone; measured movement `M start_ms end_ms`
Not part of the device image (deploy leaves bench_* out).
"""
import sys
from array import array

import micropython

from soothe_fw.compat import zeros
from soothe_sim import ppg_synth
from soothe_sim.motion_synth import ACCEL_FIFO
from soothe_fw.sense.beats import MOTION
from soothe_fw.sense.pipeline import Pipeline
from bench_engine import BLOCK, Engine, import_device_modules, run_mode

ACCEL_PLAN = "rest/fidget:%ds"  # seated, hands moving now and then: both meter paths run


class AccelBlocks:
    """`seconds` of PPG blocks and, after each, the accelerometer FIFO read, made up front in
    flat arrays (a 12 min run as ~5,800 small arrays no longer fits the unix port's heap, and
    made on the fly the generator's garbage would be collected among the engine's objects).
    `copy(k, buf, abuf)` puts block k into the caller's buffers and returns the read's
    count: both modes of the callgrind pair copy, so only the engine differs."""

    def __init__(self, seconds, rate, plan=ACCEL_PLAN, seed=2):
        g = ppg_synth.SyntheticPPG(rate, ppg_synth.parse_plan(plan % seconds if "%" in plan else plan), seed=seed,
                                   record_beats=False)
        n = g.total_ms * rate // 1000 // BLOCK
        self.count = n
        # the big arrays first, while the heap has one free run for each
        self.ppg = zeros("i", n * BLOCK)
        self.acc = zeros("h", 3 * (seconds * g.accel_rate_hz + 2 * ACCEL_FIFO))
        self.acc_n = zeros("B", n)
        b = zeros("i", BLOCK)
        a = zeros("h", 3 * ACCEL_FIFO)
        j = 0
        for k in range(n):
            g.fill(b, BLOCK)
            self.ppg[k * BLOCK:(k + 1) * BLOCK] = b
            na = g.read_accel(a)
            self.acc[j:j + 3 * na] = a[:3 * na]
            self.acc_n[k] = na
            j += 3 * na
        self._k = 0
        self._j = 0

    @micropython.native
    def copy(self, k, buf, abuf):
        """Block k (in order, from 0) into buf and its FIFO read into abuf; the read's count."""
        if k == 0:
            self._j = 0
        ppg = self.ppg
        o = k * BLOCK
        for i in range(BLOCK):
            buf[i] = ppg[o + i]
        acc = self.acc
        na = self.acc_n[k]
        j = self._j
        for i in range(3 * na):
            abuf[i] = acc[j + i]
        self._j = j + 3 * na
        return na


def run_accel(mode, seconds, rate):
    """The callgrind pair: both copy every block out of AccelBlocks; `accel` also runs it
    through MotionEngine (and the 5 s metrics, as run_engine does)."""
    src = AccelBlocks(seconds, rate)
    b = zeros("i", BLOCK)
    a = zeros("h", 3 * ACCEL_FIFO)
    e = MotionEngine(rate) if mode == "accel" else None
    for k in range(src.count):
        na = src.copy(k, b, a)
        if e is not None:
            e.feed_block(b, a, na)
            if e.metrics_due():
                e.metrics()
    if e is None:
        print("%s %d" % (mode, src.count))
    else:
        print("beats %d motion %d" % (e.det.beats, e.motion_beats))


def make_accel_blocks(seconds, rate, plan=ACCEL_PLAN, seed=2):
    """PPG blocks and, after each, the accelerometer FIFO read (buffer, count): a list, for
    bench_engine.measure_alloc (the allocation mode)."""
    src = AccelBlocks(seconds, rate, plan, seed)
    blocks = []
    for k in range(src.count):
        b = zeros("i", BLOCK)
        a = zeros("h", 3 * ACCEL_FIFO)
        blocks.append((b, a, src.copy(k, b, a)))
    return blocks


class MotionEngine(Engine):
    """Engine with the accelerometer path of App.sense: MotionMeter fed with each FIFO
    read, the PPG cleaned, every beat reflagged before HRV sees it."""

    def __init__(self, rate, accel_rate=25):
        Engine.__init__(self, rate, accel_rate)
        self.motion_beats = 0

    def feed(self, block):
        self.feed_block(block[0], block[1], block[2])

    # Native, as Engine.feed (App.sense is a coroutine whose frame is made once): as bytecode
    # this frame came from the GC heap every block, and with the heap full of the made-up
    # signal each such allocation scanned it (0.87 M instr/s of gc_alloc in a 60 s run).
    @micropython.native
    def feed_block(self, b, a, na):
        pipe = self.pipe
        self.samples += BLOCK
        self.now_ms = (self.samples * 1000) // self.rate
        pipe.feed(b, BLOCK, self.now_ms, a, na)
        while pipe.next_beat():
            if pipe.flag == MOTION:
                self.motion_beats += 1


def motion_beats(plan, seed, rate):
    """Prints the beats found with the accelerometer (artefact cancelled, MOTION flags)
    and from the signal alone, then the movement the accelerometer measured (blocks
    merged within 1 s)."""
    g = ppg_synth.SyntheticPPG(rate, ppg_synth.parse_plan(plan), seed=seed, record_beats=False)
    # The device's pipeline with the accelerometer (on the cleaned block), and without (raw)
    pipes = (Pipeline(rate, accel_rate_hz=g.accel_rate_hz), Pipeline(rate))
    for p in pipes:
        p.start(0)
    with_accel = pipes[0].motion
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
        end_ms = k * blk * 1000 // rate
        pipes[0].feed(b, blk, end_ms, a, n)
        pipes[1].feed(raw, blk, end_ms)
        if with_accel._n - with_accel._last_move < n:
            start = end_ms - blk * 1000 // rate
            if measured and start - measured[-1][1] <= 1000:
                measured[-1][1] = end_ms
            else:
                measured.append([start, end_ms])
        for which in (0, 1):
            pipe = pipes[which]
            while pipe.next_beat():
                print("%s %d %d" % ("AS"[which], ((k * blk * 32 - pipe.age32) * 1000000) // (32 * rate), pipe.flag))
    for start, end in measured:
        print("M %d %d" % (start, end))


def motion_main(argv):
    mode = argv[1]
    if mode == "motion-beats":
        motion_beats(argv[2], int(argv[3]), int(argv[4]))
        return
    seconds = int(argv[2])
    rate = int(argv[3])
    import_device_modules()
    if mode in ("accel", "base-accel"):
        run_accel(mode, seconds, rate)
    else:
        run_mode(mode, make_accel_blocks(seconds, rate), rate, {}, {"alloc-accel": MotionEngine}, "base-accel")


if __name__ == "__main__":
    motion_main(sys.argv)
