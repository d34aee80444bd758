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
from soothe_fw.sense.beats import BeatDetector, OK, MOTION
from bench_engine import BLOCK, Engine, run_engine, measure_alloc

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
        from soothe_fw.sense.motion import MotionMeter

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
    from soothe_fw.sense.motion import MotionMeter

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
    from soothe_fw.log import settings
    from soothe_fw.feedback import state
    from soothe_fw.feedback import coach
    from soothe_fw.feedback import pacer
    from soothe_fw.sense import motion  # noqa: F401,E401
    blocks = make_accel_blocks(seconds, rate)
    if mode == "accel":
        e = run_engine(blocks, rate, MotionEngine)
        print("beats %d motion %d" % (e.det.beats, e.motion_beats))
    elif mode == "alloc-accel":
        measure_alloc(blocks, rate, MotionEngine)
    else:
        print("base-accel %d" % len(blocks))



if __name__ == "__main__":
    motion_main(sys.argv)
