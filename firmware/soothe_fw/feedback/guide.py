"""What the wearer feels and chooses: prompts, marks, practices and the resonance finder.

Input: button gestures, the state and HRV every 5 s, host requests, device ticks.
Output: the timeline the actuator plays (`tick()` sets .duty, .glow and returns the ms
to the next change), events, and the SESSION and MARK records in the log.  No drivers:
the app hands it the settings, the HRV, the log, an event sink, a clock and two hooks
(wake the actuator; tell the board the pacer rate).  Nothing is allocated per 5 s step
or per timeline change; a practice's plan is built once, at its first cue.
"""
from soothe_fw.compat import const, ticks_add, ticks_diff
from soothe_fw.log import records
from soothe_fw.feedback import coach as coach_mod
from soothe_fw.feedback import practice as pr
from soothe_fw.feedback.coach import Coach
from soothe_fw.feedback.finder import Finder, RATES_X10
from soothe_fw.feedback.mark import Marks
from soothe_fw.feedback.pacer import BreathPlan
from soothe_fw.feedback.session import Session, MANUAL, PROMPTED, FINDER, MARKED, PICK_MS

_METRICS_MS = const(5000)
_MINUTE_MS = const(60000)
_FINDER_BOOT_MS = const(10000)  # a long press this soon after boot starts the finder
_LEAD_GLOW = const(40)  # a dim green while the lead-in listens for picks
_MARK_TAP_OFFER = pr.MARK_TAP + pr.MARK_OFFER


def practice_index(name):
    for i in range(len(pr.NAMES)):
        if pr.NAMES[i] == name:
            return i
    return pr.BREATHING


class Guide:
    def __init__(self, settings, hrv, clock, log, event, wake, pacer_rate):
        self.settings = settings
        self.hrv = hrv
        self.clock = clock
        self.log = log
        self.event = event
        self.wake = wake
        self.pacer_rate = pacer_rate
        self.coach = Coach(settings)
        self.session = Session()
        self.finder = Finder()
        self.marks = Marks()
        self.buf = bytearray(64)  # a SESSION or MARK payload
        self.cue = None  # a short cue playing (prompt, mark tap, pick tap)
        self.cue_start = 0
        self.duty = 0
        self.glow = -1  # -1: the LED is the state display's
        self.boot = clock.ticks_ms()

    def playing(self):
        """True while the actuator owns the motor and LED."""
        return self.cue is not None or self.session.active

    def busy(self):
        return self.session.active or self.session.after_pending

    def _cue(self, now, cue):
        self.cue = pr.Cue(cue, self.settings.get("motor_intensity_pct"))
        self.cue_start = now
        self.wake()

    # ---- the wearer's presses and the host's requests ---------------------------
    def gesture(self, now, long, double, presses, state, age_ms=0):
        """A completed button gesture (its first press began age_ms before now); True when
        the ui should acknowledge it itself."""
        s = self.session
        if s.leading_in() and not long:
            s.pick(now, presses)  # n presses before the first cue pick the n-th practice
            self._cue(now, pr.PICK_TAP)
            return False
        finder_ok = ticks_diff(now, self.boot) < _FINDER_BOOT_MS
        action = self.coach.press(now, long, s.active, finder_ok, double)
        if action == coach_mod.SNOOZE:
            self.event(records.EV_PROMPT, b"snoozed")
        elif action == coach_mod.START_PROMPTED or action == coach_mod.START_MARKED:
            self.event(records.EV_PROMPT, b"accepted")
            self.start(now, PROMPTED if action == coach_mod.START_PROMPTED else MARKED, PICK_MS)
        elif action == coach_mod.START_MANUAL:
            self.start(now, MANUAL, PICK_MS)
        elif action == coach_mod.FINDER:
            self.start(now, FINDER, 0)
        elif action == coach_mod.STOP:
            s.stop = True
            self.wake()
        elif action == coach_mod.MARK:
            self.mark(now, state, age_ms)
        return action == coach_mod.NONE or action == coach_mod.SNOOZE

    def mark(self, now, state, age_ms=0):
        """A double press (age_ms ago): the wearer noticed a moment (their inner critic, a threat)."""
        marks = self.marks
        if marks.pending:
            self._write_mark(now)  # the earlier mark's 'after' is partial
        marks.begin(now, self.clock.unix_ms() - age_ms, state, self.hrv)
        self.event(records.EV_MARK, b"mark")
        offer = self.coach.offer_mark(now, self.busy()) == coach_mod.OFFER
        if offer:
            self.event(records.EV_PROMPT, b"offered-mark")
        self._cue(now, _MARK_TAP_OFFER if offer else pr.MARK_TAP)

    def host(self, op):
        """SESSION from the host: 0 stops what runs, 1 starts breathing, 2 the finder.
        Returns (accepted, running: 0 none, else records.SESSION_KINDS index + 1)."""
        s = self.session
        if op == 0:
            if not s.active:
                return False, 0
            s.stop = True
            self.wake()
            return True, s.kind + 1
        started = self.start(self.clock.ticks_ms(), MANUAL if op == 1 else FINDER, 0)
        return started, (s.kind + 1) if s.active else 0

    def start(self, now, kind, lead_ms):
        """Starts a session (kind: session.MANUAL..MARKED); presses in its lead-in pick the practice."""
        s = self.session
        if s.active:
            return False
        if self.marks.pending:
            self._write_mark(now)  # a practice begins: the mark's 'after' ends here
        hrv = self.hrv
        hrv.window(now, _MINUTE_MS)
        hrv.coherence(now)
        if s.after_pending:  # the last session's minute after ends here: its record now
            self._write_session()
        s.begin(now, self.clock.unix_s(), kind, lead_ms, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.coherence_x100)
        self.event(records.EV_SESSION, b"start " + records.SESSION_KINDS[kind].encode())
        if lead_ms == 0:
            self._go(now)
        self.wake()
        return True

    def _go(self, now):
        s = self.session
        get = self.settings.get
        if s.kind == FINDER:
            self.finder.begin(get("finder_step_s") * 1000)
            plan = self._breath(RATES_X10[0])
            length = self.finder.length_ms()
            practice = pr.BREATHING
        else:
            menu = [practice_index(n) for n in get("practice_menu").split(",")]
            practice = s.chosen(menu, practice_index(get("practice_default")))
            name = pr.NAMES[practice]
            body_s = get("session_s") if practice == pr.BREATHING else get("practice_%s_s" % name)
            plan = pr.PracticePlan(practice, body_s * 1000, get("pacer_rate_x10"), get("pacer_inhale"),
                                   get("pacer_exhale"), get("motor_intensity_pct"))
            length = plan.length_ms
            self.event(records.EV_SESSION, b"practice " + name.encode())  # at its first cue
        s.go(now, self.clock.unix_s(), practice, plan, length)
        self.pacer_rate(plan.rate_x10)

    def _breath(self, rate_x10):
        get = self.settings.get
        return BreathPlan(rate_x10, get("pacer_inhale"), get("pacer_exhale"), get("motor_intensity_pct"))

    # ---- the actuator's timeline ----------------------------------------------
    def tick(self, now):
        """Sets .duty and .glow for ticks `now`; returns ms until the next change, -1 when
        nothing plays any more (the ui shows the state again).  Allocates nothing, except
        a practice's plan at its first cue and the finder's at each step."""
        self.glow = -1
        c = self.cue
        if c is not None:
            t = ticks_diff(now, self.cue_start)
            if t < c.length_ms:
                c.at(t)
                self.duty = c.duty
                return c.next_ms - t
            self.cue = None
        self.duty = 0
        s = self.session
        if not s.active:
            return -1
        if s.plan is None:  # the lead-in
            if s.stop:
                self._end(now, False)
                return -1
            left = ticks_diff(s.start, now)
            if left > 0:
                self.glow = _LEAD_GLOW
                return left
            self._go(now)
        plan = s.plan
        if plan is None:
            return -1
        el = ticks_diff(now, s.start)
        f = self.finder
        if s.stop or el >= s.length_ms:
            if f.running and not s.stop:
                self._finder_score(now, plan)
            self._end(now, not s.stop)
            return -1
        if f.running:
            k = f.step_at(el)
            if k != f.step:
                self._finder_score(now, plan)
                f.step = k
                s.plan = plan = self._breath(RATES_X10[k])
                self.pacer_rate(RATES_X10[k])
            seg0 = k * f.step_ms
            plan.at(el - seg0)
            nxt = seg0 + plan.next_ms
            if nxt > seg0 + f.step_ms:
                nxt = seg0 + f.step_ms
        else:
            plan.at(el)
            nxt = plan.next_ms
        self.duty = plan.duty
        self.glow = plan.glow
        if nxt > s.length_ms:
            nxt = s.length_ms
        return nxt - el

    def _end(self, now, completed):
        s = self.session
        self.event(records.EV_SESSION, b"stop" if completed else b"abort")
        f = self.finder
        plan = s.plan
        most_ms = -1 if plan is None or f.running else plan.body_end  # the end cue is no practice time
        if f.running:
            if completed:
                self._finder_choose()
            f.stop()
        s.end(now, completed, most_ms)
        self.pacer_rate(0)

    def _finder_choose(self):
        """Stores the best rate only when its peak is clear; else keeps the rate and says why."""
        f = self.finder
        best = f.best()
        if best >= 0:
            self.settings.set("pacer_rate_x10", RATES_X10[best])
            self.event(records.EV_FINDER, b"best=%d" % RATES_X10[best])
        else:
            top = f.top()
            self.event(records.EV_FINDER, b"kept=%d flat: best %d score %d" % (
                self.settings.get("pacer_rate_x10"), RATES_X10[top], f.scores[top]))

    def _finder_score(self, now, plan):
        """Scores the finder step that just ended: HR swing plus coherence."""
        f = self.finder
        hrv = self.hrv
        swing = hrv.hr_swing_x100(now, f.step_ms - 30000, plan.period_ms)
        hrv.coherence(now)
        score = f.score(swing, hrv.coherence_x100)
        self.event(records.EV_FINDER, b"rate=%d swing=%d coh=%d score=%d" % (
            RATES_X10[f.step], swing, hrv.coherence_x100, score))

    # ---- every 5 s -----------------------------------------------------------------
    def session_window(self, now):
        """Before the state's own window: the session's figures from its own span."""
        s = self.session
        if s.active and s.own(now):
            hrv = self.hrv
            el = s.elapsed(now)
            hrv.window(now, el if el < _MINUTE_MS else _MINUTE_MS)
            s.add(hrv.hr_bpm_x100, hrv.rmssd_ms_x10)

    def step(self, now, state, threat_now, activity, local_hour):
        """After the state update: coherence sums, due records, prompts."""
        hrv = self.hrv
        s = self.session
        self.marks.note_state(state)
        if s.active:
            s.add_coherence(now, hrv.coherence_x100, hrv.resonance_mhz)
        elif s.after_ready(now):
            self._write_session()
        if self.marks.due(now):
            self._write_mark(now)
        action = self.coach.update(now, _METRICS_MS, threat_now, activity, local_hour, self.busy())
        if action == coach_mod.OFFER:
            self.event(records.EV_PROMPT, b"offered")
            self._cue(now, pr.PROMPT_CUE)
        elif action == coach_mod.IGNORED:
            self.event(records.EV_PROMPT, b"ignored")

    def _write_session(self):
        """The SESSION record, with the current (minute) figures as its 'after'."""
        hrv = self.hrv
        self.log.append(records.SESSION, self.buf, self.session.encode(self.buf, hrv.hr_bpm_x100,
                                                                       hrv.rmssd_ms_x10, hrv.coherence_x100))
        self.log.flush()  # a session boundary is a commit point

    def _write_mark(self, now):
        self.log.append(records.MARK, self.buf, self.marks.finish(self.buf, now, self.hrv))
        self.log.flush()  # the wearer's own note: a commit point

    def on_stop(self):
        """The device stops: a mark still waiting for its minute is written with what there is."""
        if self.marks.pending:
            self._write_mark(self.clock.ticks_ms())
