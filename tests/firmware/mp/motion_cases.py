"""MicroPython-side cases of tests/firmware/test_motion.py: the simulated accelerometer and
both motion meters (motion_feed.run), the MOTION reflagging, the motion path under a locked
heap, and the app's detector + motion path on bursts, gestures, walking and exercise.
`FILE CASE ARGS` (mpcase)."""
from array import array

import mpcase
from motion_feed import run
from soothe_fw.sense import beats, motion


def still():
    g, m, f, xyz, moved, mag = run('rest:70s,soothe:60s,stress:60s', 4, keep_from_s=0)
    return [len(xyz) // 3, mag[0], mag[1], m.level_pct, m.moving, f.level_pct, f.moving,
            sum(1 for a, b in moved if a), sum(1 for a, b in moved if b), len(g.motion_spans_us)]


def walking():
    g, m, f, xyz, moved, _ = run('rest:20s,rest/walking:70s', 6, keep_from_s=30)
    # Magnitude from 30 s on (walking since 20 s); its autocorrelation peaks at one step.
    mag = [(xyz[i] ** 2 + xyz[i + 1] ** 2 + xyz[i + 2] ** 2) ** 0.5 for i in range(0, len(xyz), 3)]
    mean = sum(mag) / len(mag)
    d = [v - mean for v in mag]

    def ac(lag):
        return sum(d[i] * d[i + lag] for i in range(len(d) - lag))
    best = max(range(9, 20), key=ac)   # lags of 0.36..0.8 s: 1.25..2.8 steps/s
    # The forearm's tilt (x axis) swings once per stride, two steps.
    x = [xyz[i] for i in range(0, len(xyz), 3)]
    mx = sum(x) / len(x)
    dx = [v - mx for v in x]
    swing = max(range(18, 40), key=lambda lag: sum(dx[i] * dx[i + lag] for i in range(len(dx) - lag)))
    return [25.0 / best, 25.0 / swing, g.movement._cad_hz, m.level_pct, m.moving,
            sum(1 for a, b in moved[:80] if a)]


def bursts_and_gestures():
    res = []
    for plan, seed in (('rest/bursts:150s', 1), ('rest/fidget:150s', 2), ('active:90s', 3)):
        g, m, f, xyz, moved, _ = run(plan, seed)
        spans = g.motion_spans_us
        hit = 0
        for a, e in spans:  # every burst: movement measured inside it
            blocks = range(a // 250000, min(len(moved), e // 250000 + 1))
            if any(moved[k][0] for k in blocks):
                hit += 1
        quiet = 0  # blocks more than 1.5 s away from any movement, measured as moving
        for k in range(len(moved)):
            t = k * 250000
            if moved[k][0] and not any(a - 1500000 <= t <= e + 1500000 for a, e in spans):
                quiet += 1
        f_hit = sum(1 for a, e in spans
                    if any(moved[k][1] for k in range(a // 250000, min(len(moved), e // 250000 + 5))))
        res.append([len(spans), hit, quiet, m.level_pct, f_hit])
    return res


def reflag():
    OK, MOTION, EXTRA, NOISE = beats.OK, beats.MOTION, beats.EXTRA, beats.NOISE
    m = motion.MotionMeter(25, 100)
    still = array('h', [0, 0, 1000] * 25)
    move = array('h', [0, 0, 1000] * 25)
    for k in range(25):
        move[3 * k] = 400 if k % 4 < 2 else -400   # 400 mg shaking along x
    for _ in range(10):
        m.feed_accel(still, 25)          # 10 s still
    r = [m.moving, m.level_pct, m.flag(OK, 300, 800), m.flag(NOISE, 300, 800)]
    m.feed_accel(move, 25)               # 1 s shaking: 10.0-11.0 s
    r += [m.moving, m.level_pct, m.flag(OK, 300, 800), m.flag(NOISE, 300, 800), m.flag(EXTRA, 300, 300)]
    m.feed_accel(still, 25)              # 12 s: within the 1 s resettling
    r.append(m.flag(OK, 300, 800))
    m.feed_accel(still, 25)              # 13 s: interval 11.9..12.7 s, from 11.6 s with its foot's look-back
    r.append(m.flag(OK, 300, 800))
    m.feed_accel(still, 25)              # 14 s: 12.9..13.7 s, after movement (~11.3 s) and 1 s resettling
    r.append(m.flag(OK, 300, 800))
    r.append(m.flag(OK, 3300, 900))      # a beat held back 3 s (a short interval waiting): 9.8..10.7 s
    for _ in range(3):
        m.feed_accel(still, 25)
    r += [m.moving, m.level_pct]
    return r


# The heap-locked path: module-level objects and function, as the app holds them (a
# MicroPython closure called with many arguments allocates).
_d = _h = _mb = _ma = _mf = None
_stats = [0, 0, 0]


def _feed(bs):
    d = _d
    h = _h
    mb = _mb
    ma = _ma
    mf = _mf
    stats = _stats
    for b, a, na in bs:
        ma.feed_accel(a, na)
        mf.feed_ppg(b, 25)
        ma.clean(b, 25)
        d.process(b, 25)
        while d.available():
            i = d.pop()
            rr = (d.beat_rr_us[i] + 500) // 1000
            age = ((d.n - d.beat_n[i]) * 32 - d.beat_off32[i]) * 1000 // 3200
            flag = ma.flag(d.beat_flag[i], age, rr)
            mf.flag(d.beat_flag[i], age, rr)
            h.add_beat(d.beat_n[i] * 10, rr, flag == 0)
            if not mb.add(d.beat_n[i] % 60000, rr, flag):
                mb.reset(0)
            stats[0] += 1
            if flag == beats.MOTION:
                stats[1] += 1
    _stats[2] = ma.level_pct


def path_allocates_nothing():
    global _d, _h, _mb, _ma, _mf
    import micropython
    from soothe_fw.log import records
    from soothe_fw.sense import hrv
    from soothe_sim import ppg_synth

    g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan('rest:30s,rest/bursts:60s,rest/walking:30s'), seed=5)
    _d = beats.BeatDetector(100)
    _h = hrv.RollingHRV()
    _mb = records.MinuteBuilder()
    _ma = motion.MotionMeter(25, 100)
    _mf = motion.MotionMeter(0, 100)
    blocks = []
    for _ in range(480):
        b = array('i', [0] * 25)
        g.fill(b, 25)
        a = array('h', [0] * 96)
        blocks.append((b, a, g.read_accel(a)))
    _feed(blocks[:80])   # 20 s warm-up
    _mb.reset(0)
    rest = blocks[80:]
    ok = False
    micropython.heap_lock()
    try:
        _feed(rest)
        ok = True
    except MemoryError:
        pass
    micropython.heap_unlock()
    return [ok] + _stats


def engine():
    from soothe_fw.sense.contact import ContactGate
    from soothe_sim import ppg_synth

    res = []
    for plan, seed in (('rest:30s,rest/bursts:150s', 21), ('rest:30s,rest/fidget:150s', 22),
                       ('rest:30s,rest/walking:60s,rest:30s', 23), ('rest:30s,active:120s', 24)):
        g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan(plan), seed=seed)
        m = motion.MotionMeter(g.accel_rate_hz, 100)
        d = beats.BeatDetector(100)
        gate = ContactGate()
        b = array('i', [0] * 25)
        ab = array('h', [0] * 96)
        measured = []  # [start, end] ms of blocks with movement, merged within 1 s
        out = []  # (t_ms, flag) as the app logs them
        for k in range(1, g.total_ms // 250 + 1):
            g.fill(b, 25)
            n = g.read_accel(ab)
            m.feed_accel(ab, n)
            m.clean(b, 25)  # as App.sense: the artefact that follows the arm, while it moves
            if m._n - m._last_move < n:
                t0 = k * 250 - 250
                if measured and t0 - measured[-1][1] <= 1000:
                    measured[-1][1] = k * 250
                else:
                    measured.append([t0, k * 250])
            d.worn = gate.moved_recently()  # as App.sense: a worn, moving wrist's upstrokes are kept
            d.process(b, 25)
            while d.available():
                i = d.pop()
                age = ((d.n - d.beat_n[i]) * 32 - d.beat_off32[i]) * 1000 // 3200
                out.append((k * 250 - age, m.flag(d.beat_flag[i], age, (d.beat_rr_us[i] + 500) // 1000)))
            gate.update(250, d.contact, d.live(), m.moving_now, d.pulse_like())
        inside = [f for t, f in out if any(a <= t <= e for a, e in measured)]
        res.append([len(measured), len(inside), inside.count(0), inside.count(6),
                    [f for t, f in out if t < 28000].count(0),
                    [f for t, f in out if t > measured[-1][1] + 5000].count(0)])
    return res



def fallback_any_block():
    """The signal-only fallback fed the same bursts as array('i'), as array('i') 3000 counts
    lower (negative samples: a 64-bit port's ptr32 load zero-extends them) and as array('h')
    (another typecode: read item by item).  Per block: movement seen; then the level."""
    from soothe_sim import ppg_synth
    g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan('rest:40s,rest/bursts:80s'), seed=5)
    ms = [motion.MotionMeter(0, 100, 8) for _ in range(3)]
    b = array('i', [0] * 25)
    low = array('i', [0] * 25)
    short = array('h', [0] * 25)
    moved = [[], [], []]
    for _ in range(g.total_ms // 250):
        g.fill(b, 25)
        for k in range(25):
            low[k] = b[k] - 3000
            short[k] = b[k]
        for m, blk, out in zip(ms, (b, low, short), moved):
            m.feed_ppg(blk, 25)
            out.append(1 if m._n - m._last_move < 25 else 0)
    return [[sum(o) for o in moved], [m.level_pct for m in ms], moved[0] == moved[1] == moved[2],
            min(low) < 0]

mpcase.main(globals())
