"""MicroPython-side cases of tests/sim/test_walk_contact.py: ContactGate fed (detector
contact, live, moving[, pulse-like]) steps, the state machine on a walk's flagged beats, and
the worn-and-moving path under a locked heap.  Module-level state (the gate `g`): one case
runs per process.  `FILE CASE ARGS` (mpcase)."""
from array import array

import mpcase
from soothe_fw.feedback import state
from soothe_fw.log import settings
from soothe_fw.sense import contact

g = contact.ContactGate()


def run(seq, step=250):
    # seq: [(seconds, det_contact, live, moving)]; returns [(t_s, contact)] of the changes
    out = []
    t = 0
    for secs, det, live, moving in seq:
        for _ in range(secs * 1000 // step):
            t += step
            if g.update(step, det, live, moving):
                out.append((t / 1000, g.contact))
    return out


def steady_evidence():
    return run([(1, False, True, False), (5, True, True, False), (30, True, True, False),
                (3, False, True, False), (1, False, False, False)])


def regain_storm():
    seq = [(90, True, True, False)]
    for i in range(60):
        seq.append((3 + (i % 3), False, True, False))
        seq.append((3, True, True, False))
    ch = run(seq)
    n_walk = sum(1 for t, c in ch if t > 90)
    # after it: steady again for 2 minutes, then a loss and a quick return
    ch2 = run([(120, True, True, False), (3, False, True, False), (3, True, True, False)])
    return [n_walk, len(ch), ch2]


def movement_keeps_never_makes():
    global g
    a = run([(5, True, True, False), (120, False, True, True)])  # worn, then a walk
    held = g.contact
    b = run([(12, False, True, False)])  # the walk stops, no pulse comes: lost after the grace
    g = contact.ContactGate()
    c = run([(300, False, True, True)])  # a sensor swinging off a strap: moving, live, no pulse
    d = run([(5, True, True, False), (10, False, True, True), (1, False, False, True)])  # flat while moving
    return [a, held, b, c, d]


def taken_off_as_the_walk_ends():
    global g

    def run2(seq, step=250):
        out = []
        t = 0
        for secs, det, live, moving, pulse_like in seq:
            for _ in range(secs * 1000 // step):
                t += step
                if g.update(step, det, live, moving, pulse_like):
                    out.append((t / 1000, g.contact))
        return out
    off = run2([(5, True, True, False, True), (120, False, True, True, False), (10, False, True, False, False)])
    g = contact.ContactGate()
    worn = run2([(5, True, True, False, True), (120, False, True, True, False), (6, False, True, False, True),
                 (10, True, True, False, True)])
    return [off, worn]


def pulse_now_and_then():
    global g
    walk = [(5, True, True, False)]
    for i in range(5):
        walk += [(260, False, True, True), (1, True, True, True)]
    a = run(walk)
    g = contact.ContactGate()
    b = run([(5, True, True, False), (700, False, True, True)])
    return [a, b]


def walk_states():
    s = settings.Settings()
    b = state.Baseline()
    m = state.StateMachine(s, b)

    def feed(n, contact, beats, art, hr, rmssd, motion):
        seq = []
        for _ in range(n):
            m.update(5000, contact, beats, art, hr, rmssd, 40, motion, 0)
            seq.append(m.state)
        return seq
    out = {}
    out["calm"] = feed(60, True, 64, 0, 6400, 380, 0)
    out["walk"] = feed(96, True, 0, 100, 0, 0, 100)       # 8 min: all beats MOTION
    out["cool"] = feed(120, True, 64, 0, 9000, 100, 0)    # 10 min still, HR +26, HRV low
    out["still"] = feed(6, True, 0, 100, 0, 0, 0)         # artefacts without movement
    out["off"] = feed(2, False, 0, 0, 0, 0, 100)          # no contact, moving or not
    return out


# The heap-locked path: module-level objects and function, as the app's tasks hold them
# (a MicroPython closure called with many arguments allocates).
_d = _sm = None
_res = [0, 0, 0]  # beats out, blocks done, contact changes


def _feed(bs, moving):
    d = _d
    for b in bs:
        d.worn = g.contact and moving
        d.process(b, 25)
        while d.available():
            d.pop()
            _res[0] += 1
        if g.update(250, d.contact, d.live(), moving):
            _res[2] += 1
        _res[1] += 1
        if _res[1] % 20 == 0:
            _sm.update(5000, g.contact, 0, 30, 0, 0, 0, 100)


def worn_moving_allocates_nothing():
    global _d, _sm
    import micropython
    from soothe_fw.sense import beats
    from soothe_sim import ppg_synth

    gen = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan('rest:30s,walk:90s'), seed=5)
    _d = beats.BeatDetector(100)
    _sm = state.StateMachine(settings.Settings(), state.Baseline())
    blocks = []
    for _ in range(480):
        b = array('i', [0] * 25)
        gen.fill(b, 25)
        blocks.append(b)
    _feed(blocks[:120], False)  # 30 s at rest: pulse, contact
    n0 = _res[0]
    walk = blocks[120:]
    ok = False
    micropython.heap_lock()
    try:
        _feed(walk, True)  # the walk, worn and moving
        ok = True
    except MemoryError:
        pass
    micropython.heap_unlock()
    return [ok, _res[0] - n0, g.contact, _sm.state]


mpcase.main(globals())
