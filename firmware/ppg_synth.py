"""Synthetic pulse-sensor signal with a known beat sequence (ground truth).

Input: a plan of segments (HR, HRV, breathing, contact, motion) and a seed.
Output: 12-bit ADC samples at `rate_hz`, block by block, and the true beat
onsets in microseconds.  Deterministic on CPython and MicroPython alike (own
xorshift PRNG), so the same seed gives the same samples and the same device log.
Used by the simulated board and by `soothe bench` as ground truth.
Motion (the preset's last field) drives both the PPG's motion artefact and a
3-axis accelerometer stream (`read_accel`, milli-g at `accel_rate_hz`), so the
simulated board's accelerometer sees the movement that spoils the pulse.
"""
import math
from array import array

# Segment kinds a plan is written in: name -> (hr_bpm, jitter_ms, rsa_ms, breath_hz,
# contact, motion).  jitter is beat-to-beat noise in RR; rsa is the breathing swing.
PRESETS = {
    "rest": (64.0, 22.0, 25.0, 0.25, 1, 0),
    "stress": (96.0, 6.0, 4.0, 0.33, 1, 0),
    "soothe": (58.0, 30.0, 70.0, 0.1, 1, 0),
    "active": (128.0, 4.0, 3.0, 0.45, 1, 1),
    "nocontact": (64.0, 20.0, 20.0, 0.25, 0, 0),
}

_TEMPLATE_N = 1024

# Motion codes (a preset's last field) and their names in a plan ('rest/walking:5m').
STILL = 0
BURSTS = 1  # random bursts of vigorous arm movement between quiet spells
WALKING = 2  # steps at 1.6-2.0 Hz, the arm swinging once per stride
FIDGET = 3  # seated: short hand gestures, the forearm re-settling after each
MOTION_NAMES = ("still", "bursts", "walking", "fidget")
ACCEL_FIFO = 32  # samples a FIFO read returns at most (LIS2DH12 and BMA400 hold 32+)


def parse_duration_ms(text):
    """'90' or '90s' -> 90 000; '10m' -> 600 000; '2h' -> 7 200 000."""
    text = text.strip().lower()
    scale = 1000
    for suffix, mult in (("ms", 1), ("s", 1000), ("m", 60000), ("h", 3600000), ("d", 86400000)):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            scale = mult
            break
    try:
        value = float(text)
    except ValueError:
        raise ValueError("bad duration %r: use e.g. 90s, 10m, 2h" % text)
    if value < 0:
        raise ValueError("duration must not be negative")
    return int(value * scale)


def parse_plan(text):
    """'rest:10m,stress:5m' -> [(preset tuple, duration_ms), ...].

    'kind=HR' overrides the HR; 'kind/motion' the movement (MOTION_NAMES), e.g.
    'rest/walking:5m' or 'stress=90/fidget:2m'."""
    plan = []
    for part in text.split(","):
        if not part.strip():
            continue
        if ":" not in part:
            raise ValueError("plan segment %r needs kind:duration, e.g. rest:10m" % part)
        kind, dur = part.split(":", 1)
        hr = None
        motion = None
        if "/" in kind:
            kind, motion_name = kind.split("/", 1)
            motion_name = motion_name.strip()
            if motion_name not in MOTION_NAMES:
                raise ValueError("unknown motion %r in plan (use %s)" % (motion_name, ", ".join(MOTION_NAMES)))
            motion = MOTION_NAMES.index(motion_name)
        if "=" in kind:
            kind, hr_text = kind.split("=", 1)
            hr = float(hr_text)
            if not 30 <= hr <= 220:
                raise ValueError("plan HR %s out of range 30..220 bpm" % hr_text)
        kind = kind.strip()
        if kind not in PRESETS:
            raise ValueError("unknown plan kind %r (use %s)" % (kind, ", ".join(sorted(PRESETS))))
        preset = PRESETS[kind]
        if hr is not None:
            preset = (hr,) + preset[1:]
        if motion is not None:
            preset = preset[:5] + (motion,)
        plan.append((preset, parse_duration_ms(dur)))
    if not plan:
        raise ValueError("empty plan")
    return plan


DEFAULT_DAY = "rest:20m,stress:8m,rest:10m,soothe:6m,active:5m,rest:6m,nocontact:2m,rest:3m"


class SyntheticPPG:
    """Generates samples; `beats_us` collects the true onset of every beat."""

    def __init__(self, rate_hz=100, plan=None, seed=1, inverted=False, noise=6,
                 amplitude=600, record_beats=True, diastolic=0.4):
        self.rate_hz = rate_hz
        self.plan = plan if plan is not None else parse_plan(DEFAULT_DAY)
        self._state = (seed * 2654435761 + 12345) & 0xFFFFFFFF or 1
        self.inverted = inverted
        self.noise = noise
        self.amplitude = amplitude
        self.record_beats = record_beats
        self.beats_us = []
        self.n = 0
        self.total_ms = 0
        for _, dur in self.plan:
            self.total_ms += dur
        self._seg = 0
        self._seg_end_us = self.plan[0][1] * 1000
        self._hr = self.plan[0][0][0]
        # Pulse template: systolic wave and a smaller diastolic wave after the
        # dicrotic notch (two-Gaussian model, as in NeuroKit2's ppg_simulate).
        tmpl = []
        for i in range(_TEMPLATE_N):
            t = i / _TEMPLATE_N
            # Skewed systolic wave: a fast upstroke, a slower fall.
            sigma = 0.055 if t < 0.16 else 0.13
            v = math.exp(-(((t - 0.16) / sigma) ** 2)) + diastolic * math.exp(-(((t - 0.45) / 0.09) ** 2))
            tmpl.append(int(v * 1000))
        self._tmpl = tmpl
        self._active = []  # onsets (us) of beats whose pulse is still visible
        self._next_onset_us = 200000
        self._wander_phase = 0.0
        self._motion = 0.0
        self._paced = 0
        self._resonance = 55
        self._motion_init(seed)

    # --- motion: one state drives the PPG artefact and the accelerometer ---
    def _motion_init(self, seed):
        # Its own random stream, so the PPG of a still plan is the same sample for
        # sample as before motion existed (other tests' seeds keep their signals).
        self._mrng = (seed * 1103515245 + 777) & 0xFFFFFFFF or 7
        self.accel_rate_hz = 25
        self.accel_noise_mg = 3.0  # white noise per axis, then 4 mg steps (+-4 g, 12 bit)
        self.motion_spans_us = []  # truth: [start, end] of movement (when record_beats)
        self.accel_overruns = 0  # samples the FIFO lost because nobody read them in time
        self._acc_ring = array("h", bytes(2 * 3 * 64))
        self._acc_head = 0
        self._acc_count = 0
        self._acc_next_us = 0
        self._acc_sum = [0.0, 0.0, 0.0, 0]
        # Zero-g offset of this sensor (LIS2DH12: +-40 mg typical), fixed per device.
        self._acc_off = (self._mgauss() * 20.0, self._mgauss() * 20.0, self._mgauss() * 30.0)
        self._mseg = -1  # plan segment the motion parameters were drawn for
        self._mcode = STILL
        self._grav = [0.0, 0.0, 1000.0]  # gravity in the sensor frame (x along the forearm, z out of the face)
        self._target = [0.0, 0.0, 1000.0]
        self._rest_x = 0.0  # gravity along the forearm at rest: the hand's height (hydrostatic)
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
        x = self._mrng
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._mrng = x
        return x

    def _muni(self, lo, hi):
        return lo + (hi - lo) * (self._mrand() & 0xFFFF) / 65536.0

    def _mgauss(self):
        s = 0
        for _ in range(4):
            s += self._mrand() & 0xFFFF
        return (s / 65536.0 - 2.0) * 1.7320508

    def _posture(self, tilt_max):
        """A resting orientation: the face up, tilted up to tilt_max rad each way."""
        a = self._muni(-tilt_max, tilt_max)
        b = self._muni(-tilt_max, tilt_max)
        ca = math.cos(a)
        return [1000.0 * math.sin(a), 1000.0 * ca * math.sin(b), 1000.0 * ca * math.cos(b)]

    def _motion_segment(self, t_us, code):
        """Draws the movement of a new plan segment: posture, cadence, coupling."""
        self._mcode = code
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
            self._target = self._posture(0.5)
        else:
            self._target = self._posture(0.4)
            self._ev_end = t_us
            self._ev_next = t_us + int(self._muni(0.5, 4.0) * 1e6)
        self._rest_x = self._target[0]
        if self._mseg < 0:
            self._grav = list(self._target)
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
        if not self.record_beats:
            return
        spans = self.motion_spans_us
        if spans and start <= spans[-1][1]:
            if end > spans[-1][1]:
                spans[-1][1] = end
        else:
            spans.append([start, end])

    def _motion_step(self, t_us, code, seg):
        """Advances the movement to t_us; returns the PPG artefact (ADC counts).

        The arm's own acceleration and its orientation (gravity in the sensor
        frame) are what the accelerometer sums; the artefact is the contact
        pressure following that acceleration, the hand's height moving blood
        (hydrostatic), and the sensor resettling on the skin for about a second.
        """
        if seg != self._mseg:
            self._motion_segment(t_us, code)
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
            v = vals[k] + off[k] + self.accel_noise_mg * self._mgauss()
            v = int(v / 4.0 + (0.5 if v >= 0 else -0.5)) * 4  # 4 mg steps
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

    def pace(self, rate_x10, resonance_x10=55):
        """Breathe with a pacer at rate_x10 breaths/min (0 = follow the plan).

        RSA is largest at the wearer's resonance rate (default 5.5/min), as in
        Lehrer's resonance-frequency breathing; that is what the finder must find.
        """
        self._paced = rate_x10
        self._resonance = resonance_x10

    # --- randomness (xorshift32, identical on both interpreters) ---
    def _rand(self):
        x = self._state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._state = x
        return x

    def _gauss(self):
        # Irwin-Hall approximation: sum of 4 uniforms, unit variance.
        s = 0
        for _ in range(4):
            s += self._rand() & 0xFFFF
        return (s / 65536.0 - 2.0) * 1.7320508

    def segment_at(self, t_us):
        acc = 0
        for preset, dur in self.plan:
            acc += dur * 1000
            if t_us < acc:
                return preset
        return self.plan[-1][0]

    def _seg_index(self, t_us):
        acc = 0
        for i in range(len(self.plan)):
            acc += self.plan[i][1] * 1000
            if t_us < acc:
                return i
        return len(self.plan) - 1

    def _new_beat(self, onset_us):
        preset = self.segment_at(onset_us)
        hr, jitter, rsa, breath_hz, contact, motion = preset
        if self._paced:
            breath_hz = self._paced / 600.0
            dr = (self._paced - self._resonance) / 6.0
            rsa = 20.0 + 80.0 * math.exp(-dr * dr)
        # HR follows the plan with a 15 s time constant, as a real heart does.
        self._hr += (hr - self._hr) * 0.08
        t_s = onset_us / 1e6
        rr_ms = 60000.0 / self._hr + rsa * math.sin(6.2831853 * breath_hz * t_s) + jitter * self._gauss()
        if rr_ms < 260:
            rr_ms = 260.0
        if contact and self.record_beats:
            self.beats_us.append(onset_us)
        self._active.append(onset_us)
        if len(self._active) > 6:
            self._active.pop(0)
        return int(rr_ms * 1000)

    def fill(self, buf, count):
        """Writes `count` samples into buf (array or list); returns count."""
        rate = self.rate_hz
        tmpl = self._tmpl
        amp = self.amplitude
        for i in range(count):
            t_us = (self.n * 1000000) // rate
            while t_us >= self._next_onset_us:
                self._next_onset_us += self._new_beat(self._next_onset_us)
            preset = self.segment_at(t_us)
            contact = preset[4]
            art = self._motion_step(t_us, preset[5], self._seg_index(t_us))
            if not contact:
                # Sensor off the skin: ambient light only, flat with a little noise.
                v = 80 + (self._rand() & 3)
            else:
                # Pulse width shrinks at high HR (systole shortens less than diastole).
                span_us = int(min(1.0, max(0.35, 60.0 / self._hr)) * 1000000)
                p = 0
                for onset in self._active:
                    d = t_us - onset
                    if 0 <= d < span_us:
                        p += tmpl[(d * _TEMPLATE_N) // span_us]
                wander = 120.0 * math.sin(self._wander_phase)
                self._wander_phase += 6.2831853 * 0.05 / rate
                if preset[5] or art:
                    self._motion = art  # _motion_step: the same movement the accelerometer sees
                else:
                    self._motion *= 0.9
                v = 2048 + (p * amp) // 1000 + int(wander + self._motion + self.noise * self._gauss())
                if v < 0:
                    v = 0
                elif v > 4095:
                    v = 4095
            if self.inverted:
                v = 4095 - v
            buf[i] = v
            self.n += 1
        return count
