"""`soothe monitor`: live HR, RR, RMSSD, coherence, state and pacer phase from the device.

Turns LIVE on and turns it off again on exit or Ctrl-C, so the device stops streaming.
On a terminal: a Rich `Live` panel at most 80 columns wide with HR and RR sparklines of
the last beats and the pacer phase; otherwise one plain line (under 80 columns) per beat. LIVE is a
lease renewed every few seconds: a monitor that is killed stops it within LEASE_S.
"""
import time
from collections import deque

from soothe_fw.log import records

# state -> (terminal colour, what the LED shows); states added later fall back to the name only.
STATE_MARK = {"threat": ("red", "red LED"), "drive": ("blue", "blue LED"), "soothe": ("green", "green LED"),
              "no-reading": ("grey50", "white blink"), "unclassified": ("yellow", "LED off"),
              "balanced": ("white", "soft white LED"), "learning": ("magenta", "violet LED")}
SPARK = "▁▂▃▄▅▆▇█"
WIDTH = 78


def state_name(u):
    return records.STATE_NAMES[u["state"]] if u["state"] < len(records.STATE_NAMES) else str(u["state"])


def line(u):
    """One update in under 80 columns, e.g.
    '14:03:07 HR  64.1bpm RR  936ms RMSSD  41ms coh 0.5 soothe  pacer inhale 6.0/min'
    (RMSSD to 1 ms and coherence to 0.1 are as much as a live line needs)."""
    pacer = "pacer %s %.1f/min" % (u["pacer"], u["pacer_rate_bpm"]) if u["pacer"] != "off" else "pacer off"
    when = time.strftime("%H:%M:%S", time.localtime(u["unix_ms"] / 1000.0))
    return "%s HR %5.1fbpm RR %4dms RMSSD %3.0fms coh %3.1f %-7s %s" % (
        when, u["hr_bpm"], u["rr_ms"], u["rmssd_ms"], u["coherence"], state_name(u)[:7], pacer)


def sparkline(values, width):
    """Unicode bars for the last `width` values, scaled to their own range (at least `min_span`)."""
    vals = list(values)[-width:]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = max(hi - lo, 1e-9)
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * (len(SPARK) - 1) + 0.5))] for v in vals)


class Panel:
    """The Live panel's content: a history of beats and the latest update."""

    def __init__(self, beats=54):
        self.hr = deque(maxlen=beats)
        self.rr = deque(maxlen=beats)
        self.last = None
        self.zone = time.strftime("%Z")

    def add(self, u):
        self.last = u
        if u["rr_ms"] > 0:
            self.rr.append(u["rr_ms"])
            self.hr.append(60000.0 / u["rr_ms"])

    def render(self):
        from rich.panel import Panel as RichPanel
        from rich.text import Text

        u = self.last
        t = Text()
        if u is None:
            t.append("waiting for the first beat (is the sensor on the skin?)")
        else:
            st = state_name(u)
            colour, mark = STATE_MARK.get(st, ("white", ""))
            t.append(time.strftime("%H:%M:%S", time.localtime(u["unix_ms"] / 1000.0)) + " %s  " % self.zone)
            t.append("state ")
            t.append(st + (" (%s)" % mark if mark else ""), style="bold " + colour)
            t.append("\nHR %5.1f bpm  RR %4d ms  RMSSD %5.1f ms  coherence %4.2f"
                     % (u["hr_bpm"], u["rr_ms"], u["rmssd_ms"], u["coherence"]))
            if self.hr:
                t.append("\nHR %4.0f-%4.0f bpm " % (min(self.hr), max(self.hr)))
                t.append(sparkline(self.hr, 54), style="red")
                t.append("\nRR %4d-%4d ms  " % (min(self.rr), max(self.rr)))
                t.append(sparkline(self.rr, 54), style="cyan")
            t.append("\npacer ")
            if u["pacer"] == "off":
                t.append("off (a short press on the button starts a session)")
            else:
                arrow = "▲ inhale" if u["pacer"] == "inhale" else "▼ exhale" if u["pacer"] == "exhale" else u["pacer"]
                t.append("%s at %.1f breaths/min" % (arrow, u["pacer_rate_bpm"]), style="bold magenta")
        return RichPanel(t, title="soothe monitor · Ctrl-C to stop", width=WIDTH)


LEASE_S = 10
RENEW_S = 3


def monitor(dev, out, seconds=None, in_place=False):
    """Streams until `seconds` have passed (None: until Ctrl-C); returns the updates seen."""
    dev.live(True, LEASE_S)
    renewed = time.monotonic()
    seen = 0
    end = time.monotonic() + seconds if seconds else None
    live = None
    panel = Panel()
    if in_place:
        from rich.console import Console
        from rich.live import Live

        live = Live(panel.render(), console=Console(file=out), auto_refresh=False, transient=False)
        live.start()
    try:
        while end is None or time.monotonic() < end:
            if time.monotonic() - renewed > RENEW_S:
                dev.live(True, LEASE_S)
                renewed = time.monotonic()
            for u in dev.live_updates(0.5):
                seen += 1
                if live is not None:
                    panel.add(u)
                    live.update(panel.render(), refresh=True)
                else:
                    out.write(line(u) + "\n")
                    out.flush()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            dev.live(False)
        finally:
            if live is not None:
                live.stop()
    return seen
