"""MicroPython-side cases of tests/firmware/test_ectopic.py: the generator's premature beats
(timing and pulse height) and the beat detector on them.  `FILE CASE ARGS` (mpcase)."""
from array import array

import mpcase
from soothe_fw.sense import beats, rhythm
from soothe_sim import ppg_synth


def gen(kind, per_min, plan='rest:3m', seed=41):
    g = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan(plan), seed=seed, ectopic_per_min=per_min, ectopic=kind)
    n = g.total_ms * 100 // 1000
    buf = array('i', [0] * n)
    g.fill(buf, n)
    return g, buf


def _peak(buf, a, b):
    """The pulse's height between two onsets (us)."""
    lo = min(buf[i] for i in range(a * 100 // 1000000, b * 100 // 1000000))
    return max(buf[i] for i in range(a * 100 // 1000000, b * 100 // 1000000)) - lo


def physiology():
    res = {}
    g0, b0 = gen('pvc', 0)
    g1 = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan('rest:3m'), seed=41)
    b1 = array('i', [0] * len(b0))
    g1.fill(b1, len(b1))
    res['same_when_off'] = list(b0) == list(b1) and g0.beats_us == g1.beats_us
    for kind in ('pvc', 'pac'):
        g, buf = gen(kind, 6)
        t = g.beats_us
        rows = []
        for onset, k in g.ectopics:
            j = t.index(onset)
            if j < 2 or j + 2 >= len(t):
                continue
            # Pulse height: the template peaks 16 % into the pulse; compare with the beat before.
            rows.append([t[j - 1] - t[j - 2], t[j] - t[j - 1], t[j + 1] - t[j],
                         _peak(buf, t[j], t[j + 1]), _peak(buf, t[j - 1], t[j]), k])
        res[kind] = rows
    return res


def engine(kind, plan, seed):
    g, buf = gen(kind, 6, plan, seed)
    d = beats.BeatDetector(100)
    n = len(buf)
    blk = array('i', [0] * 25)
    out = []
    i = 0
    while i < n:
        k = min(25, n - i)
        for j in range(k):
            blk[j] = buf[i + j]
        d.process(blk, k)
        i += k
        while d.available():
            h = d.pop()
            out.append([((d.beat_n[h] * 32 + d.beat_off32[h]) * 1000000) // 3200, d.beat_flag[h]])
    return {'truth': g.beats_us, 'ect': [t for t, _ in g.ectopics], 'beats': out,
            'names': list(beats.FLAG_NAMES)}


def small_early_pulse():
    out = []

    def sink(rr_us, flag, n, off32):
        out.append(flag)
        if flag == rhythm.OK:
            r.accept(rr_us)
    r = rhythm.RhythmClassifier(sink)
    pos = [0]

    def beat(ms, small=False):
        pos[0] += 1
        r.feed(ms * 1000, True, pos[0], 0, small)
    # Sinus rhythm at rest with wide beat-to-beat swings (|dRR| ~60 ms: Th ~330 ms, wider than a
    # premature beat's 20 % drop), then the same short-long pair twice: once with the detector
    # saying the short beat's pulse was small, once without; then a small pulse with no pause.
    for i in range(20):
        beat(1000 + (60 if i % 2 else -60))
    beat(800, True)
    beat(1120)
    for i in range(8):
        beat(1000 + (60 if i % 2 else -60))
    beat(800)
    beat(1120)
    for i in range(8):
        beat(1000 + (60 if i % 2 else -60))
    beat(860, True)
    beat(850)  # HR rising: no pause
    beat(870)
    return out


mpcase.main(globals())
