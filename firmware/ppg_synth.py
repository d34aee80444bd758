"""Synthetic pulse-sensor signal with a known beat sequence (ground truth).

Input: a plan of segments (HR, HRV, breathing, contact, motion) and a seed.
Output: 12-bit ADC samples at `rate_hz`, block by block, and the true beat
onsets in microseconds.  Deterministic on CPython and MicroPython alike (own
xorshift PRNG), so the same seed gives the same samples and the same device log.
Used by the simulated board and by `soothe bench` as ground truth.
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
    # Wearer physiology (issue 14).  breath_hz 0 means irregular, speech-paced breathing.
    "walk": (100.0, 5.0, 4.0, 0.4, 1, 2),  # brisk walk: HR +36, vagal withdrawal
    "cooldown": (64.0, 22.0, 25.0, 0.25, 1, 0),  # rest right after exercise (the decay is automatic)
    "stand": (72.0, 16.0, 16.0, 0.25, 1, 0),  # posture: standing still, baroreflex HR +8
    "talk": (69.0, 18.0, 20.0, 0.0, 1, 0),  # seated conversation: HR +5, irregular breathing
    "mild": (70.0, 6.0, 4.0, 0.3, 1, 0),  # mild stressor: HR +6, RMSSD ~9 ms
}

_TEMPLATE_N = 1024


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
    """'rest:10m,stress:5m' -> [(preset tuple, duration_ms), ...] ('name=HR' overrides HR)."""
    plan = []
    for part in text.split(","):
        if not part.strip():
            continue
        if ":" not in part:
            raise ValueError("plan segment %r needs kind:duration, e.g. rest:10m" % part)
        kind, dur = part.split(":", 1)
        hr = None
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
        plan.append((preset, parse_duration_ms(dur)))
    if not plan:
        raise ValueError("empty plan")
    return plan


DEFAULT_DAY = "rest:20m,stress:8m,rest:10m,soothe:6m,active:5m,rest:6m,nocontact:2m,rest:3m"


class SyntheticPPG:
    """Generates samples; `beats_us` collects the true onset of every beat."""

    def __init__(self, rate_hz=100, plan=None, seed=1, inverted=False, noise=6,
                 amplitude=600, record_beats=True, diastolic=0.4, day=0):
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
        # 2 KB array filled in place (an 8 KB list grown by appends fragments the heap
        # the simulated board shares with the firmware).
        tmpl = array("h", bytes(2 * _TEMPLATE_N))
        for i in range(_TEMPLATE_N):
            t = i / _TEMPLATE_N
            # Skewed systolic wave: a fast upstroke, a slower fall.
            sigma = 0.055 if t < 0.16 else 0.13
            v = math.exp(-(((t - 0.16) / sigma) ** 2)) + diastolic * math.exp(-(((t - 0.45) / 0.09) ** 2))
            tmpl[i] = int(v * 1000)
        self._tmpl = tmpl
        self._active = []  # onsets (us) of beats whose pulse is still visible
        self._next_onset_us = 200000
        self._wander_phase = 0.0
        self._motion = 0.0
        self._paced = 0
        self._resonance = 55
        # Physiology state (issue 14): the heart's HR lags its target, exercise leaves a
        # slow recovery component, breathing wanders, resting values drift day to day.
        self._seed = seed
        self._load = 0.0  # bpm of slow post-exercise excess (decays with _RECOVERY_S)
        self._breath_phase = 0.0
        self._breath_scale = 1.0
        self._last_onset_us = 0
        self._day = -1
        self._first_day = day  # which simulated day the plan starts on (resting values drift)
        self._day_hr = 0.0
        self._day_hrv = 1.0

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

    def _day_drift(self, onset_us):
        """Resting HR offset (bpm) and HRV scale of the simulated day; day 0 is nominal."""
        day = onset_us // 86400000000 + self._first_day
        if day != self._day:
            self._day = day
            if day == 0:
                self._day_hr, self._day_hrv = 0.0, 1.0
            else:
                x = ((self._seed * 7919 + day * 104729) * 2654435761) & 0xFFFFFFFF
                x ^= x >> 15
                x = (x * 2246822519) & 0xFFFFFFFF
                x ^= x >> 13
                # Day-to-day SD of resting HR ~2 bpm and of ln RMSSD ~0.1 (Plews et al. 2013).
                self._day_hr = ((x & 0xFFFF) / 65536.0 - 0.5) * 7.0
                self._day_hrv = 1.0 + (((x >> 16) & 0xFFFF) / 65536.0 - 0.5) * 0.35
        return self._day_hr, self._day_hrv

    def _new_beat(self, onset_us):
        """One RR interval: HR kinetics, vagal withdrawal with HR, varying breathing.

        HR rises towards its target with a ~12 s time constant and falls with ~25 s
        (vagal reactivation); exercise (motion > 0, HR above 90) builds a slow excess
        that decays over ~4 min after it (the two phases of HR recovery, Imai et al.
        1994).  Beat-to-beat variation shrinks while HR sits above the segment's own
        level, so a cool-down shows high HR with low HRV, as a real one does.
        """
        preset = self.segment_at(onset_us)
        hr, jitter, rsa, breath_hz, contact, motion = preset
        dt_s = (onset_us - self._last_onset_us) / 1e6 if self._last_onset_us else 0.9
        self._last_onset_us = onset_us
        day_hr, day_hrv = self._day_drift(onset_us)
        t_s = onset_us / 1e6
        # Slow within-day wander of the resting level (~1 bpm, ~23 min period).
        target = hr + day_hr + 1.0 * math.sin(t_s / 220.0 + self._seed)
        if motion and hr > 90:
            self._load += (0.25 * (hr - 64.0) - self._load) * dt_s / 240.0
        else:
            self._load -= self._load * dt_s / 240.0
        target += self._load
        tau_s = 12.0 if target > self._hr else 25.0
        self._hr += (target - self._hr) * min(1.0, dt_s / tau_s)
        # Vagal withdrawal: HRV falls with the HR excess over the segment's level.
        excess = self._hr - (hr + day_hr)
        vagal = day_hrv / (1.0 + (excess / 8.0) ** 2) if excess > 0 else day_hrv
        jitter *= vagal
        rsa *= vagal
        if self._paced:
            breath_hz = self._paced / 600.0
            dr = (self._paced - self._resonance) / 6.0
            rsa = 20.0 + 80.0 * math.exp(-dr * dr)
        elif breath_hz == 0:
            # Speech: short inhales at irregular intervals (0.15-0.4 Hz), smaller RSA.
            if (self._rand() & 15) == 0:
                self._breath_scale = 0.6 + (self._rand() & 0xFF) / 160.0
            breath_hz = 0.25 * self._breath_scale
            rsa *= 0.6
        else:
            # Spontaneous breathing wanders +-10 % around its rate.
            if (self._rand() & 31) == 0:
                self._breath_scale = 0.9 + (self._rand() & 0xFF) / 1280.0
            breath_hz *= self._breath_scale
        self._breath_phase += 6.2831853 * breath_hz * dt_s
        if self._breath_phase > 6.2831853:
            self._breath_phase -= 6.2831853
        rr_ms = 60000.0 / self._hr + rsa * math.sin(self._breath_phase) + jitter * self._gauss()
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
                if preset[5]:
                    # Motion: a random walk with bursts, larger than the pulse.
                    self._motion = 0.97 * self._motion + 90.0 * self._gauss() * (1 if (self._rand() & 7) == 0 else 0.2)
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
