"""Replay a recording through the device's signal pipeline (soothe_fw.sense.pipeline).

Run by `soothe replay` under the `micropython` binary, so the figures are the ones
the device computes.  Output is one line per item, space separated, for the host:
  B <t_us> <rr_us> <flag>        a beat (time since the first sample, sub-sample)
  W <t_ms> <span_ms> <hr_x100> <rmssd_x10> <sdnn_x10> <pnn50_x10> <beats> <coh_x100> <res_mhz> <motion_pct>
  C <t_ms> <0|1>                 contact lost / back (the detector's)
  S <samples> <beats> <artefacts> <n_diff> <sum_rr_us> <sum_rr2_ms2> <sum_d2_ms2> <nn50>
  E <message>                    the recording cannot be read (exit status 1)
Window metrics come every 5 s, for the 60 s span as on the device and the 5 min span (a
host figure: the device keeps no 5 min window, see sense/pipeline.py);
motion_pct is the share of the last 60 s with movement, from the signal alone
(a recording has no accelerometer), and beats inside it are flagged MOTION.
"""
import sys

from soothe_fw.compat import zeros

from soothe_fw.sense.beats import OK
from soothe_sim.csvsource import CSVError, CSVSamples
from soothe_fw.sense.hrv import CAPACITY_5MIN
from soothe_fw.sense.pipeline import Pipeline, WINDOW_MS

SPAN_5MIN_MS = 300000
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
    # A recording has no accelerometer: movement is judged from the signal.  The ring
    # holds 5 min of beats: the 5 min window is a host figure.
    pipe = Pipeline(rate_hz, adc_max=adc_max, flat_range=flat_range_for(bits), adc_min=adc_min,
                    capacity=CAPACITY_5MIN)
    pipe.start(0)  # the recording's own clock: ms of samples since its first
    det = pipe.detector
    hrv = pipe.hrv
    motion = pipe.motion
    check = not src.scaled
    buf = zeros("i", BLOCK)
    samples = 0
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
        samples += count
        now_ms = (samples * 1000) // rate_hz
        pipe.feed(buf, count, now_ms)
        while pipe.next_beat():
            # The beat's place in the recording to the µs, from its age in 1/32 samples.
            t_us = ((samples * 32 - pipe.age32) * 1000000) // (32 * rate_hz)
            rr_us = pipe.rr_us
            flag = pipe.flag
            ok = flag == OK
            write("B %d %d %d" % (t_us, rr_us, flag))
            if ok:
                n_ok += 1
                sum_rr_us += rr_us
                rr_ms = pipe.rr_ms
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
        # The detector's contact, not the wearer-facing ContactGate's (which holds a moving
        # wrist and delays a regain): the recording's own evidence, as replay always showed.
        if det.contact != contact:
            contact = det.contact
            write("C %d %d" % (now_ms, 1 if contact else 0))
        while pipe.metrics_due(now_ms):
            t_ms = pipe.metrics_ms  # on the 5 s grid of the recording's clock
            if contact:
                beats = pipe.metrics(t_ms)
                _window_line(write, t_ms, WINDOW_MS, hrv, beats, motion)
                beats = hrv.window(t_ms, SPAN_5MIN_MS)
                _window_line(write, t_ms, SPAN_5MIN_MS, hrv, beats, motion)
    write("S %d %d %d %d %d %d %d %d" % (samples, n_ok, det.artefacts, n_diff, sum_rr_us,
                                         sum_rr2, sum_d2, nn50))


def _window_line(write, t_ms, span_ms, hrv, beats, motion):
    write("W %d %d %d %d %d %d %d %d %d %d" % (
        t_ms, span_ms, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.sdnn_ms_x10, hrv.pnn50_x10, beats,
        hrv.coherence_x100, hrv.resonance_mhz, motion.level_pct))


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
