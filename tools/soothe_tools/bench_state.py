"""`soothe bench --only state`: is the LED right on simulated days with known segments?

Runs the firmware's own stages in this process (ppg_synth -> BeatDetector -> RollingHRV
-> StateMachine -> Coach, every 5 s as firmware/soothe_fw/app.py's metrics step does) over plans
and seeds, and prints per segment type the share of each state after its first 2 min
and the latency to the right state; prompts per calm day; prompts during activity and
within 10 min after it; and how long the baseline takes to converge for resting HR 50,
65 and 85.  The end-to-end tests check the same behaviour through the simulator.
"""
import sys
import time


from soothe_sim import ppg_synth  # noqa: E402
from array import array  # noqa: E402
from soothe_fw.sense.beats import BeatDetector, OK  # noqa: E402
from soothe_fw.sense.contact import ContactGate  # noqa: E402
from soothe_fw.sense.hrv import RollingHRV  # noqa: E402
from soothe_fw.log.settings import Settings  # noqa: E402
from soothe_fw.feedback import state as st  # noqa: E402
from soothe_fw.feedback.coach import Coach, OFFER  # noqa: E402
from soothe_fw.log.records import STATE_NAMES  # noqa: E402

BLOCK = 25
STEP_MS = 5000
# The state each segment type should show (None: no expectation, only counted).
EXPECT = {"stress": "threat", "soothe": "soothe", "rest": "calm", "cooldown": "calm", "stand": "calm",
          "talk": "calm", "mild": None, "walk": "drive", "active": "drive", "nocontact": "no-reading"}
CALM = ("balanced", "learning")


def plan_kinds(text):
    """[(kind, duration_ms)] of a plan, in order."""
    out = []
    for part in text.split(","):
        if part.strip():
            kind, dur = part.split(":", 1)
            out.append((kind.split("=")[0].strip(), ppg_synth.parse_duration_ms(dur)))
    return out


def run_day(plan, seed=1, rate=100, baseline=None, motion=None, settings=None, day=0):
    """Steps of (t_s, segment index, state name, offered) for one simulated plan.

    motion: a function (kind) -> motion_pct standing in for MotionMeter (None: 0, as a
    board without an accelerometer gives until issue 13's meter is merged)."""
    kinds = plan_kinds(plan)
    gen = ppg_synth.SyntheticPPG(rate, ppg_synth.parse_plan(plan), seed=seed, record_beats=False, day=day)
    det = BeatDetector(rate)
    hrv = RollingHRV()
    s = settings or Settings()
    base = baseline or st.Baseline()
    sm = st.StateMachine(s, base)
    coach = Coach(s)
    buf = array("i", [0] * BLOCK)
    bounds = []
    acc = 0
    for _, dur in kinds:
        acc += dur
        bounds.append(acc)
    total = acc
    steps = []
    next_ms = STEP_MS
    was_contact = False
    gate = ContactGate()  # the contact the app shows (contact.py)
    n = 0
    seg = 0
    while n * 1000 // rate < total:
        gen.fill(buf, BLOCK)
        n += BLOCK
        # As App.sense: the accelerometer's movement (here the plan's) keeps a worn wrist worn.
        moving = bool(motion) and motion(kinds[seg][0]) > 0
        det.worn = gate.moved_recently()
        det.process(buf, BLOCK)
        while det.available():
            i = det.pop()
            hrv.add_beat((det.beat_n[i] * 1000) // rate, (det.beat_rr_us[i] + 500) // 1000, det.beat_flag[i] == OK)
        now = n * 1000 // rate
        gate.update(BLOCK * 1000 // rate, det.contact, det.live(), moving)
        if was_contact and not gate.contact:
            sm.lose_contact()
        was_contact = gate.contact
        if now >= next_ms:
            next_ms += STEP_MS
            while seg < len(bounds) - 1 and now >= bounds[seg]:
                seg += 1
            beats = hrv.window(now, 60000)
            hrv.coherence(now)
            mpct = motion(kinds[seg][0]) if motion else 0
            sm.update(STEP_MS, gate.contact, beats, hrv.artefacts, hrv.hr_bpm_x100, hrv.rmssd_ms_x10,
                      hrv.coherence_x100, mpct, hrv.resonance_mhz)
            threat_now = st.THREAT if sm.state == st.THREAT and sm.evidence == st.THREAT else 0
            a = coach.update(now, STEP_MS, threat_now, sm.activity or sm.recovering, 12, False)
            steps.append((now / 1000.0, seg, STATE_NAMES[sm.state], a == OFFER))
    return kinds, steps, base


def segment_figures(kinds, steps):
    """Per segment: (kind, share of each state after 2 min, latency to its expected state s)."""
    out = []
    start = 0.0
    for k, (kind, dur) in enumerate(kinds):
        mine = [x for x in steps if x[1] == k]
        after = [x[2] for x in mine if x[0] - start >= 120]
        shares = {}
        for name in after:
            shares[name] = shares.get(name, 0) + 1
        for name in shares:
            shares[name] /= len(after)
        want = EXPECT.get(kind)
        latency = None
        for x in mine:
            if (want == "calm" and x[2] in CALM) or x[2] == want:
                latency = x[0] - start
                break
        out.append((kind, shares, latency))
        start += dur / 1000.0
    return out


def _share(shares, want):
    if want == "calm":
        return sum(shares.get(n, 0) for n in CALM)
    return shares.get(want, 0)


def walk_motion(kind):
    return 80 if kind in ("walk", "active") else 0


PLANS = [
    ("mixed day", "rest:20m,stress:8m,rest:10m,soothe:6m,walk:8m,cooldown:10m,stress:6m,soothe:6m,nocontact:2m,"
     "soothe:6m,talk:8m,stand:6m,rest:6m"),
    ("mild then stress", "rest:15m,mild:10m,rest:10m,stress:6m,rest:8m"),
    ("stress into soothe", "rest:10m,stress:6m,soothe:8m,stress:5m,rest:10m"),
]


def bench_state(out, quick=False):
    seeds = (1, 2) if quick else (1, 2, 3)
    rows = {}
    prompts_active = 0
    active_min = 0
    clears = []
    late_prompts = []
    out.write("  plans: %s; seeds %s; 5 s steps; no accelerometer unless said\n"
              % ("; ".join(n for n, _ in PLANS), ",".join(map(str, seeds))))
    for motion_name, motion in (("no accelerometer", None), ("accelerometer", walk_motion)):
        for name, plan in PLANS:
            for seed in seeds:
                kinds, steps, _ = run_day(plan, seed=seed, motion=motion)
                for kind, shares, latency in segment_figures(kinds, steps):
                    key = (motion_name, kind)
                    rows.setdefault(key, []).append((shares, latency))
                # Threat clearing after stress, and prompts after threat ended.
                start = 0.0
                for k, (kind, dur) in enumerate(kinds):
                    end = start + dur / 1000.0
                    if kind == "stress":
                        clear = next((x[0] for x in steps if x[0] >= end and x[2] != "threat"), None)
                        if clear is not None:
                            clears.append(clear - end)
                    start = end
                threat_end = None
                for a, b in zip(steps, steps[1:]):
                    if a[2] == "threat" and b[2] != "threat":
                        threat_end = b[0]
                    if b[3] and b[2] != "threat" and threat_end is not None:
                        late_prompts.append(b[0] - threat_end)
                # Prompts during activity and in the 10 min after it.
                start = 0.0
                for k, (kind, dur) in enumerate(kinds):
                    end = start + dur / 1000.0
                    if kind in ("walk", "active"):
                        active_min += dur / 60000.0
                        prompts_active += sum(1 for x in steps if start <= x[0] < end + 600 and x[3])
                    start = end
    out.write("  %-17s %-9s %6s %6s %6s %6s %6s %6s %6s  %-12s %s\n" % (
        "", "segment", "threat", "drive", "soothe", "balanc", "learn", "no-rd", "uncl", "right state",
        "latency s (median/max)"))
    for (motion_name, kind), vals in sorted(rows.items()):
        agg = {}
        for shares, _ in vals:
            for n_, v in shares.items():
                agg[n_] = agg.get(n_, 0) + v / len(vals)
        want = EXPECT.get(kind)
        lats = sorted(l for _, l in vals if l is not None)
        lat = "%d/%d" % (lats[len(lats) // 2], lats[-1]) if lats else "-"
        if len(lats) < len(vals) and want:
            lat += " (%d never)" % (len(vals) - len(lats))
        right = "%s %3.0f %%" % (want, 100 * _share(agg, want)) if want and agg else "-"
        out.write("  %-17s %-9s %s  %-12s %s\n" % (motion_name, kind, " ".join(
            "%5.0f%%" % (100 * agg.get(n_, 0)) for n_ in ("threat", "drive", "soothe", "balanced", "learning",
                                                          "no-reading", "unclassified")), right, lat))
    out.write("  targets: stress threat >= 90 %, soothe >= 80 %, walk/cool-down 0 % threat, latency to threat "
              "and to calm <= 120 s / 90 s (shares after each segment's first 2 min)\n")
    out.write("  prompts during activity or within 10 min after it: %d (%.0f activity-min; target 0)\n"
              % (prompts_active, active_min))
    clears.sort()
    out.write("  threat cleared after stress ended: median %.0f s, max %.0f s over %d stress segments (target <= 90 s)\n"
              % (clears[len(clears) // 2], clears[-1], len(clears)))
    out.write("  prompts offered while threat was not shown: %d (latest %s s after threat ended; target none > 60 s)\n"
              % (len(late_prompts), "%.0f" % max(late_prompts) if late_prompts else "-"))
    # A calm 8 h day on a learnt baseline: threat, prompts and state changes.
    hours = 2 if quick else 8
    for seed in seeds[:2]:
        _, _, base = run_day("rest:7h", seed=seed + 10)
        # A calm day: sitting, talking, standing; the next simulated day (resting values drift).
        day = "rest:%dm,talk:30m,rest:%dm,stand:20m,rest:%dm" % (hours * 15, hours * 15, hours * 30 - 50)
        kinds, steps, _ = run_day(day, seed=seed, baseline=base, day=1)
        names = [x[2] for x in steps]
        changes = sum(1 for a, b in zip(names, names[1:]) if a != b)
        out.write("  calm %d h day (seed %d, day 2, baseline learnt over 7 h of day 1): threat %.1f %%, prompts %d, "
                  "state changes after the first 2 min %d (target 0, 0, 0)\n" % (
                      hours, seed, 100.0 * names.count("threat") / len(names), sum(x[3] for x in steps),
                      sum(1 for a, b in zip(names[24:], names[25:]) if a != b)))
        del changes
    # Baseline convergence per resting HR.
    for hr in (50, 65, 85):
        kinds, steps, base = run_day("rest=%d:1h" % hr, seed=5)
        first = next((x[0] for x in steps if x[2] not in ("unclassified", "no-reading")), None)
        drive = sum(1 for x in steps if x[2] == "drive")
        conv = _convergence(hr, quick)
        out.write("  resting %d bpm: first indication %s s, drive at rest %d steps, baseline median within "
                  "2 bpm after %s, learning ends after %s\n" % (
                      hr, "%.0f" % first if first is not None else "never", drive, conv[0], conv[1]))


def _convergence(hr, quick):
    """(time the calm-HR median came within 2 bpm of the truth, time learning ended)."""
    plan = "rest=%d:%dh" % (hr, 1 if quick else 7)
    gen = ppg_synth.SyntheticPPG(100, ppg_synth.parse_plan(plan), seed=7, record_beats=False)
    det = BeatDetector(100)
    hrv = RollingHRV()
    s = Settings()
    base = st.Baseline()
    sm = st.StateMachine(s, base)
    buf = array("i", [0] * BLOCK)
    n = 0
    next_ms = STEP_MS
    near = learnt = None
    total = ppg_synth.parse_duration_ms(plan.split(":")[1])
    while n * 10 < total:
        gen.fill(buf, BLOCK)
        n += BLOCK
        det.process(buf, BLOCK)
        while det.available():
            i = det.pop()
            hrv.add_beat(det.beat_n[i] * 10, (det.beat_rr_us[i] + 500) // 1000, det.beat_flag[i] == OK)
        if n * 10 >= next_ms:
            next_ms += STEP_MS
            beats = hrv.window(n * 10, 60000)
            hrv.coherence(n * 10)
            sm.update(STEP_MS, det.contact, beats, hrv.artefacts, hrv.hr_bpm_x100, hrv.rmssd_ms_x10,
                      hrv.coherence_x100, 0, hrv.resonance_mhz)
            if near is None and abs(base.hr_q[1] - hr * 100) <= 200:
                near = n // 100
            if learnt is None and not sm.learning:
                learnt = n // 100
            if near is not None and learnt is not None:
                break
    fmt = lambda v: "never" if v is None else "%d min" % (v // 60)  # noqa: E731
    return fmt(near), fmt(learnt)


if __name__ == "__main__":
    t0 = time.time()
    bench_state(sys.stdout, quick="--quick" in sys.argv)
    print("(%.0f s)" % (time.time() - t0))
