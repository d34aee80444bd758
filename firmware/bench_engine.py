"""Cost probe for the signal engine, run by `soothe bench` under the `micropython` binary.

  bench_engine.py base|engine SECONDS RATE   callgrind pair: the same synthetic signal is made
                                             in both; only `engine` runs detector + HRV on it
  bench_engine.py alloc SECONDS RATE         prints bytes allocated per sample / per metrics run
Not part of the device image (deploy leaves bench_* out).
"""
import gc
import sys
from array import array

import ppg_synth
from beats import BeatDetector, OK
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
        hrv.window(self.next_ms, 60000)
        hrv.window(self.next_ms, 300000)
        hrv.coherence(self.next_ms)
        self.next_ms += METRICS_MS


def run_engine(blocks, rate):
    e = Engine(rate)
    for b in blocks:
        e.feed(b)
        if e.metrics_due():
            e.metrics()
    return e


def measure_alloc(blocks, rate):
    """Bytes allocated (gc disabled, mem_alloc deltas) per sample and per 5 s metrics run."""
    e = Engine(rate)
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


def main(argv):
    mode = argv[1]
    seconds = int(argv[2])
    rate = int(argv[3])
    blocks = make_blocks(seconds, rate)
    if mode == "engine":
        e = run_engine(blocks, rate)
        print("beats %d" % e.det.beats)
    elif mode == "alloc":
        measure_alloc(blocks, rate)
    else:
        print("base %d" % len(blocks))


if __name__ == "__main__":
    main(sys.argv)
