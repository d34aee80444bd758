"""Validated device configuration, stored on flash as JSON (temp file + rename).

Every key has a type, a range and a unit in its name; set() rejects an
out-of-range value with a message that says what to fix, and keeps the old value.
A word setting (type str) lists its allowed words instead of a range, and how many of
them a comma list may hold (1: exactly one word).
"""
import json
import os

PRACTICES = ("breathing", "imagery", "compassion_break", "body_scan", "safe_place")  # records.PRACTICE_NAMES

# key: (type, minimum, maximum, default); for str: (str, allowed words, most words, default)
SCHEMA = {
    "rate_hz": (int, 25, 500, 100),
    "flush_s": (int, 30, 60, 45),
    "led_brightness_pct": (int, 0, 100, 8),
    "motor_intensity_pct": (int, 10, 100, 60),
    "live_period_ms": (int, 200, 5000, 1000),
    # State thresholds against the personal baseline's calm distribution (README: a
    # heuristic, not a diagnosis).  HR distances are from its 90th/50th percentile, RMSSD
    # ratios from its 10th percentile (threat) or median (soothe).
    "threat_hr_bpm": (int, 3, 40, 10),
    "threat_rmssd_pct": (int, 30, 100, 75),
    "drive_hr_bpm": (int, 3, 40, 12),
    "activity_hr_bpm": (int, 15, 80, 40),
    "activity_motion_pct": (int, 1, 100, 20),
    "recovery_s": (int, 60, 3600, 600),
    "recovery_drop_bpm": (int, 2, 20, 4),
    "soothe_hr_bpm": (int, -10, 10, 0),
    "soothe_rmssd_pct": (int, 80, 200, 150),
    "soothe_coherence_x100": (int, 50, 1000, 150),
    "slow_breath_mhz": (int, 50, 250, 150),
    "baseline_learn_min": (int, 10, 10080, 360),
    "dwell_s": (int, 5, 300, 15),
    "threat_dwell_s": (int, 5, 600, 20),
    # Pacer and prompts.
    "pacer_rate_x10": (int, 45, 70, 60),
    "pacer_inhale": (int, 1, 10, 4),
    "pacer_exhale": (int, 1, 10, 6),
    "session_s": (int, 30, 1800, 120),
    "prompt_after_s": (int, 30, 3600, 180),
    "prompt_answer_s": (int, 10, 300, 60),
    "snooze_min": (int, 5, 240, 30),
    "prompts_per_hour": (int, 0, 6, 2),
    "quiet_start_h": (int, 0, 23, 22),
    "quiet_end_h": (int, 0, 23, 7),
    "utc_offset_min": (int, -720, 840, 0),
    # The next daylight-saving change (unix s, 0 = none known) and the offset after it;
    # `soothe sync` sets all three from the host's time zone.
    "dst_next_s": (int, 0, 4102444800, 0),
    "dst_offset_min": (int, -720, 840, 0),
    "finder_step_s": (int, 30, 300, 120),
    # Issue 19: marks and practices.  prompts: "on" (threat prompts and an offer after a
    # mark), "marks_only" (only the offer after a mark), "off" (never offered; a mark is
    # still logged).  A practice's length is its body, between its start and end cues
    # (breathing's is session_s).  The menu's order is the picking order: n presses in a
    # practice's lead-in pick its n-th entry; no press, practice_default.
    "prompts": (str, ("on", "marks_only", "off"), 1, "on"),
    "practice_default": (str, PRACTICES, 1, "breathing"),
    "practice_menu": (str, PRACTICES, len(PRACTICES), ",".join(PRACTICES)),
    "practice_imagery_s": (int, 60, 1800, 300),
    "practice_compassion_break_s": (int, 60, 1800, 180),
    "practice_body_scan_s": (int, 60, 1800, 300),
    "practice_safe_place_s": (int, 60, 1800, 300),
}


def write_json_atomic(path, value):
    """Small state that must survive a power cut: temp file + rename (atomic on littlefs)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.rename(tmp, path)


class ConfigError(ValueError):
    pass


def _coerce(key, value):
    if key not in SCHEMA:
        raise ConfigError("unknown setting %r (known: %s)" % (key, ", ".join(sorted(SCHEMA))))
    kind, lo, hi, _ = SCHEMA[key]
    if kind is str and isinstance(lo, tuple) and isinstance(hi, int):
        words = str(value).replace(" ", "").split(",")
        if not words or len(words) > hi or any(w not in lo for w in words) or len(set(words)) < len(words):
            raise ConfigError("%s must be %s of: %s" % (key, "one" if hi == 1 else "a comma list (no repeats)",
                                                        ", ".join(lo)))
        return ",".join(words)
    try:
        v = kind(value)
    except (TypeError, ValueError):
        raise ConfigError("%s must be a number from %s to %s" % (key, lo, hi))
    if not lo <= v <= hi:
        raise ConfigError("%s=%s is out of range: use %s..%s" % (key, value, lo, hi))
    return v


class Settings:
    def __init__(self, path=None):
        self.path = path
        self.values = {}
        for key in SCHEMA:
            self.values[key] = SCHEMA[key][3]

    def load(self):
        """Reads the stored config; a damaged or out-of-range entry keeps its default."""
        if not self.path:
            return self
        try:
            with open(self.path) as f:
                stored = json.load(f)
        except (OSError, ValueError):
            return self
        for key in stored:
            try:
                self.values[key] = _coerce(key, stored[key])
            except ConfigError:
                pass
        return self

    def get(self, key):
        if key not in SCHEMA:
            raise ConfigError("unknown setting %r (known: %s)" % (key, ", ".join(sorted(SCHEMA))))
        return self.values[key]

    def set(self, key, value):
        v = _coerce(key, value)
        self.values[key] = v
        self.save()
        return v

    def save(self):
        if self.path:
            write_json_atomic(self.path, self.values)
