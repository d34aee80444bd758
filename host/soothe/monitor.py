"""`soothe monitor`: live HR, RMSSD, coherence, state and pacer phase from the device.

Turns LIVE on, prints one line per beat (on a terminal: one line rewritten in place),
and turns LIVE off again on exit or Ctrl-C, so the device stops streaming.
"""
import time

from .fw import records

STATE_MARK = {"threat": "RED  ", "drive": "BLUE ", "soothe": "GREEN", "no-reading": "-----", "unclassified": ".....",
              "balanced": "even ", "learning": "learn"}


def line(u):
    state = records.STATE_NAMES[u["state"]] if u["state"] < len(records.STATE_NAMES) else str(u["state"])
    pacer = "pacer %s %.1f/min" % (u["pacer"], u["pacer_rate_bpm"]) if u["pacer"] != "off" else "pacer off"
    when = time.strftime("%H:%M:%S", time.localtime(u["unix_ms"] / 1000.0))
    return "%s  HR %5.1f bpm  RR %4d ms  RMSSD %5.1f ms  coherence %4.2f  state %-12s %s  %s" % (
        when, u["hr_bpm"], u["rr_ms"], u["rmssd_ms"], u["coherence"], state, STATE_MARK.get(state, ""), pacer)


def monitor(dev, out, seconds=None, in_place=False):
    """Streams until `seconds` have passed (None: until Ctrl-C); returns the updates seen."""
    dev.live(True)
    seen = 0
    end = time.monotonic() + seconds if seconds else None
    try:
        while end is None or time.monotonic() < end:
            for u in dev.live_updates(0.5):
                seen += 1
                text = line(u)
                out.write(("\r" + text + "  ") if in_place else (text + "\n"))
                out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            dev.live(False)
        finally:
            if in_place:
                out.write("\n")
    return seen
