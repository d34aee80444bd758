"""Validated device configuration, stored on flash as JSON (temp file + rename).

Every key has a type, a range and a unit in its name; set() rejects an
out-of-range value with a message that says what to fix, and keeps the old value.
"""
import json
import os

# key: (type, minimum, maximum, default)
SCHEMA = {
    "rate_hz": (int, 25, 500, 100),
    "flush_s": (int, 30, 60, 45),
    "led_brightness_pct": (int, 0, 100, 8),
    "motor_intensity_pct": (int, 10, 100, 60),
    "live_period_ms": (int, 200, 5000, 1000),
}


class ConfigError(ValueError):
    pass


def _coerce(key, value):
    if key not in SCHEMA:
        raise ConfigError("unknown setting %r (known: %s)" % (key, ", ".join(sorted(SCHEMA))))
    kind, lo, hi, _ = SCHEMA[key]
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
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.values, f)
        os.rename(tmp, self.path)
