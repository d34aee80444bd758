"""The device's settings in words: natural names and units for `soothe config`.

The firmware's schema (firmware/soothe_fw/log/settings.py) stores integers with the unit in the key
(`pacer_rate_x10` = breaths/min x 10).  Here each key gets a description, a unit, and,
for scaled keys, a natural name (`pacer_rate`) that `config set` accepts in real units.
"""
from soothe_fw.log import settings as fw_settings

# key -> (unit, description); scaled keys (_x10, _x100) are shown divided.
DESCRIPTIONS = {
    "rate_hz": ("Hz", "pulse sensor sample rate"),
    "flush_s": ("s", "log written to flash this often"),
    "led_brightness_pct": ("%", "LED brightness"),
    "motor_intensity_pct": ("%", "vibration strength"),
    "live_period_ms": ("ms", "period of `soothe monitor` updates"),
    "threat_hr_bpm": ("bpm", "threat: HR this far above baseline"),
    "threat_rmssd_pct": ("% of baseline", "threat: RMSSD below this share"),
    "drive_hr_bpm": ("bpm", "drive: HR this far above baseline"),
    "activity_hr_bpm": ("bpm", "HR this far above baseline: activity"),
    "soothe_hr_bpm": ("bpm", "soothe: HR at most this far above"),
    "soothe_rmssd_pct": ("% of baseline", "soothe: RMSSD above this share"),
    "soothe_coherence_x100": ("", "soothe: coherence at least this"),
    "activity_motion_pct": ("%", "moving this share of a minute: activity"),
    "recovery_s": ("s", "after activity, recovery for up to this"),
    "recovery_drop_bpm": ("bpm", "recovery ends when HR falls this far"),
    "slow_breath_mhz": ("mHz", "breathing slower than this helps soothe"),
    "baseline_learn_min": ("min", "wearing needed to learn the baseline"),
    "dwell_s": ("s", "a state shows after this long"),
    "threat_dwell_s": ("s", "threat shows after this long"),
    "pacer_rate_x10": ("breaths/min", "breathing pacer rate"),
    "pacer_inhale": ("parts", "inhale share of each breath"),
    "pacer_exhale": ("parts", "exhale share of each breath"),
    "session_s": ("s", "length of a breathing session"),
    "prompt_after_s": ("s", "threat this long before a prompt"),
    "prompt_answer_s": ("s", "time to answer a prompt"),
    "snooze_min": ("min", "snooze length"),
    "prompts_per_hour": ("/h", "at most this many prompts an hour"),
    "quiet_start_h": ("h (local)", "no prompts from this hour"),
    "quiet_end_h": ("h (local)", "... until this hour"),
    "utc_offset_min": ("min", "local time offset from UTC"),
    "dst_next_s": ("s (unix)", "next daylight-saving change (sync)"),
    "dst_offset_min": ("min", "offset from UTC after that change"),
    "finder_step_s": ("s", "resonance finder: time per rate"),
    "prompts": ("", "on, marks_only (offer after a mark) or off"),
    "practice_default": ("", "practice when no press picks one"),
    "practice_menu": ("", "practices n presses pick, in order"),
    "practice_imagery_s": ("s", "compassionate-self imagery length"),
    "practice_compassion_break_s": ("s", "self-compassion break length"),
    "practice_body_scan_s": ("s", "body scan length"),
    "practice_safe_place_s": ("s", "safe-place imagery length"),
}


def scale(key):
    return 100 if key.endswith("_x100") else 10 if key.endswith("_x10") else 1


def natural(key):
    """'pacer_rate_x10' -> 'pacer_rate'; unscaled keys keep their name."""
    return key.rsplit("_x", 1)[0] if scale(key) > 1 else key


def resolve_key(name):
    """A schema key from its own name or its natural one; None when unknown."""
    if name in fw_settings.SCHEMA:
        return name
    for key in fw_settings.SCHEMA:
        if natural(key) == name:
            return key
    return None


def to_raw(key, name, text):
    """The stored integer for `text`: given under the natural name it is in real units (5.5 -> 55)."""
    if name == key or scale(key) == 1:
        return text
    try:
        value = float(text)
    except ValueError:
        raise fw_settings.ConfigError("%s must be a number, e.g. %s" % (name, "5.5" if scale(key) == 10 else "2.0"))
    raw = round(value * scale(key))
    if abs(raw - value * scale(key)) > 1e-6:
        raise fw_settings.ConfigError("%s takes steps of %s" % (name, 1.0 / scale(key)))
    _, lo, hi, _ = fw_settings.SCHEMA[key]
    if not lo <= raw <= hi:
        raise fw_settings.ConfigError("%s %s is out of range: use %s..%s %s" % (
            name, text, lo / scale(key), hi / scale(key), DESCRIPTIONS.get(key, ("",))[0]))
    return str(raw)


def show(key, raw):
    """'pacer_rate            6.0 breaths/min   breathing pacer rate (pacer_rate_x10 = 60)'."""
    unit, words = DESCRIPTIONS.get(key, ("", ""))
    sc = scale(key)
    try:
        v = int(raw)
        value = ("%.1f" % (v / sc) if sc == 10 else "%.2f" % (v / sc)) if sc > 1 else str(v)
    except (TypeError, ValueError):
        value = str(raw)
    return "%-21s %-17s %s" % (natural(key), (value + " " + unit).strip(), words)
