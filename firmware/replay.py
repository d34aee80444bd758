"""Replay a recording through the device's signal engine (BeatDetector -> RollingHRV).

Run by `soothe replay` under the `micropython` binary, so the figures are the ones
the device computes.  Output is one line per item, space separated, for the host:
  B <t_us> <rr_us> <flag>        a beat (time since the first sample, sub-sample)
  W <t_ms> <span_ms> <hr_x100> <rmssd_x10> <sdnn_x10> <pnn50_x10> <beats> <coh_x100> <res_mhz>
  C <t_ms> <0|1>                 contact lost / back
  S <samples> <beats> <artefacts> <n_diff> <sum_rr_us> <sum_rr2_ms2> <sum_d2_ms2> <nn50>
  E <message>                    the recording cannot be read (exit status 1)
Window metrics come every 5 s, for the 60 s and 5 min spans, as on the device.
"""
import sys

from compat import zeros

from beats import BeatDetector, OK
from csvsource import CSVError, CSVSamples
from hrv import RollingHRV, CAPACITY_5MIN

METRICS_MS = 5000
SPANS_MS = (60000, 300000)
BLOCK = 32


def replay(path, rate_hz, column=None, write=print, adc_max=4095, flat_range=8):
    """Runs the pipeline over a CSV file; calls write(line) for every output line."""
    src = CSVSamples(path, column)
    if src.scaled:
        adc_max = 1 << 29  # scaled floats: no ADC ceiling to saturate against
    det = BeatDetector(rate_hz, adc_max=adc_max, flat_range=flat_range)
    hrv = RollingHRV(CAPACITY_5MIN)  # the 5 min window is a host figure
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
        det.process(buf, count)
        samples += count
        while det.available():
            i = det.pop()
            pos32 = det.beat_n[i] * 32 + det.beat_off32[i]
            t_us = (pos32 * 1000000) // (32 * rate_hz)
            rr_us = det.beat_rr_us[i]
            flag = det.beat_flag[i]
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
                    write("W %d %d %d %d %d %d %d %d %d" % (
                        next_metrics_ms, span, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.sdnn_ms_x10,
                        hrv.pnn50_x10, beats, hrv.coherence_x100, hrv.resonance_mhz))
            next_metrics_ms += METRICS_MS
    write("S %d %d %d %d %d %d %d %d" % (samples, n_ok, det.artefacts, n_diff, sum_rr_us,
                                         sum_rr2, sum_d2, nn50))


def main(argv):
    # replay.py FILE RATE [COLUMN]
    path = argv[1]
    rate = int(argv[2])
    column = argv[3] if len(argv) > 3 and argv[3] != "" else None
    try:
        replay(path, rate, column)
    except CSVError as e:
        print("E %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
