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

from soothe_sim import ppg_synth
from soothe_fw.sense.beats import MOTION
from soothe_fw.sense.pipeline import Pipeline
from bench_engine import BLOCK, Engine, import_device_modules, run_mode

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
    """Engine with the accelerometer path of App.sense: MotionMeter fed with each FIFO
    read, the PPG cleaned, every beat reflagged before HRV sees it."""

    def __init__(self, rate, accel_rate=25):
        Engine.__init__(self, rate, accel_rate)
        self.motion_beats = 0

    def feed(self, block):
        b, a, na = block
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
    run_mode(mode, make_accel_blocks(seconds, rate), rate, {"accel": MotionEngine}, {"alloc-accel": MotionEngine},
             "base-accel")


if __name__ == "__main__":
    motion_main(sys.argv)
