"""`soothe bench` helper: contact timing through App.sense's pipeline (detector + MotionMeter with
the simulated accelerometer + ContactGate), under MicroPython.

  bench_contact.py KIND SEEDS
Plan rest:30s, KIND:20s, rest:15s per seed.  Prints per seed one line: seed, shown contact lost
(s after leaving; -1 none to lose), first OK beat emitted (s after return), shown contact back
(s after return), OK beats off the wrist ('-' where it never happened)."""
import sys
from soothe_fw.compat import zeros
from soothe_sim import ppg_synth
from soothe_fw.sense.pipeline import Pipeline
from soothe_fw.sense import beats


def run(kind, seed):
    g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan("rest:30s,%s:20s,rest:15s" % kind), seed=seed,
                               record_beats=False)
    p = Pipeline(100, accel_rate_hz=g.accel_rate_hz)
    p.start(0)
    b = zeros("i", 25)
    ab = zeros("h", 96)
    leave = 30000
    back = 50000
    lost = first_ok = shown = None
    ok_off = 0
    for k in range(1, g.total_ms // 250 + 1):
        g.fill(b, 25)
        n = g.read_accel(ab)
        now = k * 250
        p.feed(b, 25, now, ab, n)
        while p.next_beat():
            if p.flag == beats.OK:
                if leave + 500 < p.t_ms < back:
                    ok_off += 1
                if p.t_ms >= back and first_ok is None:
                    first_ok = now - back
        if now == leave and not p.contact:
            lost = -1000
        if now > leave and lost is None and not p.contact:
            lost = now - leave
        if now > back and shown is None and p.contact:
            shown = now - back
    print(seed, *["-" if v is None else v / 1000 for v in (lost, first_ok, shown)], ok_off)


for s in sys.argv[2].split(","):
    run(sys.argv[1], int(s))
