"""Replay a recording through the device's signal engine (BeatDetector -> RollingHRV).

Run by `soothe replay` under the `micropython` binary, so the figures are the ones
the device computes.  Output is one line per item, space separated, for the host:
  B <t_us> <rr_us> <flag>        a beat (time since the first sample, sub-sample)
  W <t_ms> <span_ms> <hr_x100> <rmssd_x10> <sdnn_x10> <pnn50_x10> <beats> <coh_x100> <res_mhz> <motion_pct>
  C <t_ms> <0|1>                 contact lost / back
  S <samples> <beats> <artefacts> <n_diff> <sum_rr_us> <sum_rr2_ms2> <sum_d2_ms2> <nn50>
  E <message>                    the recording cannot be read (exit status 1)
Window metrics come every 5 s, for the 60 s and 5 min spans, as on the device;
motion_pct is the share of the last 60 s with movement, from the signal alone
(a recording has no accelerometer), and beats inside it are flagged MOTION.
"""
import sys

from soothe_fw.compat import zeros

from soothe_fw.sense.beats import BeatDetector, OK
from soothe_sim.csvsource import CSVError, CSVSamples
from soothe_fw.sense.hrv import RollingHRV, CAPACITY_5MIN
from soothe_fw.sense.motion import MotionMeter

METRICS_MS = 5000
SPANS_MS = (60000, 300000)
BLOCK = 32


# ADC resolutions a recording may come from (PulseSensor on a 10/12-bit ADC, 16-bit
# ADCs and recorders, MAX30102 at 18 bits, 20/24-bit AFEs).
ADC_BITS = (10, 12, 14, 16, 18, 20, 24)


def adc_range(lo, hi, bits=0):
    """(adc_min, adc_max, bits) of the smallest ADC in ADC_BITS holding lo..hi (signed
    when lo < 0), or of the `bits` given; raises CSVError if lo..hi does not fit it."""
    signed = lo < 0
    if not bits:
        for bits in ADC_BITS:
            top = (1 << (bits - 1)) if signed else (1 << bits)
            if hi < top and lo >= (-top if signed else 0):
                break
    top = (1 << (bits - 1)) if signed else (1 << bits)
    if hi >= top or lo < (-top if signed else 0):
        raise CSVError("samples %d..%d do not fit %d bits: check --adc-bits (or leave it out to infer the range)" % (lo, hi, bits))
    return (-top, top - 1, bits) if signed else (0, top - 1, bits)


def flat_range_for(bits):
    """Raw range under which a 1 s window is flat (no signal): 8 counts at 12 bits, as
    on the device, twice that for every 2 bits more (64 at 18 bits, as the MAX30102)."""
    shift = (bits - 12) // 2
    return 8 << shift if shift >= 0 else max(2, 8 >> -shift)


def replay(path, rate_hz, column=None, write=print, adc_bits=0):
    """Runs the pipeline over a CSV file; calls write(line) for every output line.

    The sensor's range comes from `adc_bits`, or (0) from the data: integer counts
    take the smallest usual ADC that holds them, widened if later samples go beyond
    it; float recordings are scaled to counts with no rails to saturate against."""
    src = CSVSamples(path, column)
    infer = not adc_bits
    if src.scaled:
        adc_min, adc_max, bits = -(1 << 29), 1 << 29, 12
    else:
        head = src._head
        adc_min, adc_max, bits = adc_range(int(min(head)), int(max(head)), adc_bits)
    det = BeatDetector(rate_hz, adc_max=adc_max, flat_range=flat_range_for(bits), adc_min=adc_min)
    check = not src.scaled
    hrv = RollingHRV(CAPACITY_5MIN)  # the 5 min window is a host figure
    # A recording has no accelerometer: movement is judged from the signal.
    motion = MotionMeter(0, rate_hz, det.flat_range, adc_max)
    buf = zeros("i", BLOCK)
    samples = 0
    next_metrics_ms = METRICS_MS
    contact = False
    n_diff = 0
    sum_rr_us = 0
    sum_rr2 = 0  # ms^2, from integer-ms RR like the device
    sum_d2 = 0
    nn50 = 0
    n_ok = 0
    prev_ok_us = -1
    while True:
        count = src.fill(buf, BLOCK)
        if count == 0:
            break
        if check:
            lo = hi = buf[0]
            for k in range(1, count):
                v = buf[k]
                if v < lo:
                    lo = v
                elif v > hi:
                    hi = v
            if lo < det.adc_min or hi > det.adc_max:
                if not infer:
                    raise CSVError("%s: sample %d is outside %d bits: check --adc-bits"
                                   % (path, lo if lo < det.adc_min else hi, adc_bits))
                det.adc_min, det.adc_max, bits = adc_range(min(lo, det.adc_min), max(hi, det.adc_max))
                det.flat_range = motion.flat_range = flat_range_for(bits)
                motion.adc_max = det.adc_max
        motion.feed_ppg(buf, count)
        det.process(buf, count)
        samples += count
        while det.available():
            i = det.pop()
            pos32 = det.beat_n[i] * 32 + det.beat_off32[i]
            t_us = (pos32 * 1000000) // (32 * rate_hz)
            rr_us = det.beat_rr_us[i]
            flag = motion.flag(det.beat_flag[i], (samples * 1000) // rate_hz - t_us // 1000, (rr_us + 500) // 1000)
            ok = flag == OK
            hrv.add_beat(t_us // 1000, (rr_us + 500) // 1000, ok)
            write("B %d %d %d" % (t_us, rr_us, flag))
            if ok:
                n_ok += 1
                sum_rr_us += rr_us
                rr_ms = (rr_us + 500) // 1000
                sum_rr2 += rr_ms * rr_ms
                if prev_ok_us >= 0:
                    d = (rr_us - prev_ok_us + 500) // 1000
                    sum_d2 += d * d
                    n_diff += 1
                    if d > 50 or d < -50:
                        nn50 += 1
                prev_ok_us = rr_us
            else:
                prev_ok_us = -1
        now_ms = (samples * 1000) // rate_hz
        if det.contact != contact:
            contact = det.contact
            write("C %d %d" % (now_ms, 1 if contact else 0))
        while now_ms >= next_metrics_ms:
            if contact:
                for span in SPANS_MS:
                    beats = hrv.window(next_metrics_ms, span)
                    if span == SPANS_MS[0]:
                        hrv.coherence(next_metrics_ms)
                    write("W %d %d %d %d %d %d %d %d %d %d" % (
                        next_metrics_ms, span, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.sdnn_ms_x10,
                        hrv.pnn50_x10, beats, hrv.coherence_x100, hrv.resonance_mhz, motion.level_pct))
            next_metrics_ms += METRICS_MS
    write("S %d %d %d %d %d %d %d %d" % (samples, n_ok, det.artefacts, n_diff, sum_rr_us,
                                         sum_rr2, sum_d2, nn50))


def main(argv):
    # replay.py FILE RATE [COLUMN [ADC_BITS]]  (ADC_BITS 0: from the data)
    path = argv[1]
    rate = int(argv[2])
    column = argv[3] if len(argv) > 3 and argv[3] != "" else None
    adc_bits = int(argv[4]) if len(argv) > 4 else 0
    try:
        replay(path, rate, column, adc_bits=adc_bits)
    except CSVError as e:
        print("E %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
