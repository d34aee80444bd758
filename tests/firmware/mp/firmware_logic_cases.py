"""MicroPython-side cases of tests/firmware/test_firmware_logic.py (CPython, the 64-bit unix
port and the 32-bit port): the beat detector on synthetic PPG, HRV metrics, coherence, the
wire framing, MINUTE records, settings and CSV errors.  Run as `FILE CASE ARGS` (mpcase)."""
import math
from array import array

import mpcase
from soothe_fw.link import wire
from soothe_fw.log import records, settings
from soothe_fw.sense import beats, hrv
from soothe_sim import csvsource, ppg_synth


def run(plan, fs=100, inverted=False, seed=1, diastolic=0.4):
    """The detector on the generator's PPG -> [true beat s], [(t s, rr us, flag)], [(ms, contact)]."""
    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan(plan), seed=seed, inverted=inverted, diastolic=diastolic)
    d = beats.BeatDetector(fs)
    blk = max(1, fs // 4)
    buf = array('i', [0] * blk)
    total = g.total_ms * fs // 1000
    det = []
    contact = []
    while g.n < total:
        g.fill(buf, blk)
        d.process(buf, blk)
        contact.append((g.n * 1000 // fs, d.contact))
        while d.available():
            i = d.pop()
            det.append(((d.beat_n[i] + d.beat_off32[i] / 32) / fs, d.beat_rr_us[i], d.beat_flag[i]))
    return [b / 1e6 for b in g.beats_us], det, contact


def flat_then_weak():
    fs = 100
    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan('rest:90s'), seed=2)
    d = beats.BeatDetector(fs)
    buf = array('i', [0] * 25)
    ok = []
    while g.n < 90 * fs:
        if g.n >= 34 * fs:
            g.amplitude = 150
        g.fill(buf, 25)
        if 30 * fs <= g.n <= 34 * fs:
            for i in range(25):
                buf[i] = 2048
        d.process(buf, 25)
        while d.available():
            i = d.pop()
            if d.beat_flag[i] == 0:
                ok.append(d.beat_n[i] / fs)
    return [ok, [t / 1e6 for t in g.beats_us]]


def motion_spike():
    fs = 100
    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan('rest=60:60s'), seed=3)
    buf = array('i', [0] * 100)
    sig = []
    while g.n < 60 * fs:
        g.fill(buf, 100)
        sig.extend(buf)
    truth = [t / 1e6 for t in g.beats_us]
    spiked = []
    for j, t in enumerate(truth):
        if j % 4 == 2 and 8 < t < 58:
            c = int((t - 0.12) * fs)
            for k in range(-4, 5):
                sig[c + k] += 350 * (4 - abs(k)) // 4
            spiked.append(t)
    d = beats.BeatDetector(fs)
    det = []
    for i in range(0, len(sig), 25):
        for k in range(25):
            buf[k] = sig[i + k]
        d.process(buf, 25)
        while d.available():
            q = d.pop()
            det.append(((d.beat_n[q] + d.beat_off32[q] / 32) / fs, d.beat_flag[q]))
    return [truth, spiked, det]


def _notched_wave(t, period):
    if t < 0.25:
        return math.sin(t / 0.25 * math.pi / 2) ** 2
    if t < 0.33:
        return 1 - 0.8 * (t - 0.25) / 0.08
    if t < 0.50:
        return 0.2 + 0.1 * math.sin((t - 0.33) / 0.17 * math.pi)
    return 0.2 * (1 - (t - 0.50) / (period - 0.50))


def steep_fall():
    fs = 100
    d = beats.BeatDetector(fs)
    buf = array('i', [0] * 25)
    onsets = [0.0]
    period = 0.8
    n = 0
    det = []
    while n < 60 * fs:
        for k in range(25):
            t = n / fs
            while t >= onsets[-1] + period:
                onsets.append(onsets[-1] + period)
                period = 0.8 + 0.05 * math.sin(onsets[-1])
            buf[k] = 2000 + int(500 * _notched_wave(t - onsets[-1], period))
            n += 1
        d.process(buf, 25)
        while d.available():
            i = d.pop()
            det.append((d.beat_n[i] + d.beat_off32[i] / 32) / fs)
    lags = [min(x - o for o in onsets if o <= x) for x in det if x > 10]
    return [d.polarity, lags]


def hrv_metrics():
    h = hrv.RollingHRV()
    rr = [800, 810, 790, 850, 780, 800]
    t = 0
    for r in rr:
        t += r
        h.add_beat(t, r, True)
    h.window(t, 60000)
    return [h.beats, h.hr_bpm_x100, h.rmssd_ms_x10, h.sdnn_ms_x10, h.pnn50_x10]


def coherence_peak():
    def series(rhythmic):
        h = hrv.RollingHRV()
        g = ppg_synth.SyntheticPPG(seed=7)
        t = 0
        for k in range(120):
            if rhythmic:
                r = int(1000 + 60 * math.sin(2 * math.pi * 0.1 * t / 1000.0))
            else:
                r = int(1000 + 40 * g._gauss())
            t += r
            h.add_beat(t, r, True)
        return [h.coherence(t), h.coherence_x100, h.resonance_mhz]
    return [series(True), series(False)]


def wire_frames():
    cases = [b'', b'\x00', b'\x00' * 5, bytes(range(256)), b'\xff' * 600, bytes(253) + b'\x01']
    ok = [wire.cobs_decode(wire.cobs_encode(c)) == c for c in cases]
    nozero = [0 not in wire.cobs_encode(c) for c in cases]
    f = wire.encode(wire.GET, b'\x01\x00\x00\x00\x00\x10')
    bad = bytearray(f[:-1])
    bad[3] ^= 0x10
    try:
        wire.decode(bytes(bad))
        caught = False
    except wire.FrameError:
        caught = True
    d = wire.Deframer()
    frames = d.feed(b'junk\x00' + f + b'\x03\x03' + f)
    return [ok, nozero, caught, wire.decode(f[:-1])[0], len(frames)]


def minute_record():
    m = records.MinuteBuilder()
    m.reset(1767600000)
    for i, (rr, flag) in enumerate([(812, 0), (790, 0), (300, 1), (800, 0), (1650, 2), (805, 0)]):
        m.add(40 + i * 700, rr, flag)
    n = m.finish(4, 7412, 433, 238, 150, 101)
    buf = bytearray(1024)
    end = records.frame(buf, 0, records.MINUTE, 42, m.buf, n)
    recs = list(records.iter_records(buf[:end] + b'\xa5\x02garbage'))
    rtype, seq, payload = recs[0]
    d = records.decode_minute(payload)
    buf[10] ^= 1
    return [len(recs), seq, n, d['hr_bpm'], d['rmssd_ms'], d['state'], d['beats'], records.check(buf[:end])]


def minute_rr_coding():
    seed = [12345]

    def rnd(n):
        seed[0] = (seed[0] * 1103515245 + 12345) & 0x7FFFFFFF
        return seed[0] % n
    minutes = [[800 + rnd(41) - 20 for _ in range(75)],
               [900 + rnd(301) - 150 for _ in range(66)],
               [270, 3000, 271, 65535, 0, 1, 2999] + [rnd(3000) for _ in range(40)]]
    m = records.MinuteBuilder()
    out = []
    for i, rrs in enumerate(minutes):
        m.reset(1767600000 + 60 * i)
        k = m.k
        for j, rr in enumerate(rrs):
            m.add(10 * j, rr, 0)
        n = m.finish(3, 0, 0, 0, 0, 0)
        d = records.decode_minute(bytes(m.buf[:n]))
        out.append([k, n, [b[1] for b in d['beats']] == rrs])
    return out


def settings_range():
    s = settings.Settings()
    s.set('flush_s', '50')
    msgs = []
    for key, value in (('flush_s', '5'), ('flush_s', 'abc'), ('nope', '1')):
        try:
            s.set(key, value)
        except settings.ConfigError as e:
            msgs.append(str(e))
    return [s.get('flush_s'), msgs]


def csv_errors():
    open('/tmp/soothe-bad.csv', 'w').write('ppg\n512\n600\nabc\n')
    out = []
    try:
        s = csvsource.CSVSamples('/tmp/soothe-bad.csv')
        buf = [0] * 10
        s.fill(buf, 10)
    except csvsource.CSVError as e:
        out.append(str(e))
    open('/tmp/soothe-empty.csv', 'w').write('')
    try:
        csvsource.CSVSamples('/tmp/soothe-empty.csv')
    except csvsource.CSVError as e:
        out.append(str(e))
    return out


def coherence_cases():
    def series(seed, amp, f_hz, noise):
        h = hrv.RollingHRV()
        x = seed
        t = 0
        ts = []
        rrs = []
        for k in range(110):
            x = (x * 1103515245 + 12345) % 2147483648
            r = int(900 + amp * math.sin(2 * math.pi * f_hz * t / 1000.0) + noise * ((x >> 8) % 200 - 100) / 100)
            t += r
            h.add_beat(t, r, True)
            ts.append(t)
            rrs.append(r)
        now = t + 300
        h.coherence(now)
        return [ts, rrs, now, h.coherence_x100, h.resonance_mhz]
    return [series(s, a, f, n) for s, a, f, n in
            [(1, 60, 0.1, 10), (2, 30, 0.075, 30), (3, 5, 0.2, 40), (4, 0, 0.1, 60), (5, 80, 0.12, 0)]]


mpcase.main(globals())
