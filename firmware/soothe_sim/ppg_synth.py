"""Synthetic pulse-sensor signal with a known beat sequence (ground truth).

Input: a plan of segments (HR, HRV, breathing, contact, motion) and a seed.
Output: 12-bit ADC samples at `rate_hz`, block by block, and the true beat
onsets in microseconds.  Deterministic on CPython and MicroPython alike (own
xorshift PRNG), so the same seed gives the same samples and the same device log.
Used by the simulated board and by `soothe bench` as ground truth.
Motion (the preset's last field) drives both the PPG's motion artefact and a
3-axis accelerometer stream (`read_accel`, milli-g at `accel_rate_hz`; see
motion_synth.py), so the simulated board's accelerometer sees the movement that
spoils the pulse.
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
    # Realistic off-wrist signals (contact codes 2..5, see _offwrist): no pulse in any.
    "offwrist_ambient": (64.0, 20.0, 20.0, 0.25, 2, 0),
    "offwrist_dangling": (64.0, 20.0, 20.0, 0.25, 3, 0),
    "offwrist_daylight": (64.0, 20.0, 20.0, 0.25, 4, 0),
    "offwrist_table": (64.0, 20.0, 20.0, 0.25, 5, 0),
    # Wearer physiology (issue 14).  breath_hz 0 means irregular, speech-paced breathing.
    "walk": (100.0, 5.0, 4.0, 0.4, 1, 2),  # brisk walk: HR +36, vagal withdrawal
    "cooldown": (64.0, 22.0, 25.0, 0.25, 1, 0),  # rest right after exercise (the decay is automatic)
    "stand": (72.0, 16.0, 16.0, 0.25, 1, 0),  # posture: standing still, baroreflex HR +8
    "talk": (69.0, 18.0, 20.0, 0.0, 1, 0),  # seated conversation: HR +5, irregular breathing
    "mild": (70.0, 6.0, 4.0, 0.3, 1, 0),  # mild stressor: HR +6, RMSSD ~9 ms
}

# Contact codes of the preset tuple: 1 on skin, 0 flat off-wrist, 2.. the variants.
OFF_FLAT = 0
ON_SKIN = 1
OFF_AMBIENT = 2
OFF_DANGLING = 3
OFF_DAYLIGHT = 4
OFF_TABLE = 5

_TEMPLATE_N = 1024

# Motion codes (a preset's last field) and their names in a plan ('rest/walking:5m').
STILL = 0
BURSTS = 1  # random bursts of vigorous arm movement between quiet spells
WALKING = 2  # steps at 1.6-2.0 Hz, the arm swinging once per stride
FIDGET = 3  # seated: short hand gestures, the forearm re-settling after each
MOTION_NAMES = ("still", "bursts", "walking", "fidget")


def xorshift32(x):
    """The next state of a xorshift32 generator (Marsaglia 2003), a 32-bit int."""
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    return x


_DURATION_UNITS = (("ms", 1), ("s", 1000), ("m", 60000), ("h", 3600000), ("d", 86400000))


def parse_duration_ms(text):
    """'90' or '90s' -> 90 000; '10m' -> 600 000; '2h' -> 7 200 000; compound '13h30m',
    '1d2h', '1.5h'.  A bare number (seconds) only on its own."""
    src = text
    text = text.strip().lower()
    total = 0.0
    i, n, parts = 0, len(text), 0
    while i < n:
        j = i
        while j < n and (text[j].isdigit() or text[j] == "."):
            j += 1
        k = j
        while k < n and text[k].isalpha():
            k += 1
        num, unit = text[i:j], text[j:k]
        scale = 1000 if unit == "" and k == n and parts == 0 else 0
        for name, mult in _DURATION_UNITS:
            if unit == name:
                scale = mult
        try:
            value = float(num)
        except ValueError:
            value = -1.0
        if value < 0 or not scale:
            raise ValueError("bad duration %r: use e.g. 90s, 10m, 2h or 13h30m" % src.strip())
        total += value * scale
        i, parts = k, parts + 1
    if not parts:
        raise ValueError("bad duration %r: use e.g. 90s, 10m, 2h or 13h30m" % src.strip())
    return int(total)


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
                 amplitude=600, record_beats=True, diastolic=0.4, day=0, ectopic_per_min=0.0,
                 ectopic="pvc"):
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
        self._off_code = -1  # off-wrist variant being generated (-1: none)
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
        self._motion_init(seed)
        # Ectopic beats (issue 13): own module, loaded only when asked for (the simulated
        # board shares its heap with the firmware).
        self._ect = None
        self._amps = []  # pulse size of each beat in _active, 1/1024 (with ectopics only)
        self.ectopics = []  # type: list  # truth: (onset_us, 'pvc'|'pac') of each premature beat
        if ectopic_per_min:
            from soothe_sim import ppg_ectopic

            self._ect = ppg_ectopic.Ectopics(seed, ectopic_per_min, ectopic, self.ectopics)
        elif ectopic not in ("pvc", "pac", "mixed"):
            raise ValueError("ectopic kind %r: use pvc, pac or mixed" % ectopic)

    # --- motion: motion_synth.Movement drives the PPG artefact and the accelerometer ---
    def _motion_init(self, seed):
        self.accel_rate_hz = 25
        self.movement = None  # made at the first moving segment or accelerometer read
        self._accel_spans = []

    def _movement(self, t_us):
        if self.movement is None:
            from soothe_sim import motion_synth  # sim-only, loaded when movement or an accelerometer is wanted

            self.movement = motion_synth.Movement(self.rate_hz, self.amplitude, self._seed, t_us,
                                                  self.accel_rate_hz, self.record_beats)
            self._accel_spans = self.movement.spans_us
        return self.movement

    @property
    def motion_spans_us(self):
        """Truth: [start, end] us of each movement (when record_beats)."""
        return self._accel_spans

    def read_accel(self, buf):
        """The simulated accelerometer's FIFO: x, y, z mg interleaved (motion_synth)."""
        return self._movement((self.n * 1000000) // self.rate_hz).read_accel(buf)

    def pace(self, rate_x10, resonance_x10=55):
        """Breathe with a pacer at rate_x10 breaths/min (0 = follow the plan).

        RSA is largest at the wearer's resonance rate (default 5.5/min), as in
        Lehrer's resonance-frequency breathing; that is what the finder must find.
        """
        self._paced = rate_x10
        self._resonance = resonance_x10

    # --- randomness (xorshift32, identical on both interpreters) ---
    def _rand(self):
        self._state = x = xorshift32(self._state)
        return x

    def _gauss(self):
        # Irwin-Hall approximation: sum of 4 uniforms, unit variance.
        s = 0
        for _ in range(4):
            s += self._rand() & 0xFFFF
        return (s / 65536.0 - 2.0) * 1.7320508

    def _uniform(self):
        return (self._rand() & 0xFFFFFF) / 16777216.0

    def _offwrist(self, code):
        # The off-wrist scenes live in their own module, loaded only when a plan has
        # one: the simulated board shares its heap with the firmware (soak at 160k).
        from soothe_sim import ppg_offwrist

        return ppg_offwrist.sample(self, code)

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
        if self._ect is not None:
            rr_ms = self._ect.interval(self, onset_us, rr_ms, contact)
            self._amps.append(self._ect.amp)
            if len(self._amps) > 6:
                self._amps.pop(0)
        if rr_ms < 260:
            rr_ms = 260.0
        if contact == ON_SKIN and self.record_beats:
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
            mv = self.movement
            if mv is None and preset[5]:
                mv = self._movement(t_us)
            art = mv.step(t_us, preset[5], self._seg_index(t_us)) if mv is not None else 0.0
            if contact == OFF_FLAT:
                # Sensor off the skin: ambient light only, flat with a little noise.
                v = 80 + (self._rand() & 3)
            elif contact != ON_SKIN:
                v = self._offwrist(contact)
            else:
                self._off_code = -1
                # Pulse width shrinks at high HR (systole shortens less than diastole).
                span_us = int(min(1.0, max(0.35, 60.0 / self._hr)) * 1000000)
                p = 0
                if self._ect is not None:
                    amps = self._amps
                    for j in range(len(self._active)):
                        d = t_us - self._active[j]
                        if 0 <= d < span_us:
                            p += (tmpl[(d * _TEMPLATE_N) // span_us] * amps[j]) >> 10
                else:
                    for onset in self._active:
                        d = t_us - onset
                        if 0 <= d < span_us:
                            p += tmpl[(d * _TEMPLATE_N) // span_us]
                wander = 120.0 * math.sin(self._wander_phase)
                self._wander_phase += 6.2831853 * 0.05 / rate
                if preset[5] or art:
                    self._motion = art  # the same movement the accelerometer sees
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
