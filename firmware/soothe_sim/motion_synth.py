"""Simulated movement of the wrist: the PPG's motion artefact and a 3-axis accelerometer.

Input: per PPG sample, the time, the plan segment and its motion code (ppg_synth:
still, bursts, walking, fidget).  Output: the artefact in ADC counts, and an
accelerometer FIFO (x, y, z milli-g at accel_rate_hz) read with `read_accel`.
One state drives both, so the simulated board's accelerometer sees the movement
that spoils the pulse.  Simulator only (not part of a device image).
"""
import math
from array import array

from soothe_sim.ppg_synth import STILL, BURSTS, WALKING, FIDGET, xorshift32

ACCEL_FIFO = 32  # samples a FIFO read returns at most (LIS2DH12 and BMA400 hold 32+)


class Movement:
    def __init__(self, rate_hz, amplitude, seed, t_us=0, accel_rate_hz=25, record_spans=True):
        self.rate_hz = rate_hz
        self.amplitude = amplitude
        self.record_spans = record_spans
        # Random streams of its own, none of them the PPG's: the posture and the
        # sensor from the seed; each segment's movement from (seed, segment); the
        # accelerometer's noise apart.  So the artefact depends on the seed, the
        # plan and the time only, whenever this model is made and however often
        # the accelerometer is read.
        self._seed = seed
        self._mrng = (seed * 1103515245 + 777) & 0xFFFFFFFF or 7
        self._arng = (seed * 69069 + 4242) & 0xFFFFFFFF or 9
        self.accel_rate_hz = accel_rate_hz
        # White noise per axis, then the LIS2DH12's steps in normal mode at +-4 g
        # (8 mg a digit, lis2dh12.py's setting).
        self.accel_noise_mg = 3.0
        self.accel_step_mg = 8
        self.spans_us = []  # truth: [start, end] of movement (when record_spans)
        self.accel_overruns = 0  # samples the FIFO lost because nobody read them in time
        self._acc_ring = array("h", bytes(2 * 3 * 64))
        self._acc_head = 0
        self._acc_count = 0
        self._acc_next_us = t_us
        self._acc_sum = [0.0, 0.0, 0.0, 0]
        # Zero-g offset of this sensor (LIS2DH12: +-40 mg typical), fixed per device.
        self._acc_off = (self._mgauss() * 20.0, self._mgauss() * 20.0, self._mgauss() * 30.0)
        first = self._posture(0.5)
        self._mseg = -1  # plan segment the motion parameters were drawn for
        self._mcode = STILL
        self._grav = list(first)  # gravity in the sensor frame (x along the forearm, z out of the face)
        self._target = first
        self._rest_x = first[0]  # gravity along the forearm at rest: the hand's height (hydrostatic)
        self._lin = [0.0, 0.0, 0.0]  # the arm's own acceleration, mg
        self._ev_start = 0  # current burst or gesture (us), and when the next starts
        self._ev_end = 0
        self._ev_next = 0
        self._ev_amp = 0.0
        self._ev_f = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]  # per-axis frequency (Hz) and phase
        self._cad_hz = 1.8
        self._swing = 0.35  # arm swing amplitude, rad
        self._stride_phase = 0.0  # cycles of the arm (one per two steps)
        self._impact = 0.0
        self._couple = (1.0, 0.0, 0.0)  # how the sensor's contact pressure follows acceleration
        self._gain = 1.0
        self._slow = 0.0  # slow artefact: the sensor resettling on the skin, after movement too
        self._span_open = False

    def _mrand(self):
        self._mrng = x = xorshift32(self._mrng)
        return x

    def _muni(self, lo, hi):
        return lo + (hi - lo) * (self._mrand() & 0xFFFF) / 65536.0

    def _mgauss(self):
        s = 0
        for _ in range(4):
            s += self._mrand() & 0xFFFF
        return (s / 65536.0 - 2.0) * 1.7320508

    def _agauss(self):
        """The accelerometer's noise: a stream of its own (see __init__)."""
        s = 0
        x = self._arng
        for _ in range(4):
            x = xorshift32(x)
            s += x & 0xFFFF
        self._arng = x
        return (s / 65536.0 - 2.0) * 1.7320508

    def _posture(self, tilt_max):
        """A resting orientation: the face up, tilted up to tilt_max rad each way."""
        a = self._muni(-tilt_max, tilt_max)
        b = self._muni(-tilt_max, tilt_max)
        ca = math.cos(a)
        return [1000.0 * math.sin(a), 1000.0 * ca * math.sin(b), 1000.0 * ca * math.cos(b)]

    def _motion_segment(self, t_us, code, seg):
        """Draws the movement of a new plan segment: posture, cadence, coupling."""
        self._mcode = code
        self._mrng = (self._seed * 1103515245 + 777 + (seg + 1) * 2654435761) & 0xFFFFFFFF or 7
        # Contact pressure follows the acceleration along a direction of this wearing
        # (strap tension, where the sensor sits): 1-3 pulse heights per g, so a
        # vigorous movement buries the pulse, as on a real wrist.
        ux, uy, uz = self._mgauss(), self._mgauss(), self._mgauss()
        norm = math.sqrt(ux * ux + uy * uy + uz * uz) or 1.0
        self._couple = (ux / norm, uy / norm, uz / norm)
        self._gain = self.amplitude / 1000.0 * self._muni(1.0, 3.0)
        if code == WALKING:
            self._cad_hz = self._muni(1.6, 2.0)
            self._swing = self._muni(0.25, 0.45)
            self._target = [-1000.0, self._muni(-150.0, 150.0), 0.0]  # arm hanging
        elif code == STILL:
            self._target = list(self._grav)  # keeps the posture it is in
        else:
            self._target = self._posture(0.4)
            self._ev_end = t_us
            self._ev_next = t_us + int(self._muni(0.5, 4.0) * 1e6)
        self._rest_x = self._target[0]

    def _new_event(self, t_us, code):
        """A burst (code 1) or a gesture (code 3): duration, strength, rhythm."""
        if code == BURSTS:
            dur, self._ev_amp = self._muni(1.0, 4.0), self._muni(300.0, 1200.0)
            fmin, fmax, tilt, gap = 0.8, 3.0, 0.9, (2.0, 12.0)
        else:
            dur, self._ev_amp = self._muni(0.4, 2.0), self._muni(80.0, 400.0)
            fmin, fmax, tilt, gap = 1.0, 3.0, 0.3, (2.0, 10.0)
        f = self._ev_f
        for i in range(3):
            f[i] = self._muni(fmin, fmax)
            f[i + 3] = self._muni(0.0, 6.2831853)
        self._ev_start = t_us
        self._ev_end = t_us + int(dur * 1e6)
        self._ev_next = self._ev_end + int(self._muni(gap[0], gap[1]) * 1e6)
        self._target = self._posture(tilt)
        self._span(t_us, self._ev_end)

    def _span(self, start, end):
        if not self.record_spans:
            return
        spans = self.spans_us
        if spans and start <= spans[-1][1]:
            if end > spans[-1][1]:
                spans[-1][1] = end
        else:
            spans.append([start, end])

    def step(self, t_us, code, seg):
        """Advances the movement to t_us; returns the PPG artefact (ADC counts).

        The arm's own acceleration and its orientation (gravity in the sensor
        frame) are what the accelerometer sums; the artefact is the contact
        pressure following that acceleration, the hand's height moving blood
        (hydrostatic), and the sensor resettling on the skin for about a second.
        """
        if seg != self._mseg:
            self._motion_segment(t_us, code, seg)
            self._mseg = seg
        dt = 1.0 / self.rate_hz
        lin = self._lin
        grav = self._grav
        tgt = self._target
        moving = 0.0
        if code == WALKING:
            self._span(t_us, t_us + int(dt * 1e6) + 1)
            w = 3.14159265 * self._cad_hz  # the arm swings once per two steps
            ph = 6.2831853 * self._stride_phase
            prev_steps = int(2 * self._stride_phase)
            self._stride_phase += self._cad_hz * 0.5 * dt * (1.0 + 0.002 * self._mgauss())
            theta = self._swing * math.sin(ph)
            omega = self._swing * w * math.cos(ph)
            arm_mm = 600.0  # shoulder to wrist
            # Specific force in mg (x points down the hanging forearm): tangential
            # L*theta'' along z; centripetal L*theta'^2 towards the shoulder (-x), as a
            # pendulum pulls harder at the bottom; the heel strike jolts upwards (-x).
            lin[2] = -arm_mm * self._swing * w * w * math.sin(ph) / 9.81
            lin[0] = -arm_mm * omega * omega / 9.81
            if int(2 * self._stride_phase) != prev_steps:
                self._impact = self._muni(200.0, 450.0)
            lin[0] -= self._impact
            self._impact *= math.exp(-dt / 0.03)
            grav[0] = -1000.0 * math.cos(theta)
            grav[2] = 1000.0 * math.sin(theta)
            grav[1] += (tgt[1] - grav[1]) * dt
            moving = 1.0
        elif code == BURSTS or code == FIDGET:
            if t_us >= self._ev_next:
                self._new_event(t_us, code)
            if t_us < self._ev_end:
                x = (t_us - self._ev_start) / (self._ev_end - self._ev_start)
                env = math.sin(3.14159265 * x)
                f = self._ev_f
                t_s = t_us / 1e6
                a = self._ev_amp * env
                for i in range(3):
                    lin[i] = a * math.sin(6.2831853 * f[i] * t_s + f[i + 3])
                moving = env
                k = dt / 0.3  # the forearm turns to its new orientation over ~0.3 s
            else:
                lin[0] = lin[1] = lin[2] = 0.0
                k = 0.0
            for i in range(3):
                grav[i] += (tgt[i] - grav[i]) * k
        else:
            lin[0] = lin[1] = lin[2] = 0.0
        # The accelerometer: the chip averages over its output period (anti-alias).
        acc = self._acc_sum
        if code != STILL:
            acc[0] += grav[0] + lin[0]
            acc[1] += grav[1] + lin[1]
            acc[2] += grav[2] + lin[2]
            acc[3] += 1
        if t_us >= self._acc_next_us:
            self._acc_next_us += 1000000 // self.accel_rate_hz
            if acc[3]:
                vals = (acc[0] / acc[3], acc[1] / acc[3], acc[2] / acc[3])
            else:
                vals = (grav[0], grav[1], grav[2])
            acc[0] = acc[1] = acc[2] = 0.0
            acc[3] = 0
            self._push_accel(vals)
        if moving == 0.0 and self._slow == 0.0 and code == STILL:
            return 0.0
        c = self._couple
        pressure = c[0] * lin[0] + c[1] * lin[1] + c[2] * lin[2]
        # Slow part: a random walk while moving that leaks away over ~0.7 s after.
        self._slow = self._slow * (1.0 - dt / 0.7) + moving * 50.0 * self._mgauss() * math.sqrt(dt * 100.0)
        if moving == 0.0 and -0.5 < self._slow < 0.5:
            self._slow = 0.0
        hydro = 0.4 * (grav[0] - self._rest_x)  # hand lower than at rest: more blood
        return self._gain * pressure + self._slow + hydro * self._gain

    def _push_accel(self, vals):
        ring = self._acc_ring
        if self._acc_count == 64:
            self._acc_head = (self._acc_head + 1) % 64  # overwritten before anyone read it
            self._acc_count -= 1
        i = 3 * ((self._acc_head + self._acc_count) % 64)
        off = self._acc_off
        for k in range(3):
            v = vals[k] + off[k] + self.accel_noise_mg * self._agauss()
            st = self.accel_step_mg
            v = int(v / st + (0.5 if v >= 0 else -0.5)) * st
            ring[i + k] = 4000 if v > 4000 else (-4000 if v < -4000 else v)
        self._acc_count += 1

    def read_accel(self, buf):
        """FIFO read: the samples (x, y, z mg interleaved) since the last read, up to
        ACCEL_FIFO of them and len(buf) // 3, oldest first; older ones are lost as on
        a chip's stream-mode FIFO.  Allocates nothing."""
        n = self._acc_count
        room = len(buf) // 3
        if room > ACCEL_FIFO:
            room = ACCEL_FIFO
        ring = self._acc_ring
        head = self._acc_head
        if n > room:
            self.accel_overruns += n - room
            head = (head + n - room) % 64
            n = room
        for j in range(n):
            i = 3 * ((head + j) % 64)
            buf[3 * j] = ring[i]
            buf[3 * j + 1] = ring[i + 1]
            buf[3 * j + 2] = ring[i + 2]
        self._acc_head = (head + n) % 64
        self._acc_count = 0
        return n
