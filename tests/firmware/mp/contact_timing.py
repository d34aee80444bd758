"""Test helper (MicroPython and CPython): App.sense's pipeline (detector + MotionMeter with the
simulated accelerometer + ContactGate) over a plan that leaves the wrist and comes back.

  contact_timing.py KIND SEEDS [MOTION]
KIND: an off-wrist plan kind; SEEDS: comma-separated; MOTION: '' or e.g. 'walking' (the wearer
moves before and while the sensor is off).  Prints one JSON list, per seed:
[seed, shown contact lost s after leaving (-1: none at leaving), first OK beat emitted s after return,
 shown contact back s after return, OK beats whose time is off the wrist, the first OK beat's
 distance to the nearest true onset in s]  (None where it never happened).
Used by tests/firmware/test_contact_timing.py."""
import sys
import json
from array import array
from soothe_sim import ppg_synth
from soothe_fw.sense.pipeline import Pipeline
from soothe_fw.sense import beats

ON_S = 30
OFF_S = 20
BACK_S = 15


def run(kind, seed, motion):
    # Moving: still for half the time on the wrist (contact first), then moving.
    mv = "/" + motion if motion else ""
    plan = "rest:%ds,rest%s:%ds,%s%s:%ds,rest:%ds" % (ON_S // 2, mv, ON_S // 2, kind, mv, OFF_S, BACK_S)
    g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan(plan), seed=seed)
    p = Pipeline(100, accel_rate_hz=g.accel_rate_hz)
    p.start(0)
    b = array("i", [0] * 25)
    ab = array("h", [0] * 96)
    leave = ON_S * 1000
    back = leave + OFF_S * 1000
    lost = first_ok = shown = None
    ok_off = 0
    dist = None
    for k in range(1, g.total_ms // 250 + 1):
        g.fill(b, 25)
        n = g.read_accel(ab)
        now = k * 250
        p.feed(b, 25, now, ab, n)
        while p.next_beat():
            if p.flag != beats.OK:
                continue
            if leave + 500 < p.t_ms < back:
                ok_off += 1
            if p.t_ms >= back and first_ok is None:
                first_ok = (now - back) / 1000
                dist = min(abs(p.t_ms * 1000 - t) for t in g.beats_us) / 1e6
        if now == leave and not p.contact:
            lost = -1  # no contact to lose
        if now > leave and lost is None and not p.contact:
            lost = (now - leave) / 1000
        if now > back and shown is None and p.contact:
            shown = (now - back) / 1000
    return [seed, lost, first_ok, shown, ok_off, dist]


kind = sys.argv[1]
motion = sys.argv[3] if len(sys.argv) > 3 else ""
print(json.dumps([run(kind, int(s), motion) for s in sys.argv[2].split(",")]))
