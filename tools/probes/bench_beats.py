"""`soothe bench` helper: the beat detector over a synthetic plan, under MicroPython.

  bench_beats.py PLAN SEED RATE
prints: samples beats ok_beats contact_changes unclaimed (upstrokes dropped: no pulse's)
The plan text is read from the environment variable BENCH_PLAN when PLAN is '-'
(the unix port fails on arguments of 256 bytes or more)."""
import sys

from soothe_fw.compat import zeros

from soothe_fw.sense import beats
from soothe_sim import ppg_synth


def main(argv):
    plan = argv[1]
    if plan == "-":
        import os

        plan = os.getenv("BENCH_PLAN")
    seed = int(argv[2])
    rate = int(argv[3])
    g = ppg_synth.SyntheticPPG(rate_hz=rate, plan=ppg_synth.parse_plan(plan), seed=seed, record_beats=False)
    d = beats.BeatDetector(rate)
    block = max(1, rate // 4)
    buf = zeros("i", block)
    total = g.total_ms * rate // 1000
    n = 0
    n_beats = 0
    n_ok = 0
    changes = 0
    contact = False
    while n < total:
        k = block if total - n >= block else total - n
        g.fill(buf, k)
        d.process(buf, k)
        n += k
        while d.available():
            i = d.pop()
            n_beats += 1
            if d.beat_flag[i] == beats.OK:
                n_ok += 1
        if d.contact != contact:
            contact = d.contact
            changes += 1
    print(n, n_beats, n_ok, changes, d.unclaimed)


if __name__ == "__main__":
    main(sys.argv)
