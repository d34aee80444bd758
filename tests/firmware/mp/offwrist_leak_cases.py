"""MicroPython-side cases of tests/firmware/test_offwrist_leak.py: App.sense's pipeline
(sense/pipeline.Pipeline: detector, MotionMeter with the simulated accelerometer or from the
signal alone, ContactGate) over a worn minute then the wrist left.  `FILE CASE ARGS` (mpcase)."""
from array import array

import mpcase
from soothe_fw.sense import beats
from soothe_fw.sense.pipeline import Pipeline
from soothe_sim import ppg_synth

ON_S = 60


def worn_then_off(kind, hr, seed, off_s, accel):
    """A worn minute at hr bpm, then off_s seconds of `kind`: [OK beats after leaving (their
    feet over 0.5 s after it: the last pulse's), OK beats while worn, true beats while worn]."""
    g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan("rest=%d:%ds,%s=%d:%ds" % (hr, ON_S, kind, hr, off_s)),
                               seed=seed)
    p = Pipeline(100, accel_rate_hz=g.accel_rate_hz if accel else 0)
    p.start(0)
    b = array("i", [0] * 25)
    ab = array("h", [0] * 96)
    ok_off = ok_on = 0
    for k in range(1, g.total_ms // 250 + 1):
        g.fill(b, 25)
        if accel:
            p.feed(b, 25, k * 250, ab, g.read_accel(ab))
        else:
            p.feed(b, 25, k * 250)
        while p.next_beat():
            if p.flag == beats.OK:
                if p.t_ms > ON_S * 1000 + 500:
                    ok_off += 1
                else:
                    ok_on += 1
    return [ok_off, ok_on, len([t for t in g.beats_us if t < ON_S * 1000000])]


mpcase.main(globals())
