"""The signal pipeline: PPG samples -> beats -> HRV -> metrics, on one time base.

Input: feed(buf, count, end_ms[, accel_buf, accel_count]) per block of PPG samples, end_ms
being the device ticks (ms) at the block's end (a recording's replay passes its own sample
clock), then next_beat() until it returns False.
Output: per beat `t_ms` (ticks of its foot: its age in 1/32 samples at the block's end, so the
sub-sample fraction is kept), `age32`, `rr_us`, `rr_ms` and `flag` (MOTION where measured
movement overlapped its interval; the beat is in `hrv` already); per block `contact` (the
detector's, steadied by ContactGate) and `contact_changed`; every METRICS_MS
(metrics_due/metrics) the 60 s window and coherence in `hrv`; to_minute() puts a beat into the
open minute record, gaps written down.
Cost: the detector's and MotionMeter's per block, a few dozen operations per beat, one window
walk and one coherence FFT per 5 s; nothing allocated per call.
Used by App.sense, soothe_sim.replay, the bench probes (tools/probes) and the allocation tests.

The 5-minute window is not a device feature: nothing on the wrist shows, logs or decides on
it (the LED, the state machine, the minute record and the sessions all use 60 s, coherence
64 s), so the device's ring holds 600 beats (hrv.CAPACITY).  It is a host figure: replay
builds its pipeline with hrv.CAPACITY_5MIN and asks `hrv` for the 300 s window itself.
"""
from soothe_fw.compat import const, ticks_add, ticks_diff
from soothe_fw.sense.beats import BeatDetector, OK, EXTRA
from soothe_fw.sense.hrv import RollingHRV, CAPACITY
from soothe_fw.sense.motion import MotionMeter
from soothe_fw.sense.contact import ContactGate

try:
    import micropython
except ImportError:
    from soothe_fw.compat import mp_shim as micropython  # type: ignore[no-redef]

METRICS_MS = const(5000)  # the state, the LED and the live figures move every 5 s
WINDOW_MS = const(60000)  # the HRV window the device shows, logs and decides on
# A beat later than the last logged one plus its RR by more than this: upstrokes in
# between were left out (records.MinuteBuilder.gap).  The shortest beat is 250 ms;
# rounding of the two clocks is a few ms.
GAP_MS = const(200)
_MAX_STEP_MS = const(10000)  # a longer pause between blocks is no time the gate may count


class Pipeline:
    def __init__(self, rate_hz, adc_max=4095, flat_range=8, adc_min=0, accel_rate_hz=0, capacity=CAPACITY):
        """rate_hz, adc_min..adc_max, flat_range: the PPG sensor's (beats.BeatDetector);
        accel_rate_hz: the accelerometer's (0: none, movement is judged from the PPG);
        capacity: beats the HRV ring holds (the device's 600, or hrv.CAPACITY_5MIN)."""
        self.rate_hz = rate_hz
        self._per_ms32 = 32 * rate_hz  # 1/32 samples per second
        self.detector = BeatDetector(rate_hz, adc_max=adc_max, flat_range=flat_range, adc_min=adc_min)
        self.hrv = RollingHRV(capacity)
        self.has_accel = accel_rate_hz > 0
        self.motion = MotionMeter(accel_rate_hz, rate_hz, flat_range, adc_max)
        self.gate = ContactGate()  # the detector's contact, steadied (walks, bursts, flicker)
        self.contact = False
        self.contact_changed = False
        self.end_ms = 0  # ticks at the end of the last block
        self.metrics_ms = 0  # ticks of the last 5 s grid point reached
        self._gate_ms = 0
        self._beat_ms = 0  # time of the last beat put into a minute (not EXTRA)
        # The beat last taken by next_beat().
        self.t_ms = 0
        self.age32 = 0
        self.rr_us = 0
        self.rr_ms = 0
        self.flag = 0

    def start(self, now_ms):
        """The 5 s grid and the minute's beat clock start at ticks now_ms."""
        self.metrics_ms = now_ms
        self._beat_ms = now_ms

    @micropython.native
    def feed(self, buf, count, end_ms, accel_buf=None, accel_count=0):
        """One block of PPG samples (and, with an accelerometer, its FIFO read after it)."""
        det = self.detector
        motion = self.motion
        if self.has_accel:
            motion.feed_accel(accel_buf, accel_count)
            motion.clean(buf, count)  # while moving: the artefact that follows the arm
        else:
            motion.feed_ppg(buf, count)
        # Worn and moving (the accelerometer says so): beats no pulse claims are a moving
        # wrist's, flagged MOTION, not an empty wrist's to drop.
        det.worn = self.has_accel and self.gate.moved_recently()
        det.process(buf, count)
        self.end_ms = end_ms
        step = ticks_diff(end_ms, self._gate_ms)
        self._gate_ms = end_ms
        gate = self.gate
        self.contact_changed = gate.update(step if 0 < step < _MAX_STEP_MS else 0, det.contact, det.live(),
                                           self.has_accel and motion.moving_now, det.pulse_like())
        self.contact = gate.contact

    @micropython.native
    def next_beat(self):
        """Takes the detector's next beat into t_ms, age32, rr_us, rr_ms, flag and the HRV
        ring; False when there is none."""
        det = self.detector
        if not det.available():
            return False
        i = det.pop()
        age32 = (det.n - det.beat_n[i]) * 32 - det.beat_off32[i]
        age_ms = (age32 * 1000) // self._per_ms32
        self.age32 = age32
        self.t_ms = t_ms = ticks_add(self.end_ms, -age_ms)  # type: ignore[type-var]
        self.rr_us = rr_us = det.beat_rr_us[i]
        self.rr_ms = rr_ms = (rr_us + 500) // 1000
        # A beat inside measured motion is MOTION, never OK (nor fed to HRV as one).
        self.flag = flag = self.motion.flag(det.beat_flag[i], age_ms, rr_ms)
        self.hrv.add_beat(t_ms, rr_ms, flag == OK)
        return True

    @micropython.native
    def to_minute(self, minute, minute_ms):
        """Puts the beat into `minute` (records.MinuteBuilder, opened at ticks minute_ms).
        False: it is full, or the gap before the beat cannot be written into it: close it
        (the next one opening at t_ms) and call again."""
        t_ms = self.t_ms
        rr_ms = self.rr_ms
        if minute.count:
            # The log rebuilds beat times from the RRs: a gap (beats the detector
            # dropped) is written down, or what follows reads early.
            gap_ms = ticks_diff(t_ms, self._beat_ms) - rr_ms
            if gap_ms > GAP_MS and not minute.gap(gap_ms):
                return False
        if not minute.add(ticks_diff(t_ms, minute_ms), rr_ms, self.flag):
            return False
        if self.flag != EXTRA:  # an EXTRA beat's interval is merged into the next
            self._beat_ms = t_ms
        return True

    @micropython.native
    def metrics_due(self, now_ms):
        """True once per METRICS_MS (the grid point reached is metrics_ms)."""
        if ticks_diff(now_ms, self.metrics_ms) < METRICS_MS:
            return False
        self.metrics_ms = ticks_add(self.metrics_ms, METRICS_MS)  # type: ignore[type-var]
        return True

    @micropython.native
    def metrics(self, now_ms):
        """The 60 s window and coherence at ticks now_ms into `hrv`; returns its OK beats."""
        hrv = self.hrv
        beats = hrv.window(now_ms, WINDOW_MS)
        hrv.coherence(now_ms)
        return beats
