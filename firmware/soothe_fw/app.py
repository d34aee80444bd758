"""Composition root: builds the stages from a board and runs them as asyncio tasks.

    sensor (board) -> BeatDetector -> RollingHRV -> StateMachine -> LED colour
                                          |               -> Coach -> prompts, sessions -> BreathPlan -> motor, LED
                                          +-> minute and session records -> RecordLog <- serial <-> Link

Nothing else in the firmware reaches for a driver or the config: this module
passes each stage what it needs (clock, sinks, settings).
"""
import asyncio

from soothe_fw.log import records
from soothe_fw.compat import zeros, ticks_add, ticks_diff
from soothe_fw.sense.pipeline import Pipeline, METRICS_MS as _METRICS_MS
from soothe_fw.link.handler import Link, FIRMWARE_VERSION
from soothe_fw.log.logstore import RecordLog
from soothe_fw.log.settings import Settings
from soothe_fw.feedback.state import Baseline, StateMachine, NO_READING, THREAT
from soothe_fw.feedback import coach as coach_mod
from soothe_fw.feedback.coach import Coach
from soothe_fw.feedback.pacer import BreathPlan

_MINUTE_MS = 60000
# How long a minute's record stays open after its end for beats the detector still
# holds (seen up to ~4.8 s while the pulse evidence builds).
_LATE_MS = 5000  # 65 s at most: the first beat's u16 offset (65535 ms) still holds it
_UI_MS = 20  # button poll while a press is being read (debounce, long press)
_UI_IDLE_MS = 5000  # otherwise the ui wakes on events, at its next LED change, or after this
_DEBOUNCE_MS = 40
_LONG_PRESS_MS = 1000
_BUZZ_MS = 80
_BLINK_PERIOD_MS = 4000
_BLINK_ON_MS = 100
_FINDER_RATES = (65, 60, 55, 50, 45)  # breaths/min x10, high to low
_FINDER_BOOT_MS = 10000  # a long press this soon after boot starts the finder
_WDT_CHECK_MS = 1000  # the watchdog is fed at most this often, and only if sense and ui ran
_BASELINE_SAVE_MS = 600000
_COH_WINDOW_MS = 64000  # coherence's window: a session's own only after this long
# LED colour per state (full scale; the brightness setting scales it): no-reading (blinks
# instead), threat red, drive blue, soothe green, unclassified dark, balanced a steady
# soft white (reading fine, no system dominates), learning a steady soft violet.
_STATE_BYTES = tuple(name.encode() for name in records.STATE_NAMES)  # event data, made once
_COLOURS = ((0, 0, 0), (255, 0, 0), (0, 0, 255), (0, 255, 0), (0, 0, 0), (110, 110, 110), (90, 0, 160))


class App:
    def __init__(self, board):
        self.board = board
        self.clock = board.clock
        self.settings = Settings(board.data_dir + "/config.json")
        self.log = RecordLog(board.data_dir, unix_s=self.clock.unix_s, clock=self.clock)
        sensor = board.sensor
        # Motion: from the accelerometer read after each PPG block, or (board.accel is
        # None: a PulseSensor on a DevKit) from the PPG block itself.
        self.accel = getattr(board, "accel", None)
        self.accel_buf = zeros("h", 96) if self.accel is not None else None
        # samples -> beats -> HRV -> metrics, contact steadied (sense/pipeline.py)
        self.pipe = pipe = Pipeline(sensor.rate_hz, adc_max=sensor.adc_max, flat_range=sensor.flat_range,
                                    accel_rate_hz=self.accel.rate_hz if self.accel is not None else 0)
        self.detector = pipe.detector
        self.hrv = pipe.hrv
        self.motion = pipe.motion
        self.minute = records.MinuteBuilder()
        self.scratch = bytearray(records.MAX_PAYLOAD)
        self.link = Link(board.serial.write, self.log, self.clock, self.settings,
                         board.device_id, on_event=self.event, on_session=self.host_session)
        self.link.can_send = getattr(board.serial, "ready", None)  # LIVE never blocks on a full port
        self.block = zeros("i", sensor.block)
        self.contact = False
        self.state = NO_READING
        self.baseline = Baseline(board.data_dir + "/baseline.json")
        self.states = StateMachine(self.settings, self.baseline)
        self.coach = Coach(self.settings)
        self.plan = None  # BreathPlan while a session or the finder runs
        self.session_kind = 0
        self.session_start = 0
        self.session_start_s = 0
        self.session_len_ms = 0
        self.session_stop = False
        self.session_before = (0, 0, 0)
        # hr, rmssd, n (5 s steps of the session's own beats); coh, resonance, n (steps
        # whose 64 s coherence window lies inside the session)
        self.session_sum = [0, 0, 0, 0, 0, 0]
        self.session_after_due = -1
        self.finder_step = -1
        self.finder_scores = [0] * len(_FINDER_RATES)
        self.prompt_buzz = False
        self.session_completed = False
        self.alive_sense = 0
        self.alive_ui = 0
        self.session_dur_s = 0
        self.session_rate = 0
        self.wake = asyncio.Event()
        # Wakes the ui: a button edge (pin IRQ on the ESP32, hence ThreadSafeFlag), a new
        # state, or the actuator handing the LED and motor back.
        self.ui_flag = asyncio.ThreadSafeFlag() if hasattr(asyncio, "ThreadSafeFlag") else asyncio.Event()
        self.ui_tick = 0  # ticks of the ui's last wake (watchdog)
        self.buzz_end = -1  # ticks when the press acknowledgement ends (-1: none)
        self.local_hour = 0  # from the minute records' wall clock, kept once a minute
        self.running = True
        self.errors = 0

    def start(self):
        self.board.fs_mount()
        self.settings.load()
        self.baseline.load()
        self.log.open()
        plen = records.encode_boot(self.scratch, self.clock.unix_s(), self.clock.is_set,
                                   FIRMWARE_VERSION, self.board.name)
        self.log.append(records.BOOT, self.scratch, plen)
        self.log.flush()
        self._minute_tick = self.clock.ticks_ms()
        self._end_state = -1  # state at the end of a minute still open for held beats
        self._reset_minute(self._minute_tick)
        self.pipe.start(self._minute_tick)
        self._boot_tick = self._minute_tick
        self.ui_tick = self._minute_tick
        self._set_local_hour()
        self._baseline_tick = self._minute_tick

    def event(self, kind, data=b""):
        """Logs an event now.  Allocates nothing, on a 32-bit port too: the wall time is
        packed from the clock's small-int limbs (a unix time is a long int there), and the
        record's header carries the uptime (issue 15 #5)."""
        clock = self.clock
        clock.at(clock.ticks_ms())
        plen = records.encode_event(self.scratch, 0, 0, kind, data)
        clock.pack_wall(self.scratch, 0)  # the payload's u32 unix_s + u16 ms
        self.log.append(records.EVENT, self.scratch, plen, clock.at_s, clock.at_ms)

    # ---- tasks ---------------------------------------------------------------
    async def sense(self):
        sensor = self.board.sensor
        pipe = self.pipe
        det = pipe.detector
        hrv = pipe.hrv
        clock = self.clock
        buf = self.block
        accel = self.accel
        abuf = self.accel_buf
        # A sensor that can say when its block is due is slept for (asyncio's sleep_ms
        # allocates nothing) and read; otherwise its read_block() coroutine is awaited.
        wait_ms = getattr(sensor, "wait_ms", None)
        while self.running:
            if wait_ms is not None:
                await asyncio.sleep_ms(wait_ms())
                count = sensor.read(buf)
            else:
                count = await sensor.read_block(buf)
            self.alive_sense += 1
            if count <= 0:
                continue
            end_tick = clock.ticks_ms()
            # the accelerometer's FIFO, in the same burst cadence
            pipe.feed(buf, count, end_tick, abuf, accel.read_fifo(abuf) if accel is not None else 0)
            while pipe.next_beat():
                if not pipe.to_minute(self.minute, self._minute_tick):
                    self._close_minute(pipe.t_ms)
                    pipe.to_minute(self.minute, self._minute_tick)
                if self.link.live:
                    plan = self.plan
                    await self.link.send_live(pipe.t_ms, pipe.rr_ms, pipe.flag, self.state,
                                              hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.coherence_x100,
                                              0 if plan is None else (1 if plan.inhaling else 2),
                                              0 if plan is None else plan.rate_x10)
            if pipe.contact_changed:
                self.contact = c = pipe.contact
                self.event(records.EV_CONTACT_BACK if c else records.EV_CONTACT_LOST)
                if not c and self.states.lose_contact():
                    self._show_state()  # at once, not at the next 5 s step
            if pipe.metrics_due(end_tick):
                self._metrics_step(end_tick)
            late = ticks_diff(end_tick, self._minute_tick) - _MINUTE_MS
            # A beat the detector still holds may belong to the minute now ending: the
            # record cannot put a beat before its start (its times are rebuilt from the
            # RRs), so the minute stays open for it, up to _LATE_MS.
            if late >= 0:
                if self._end_state < 0:
                    self._end_state = self.state  # the minute's state is the one at its end
                if late >= _LATE_MS or not det.waiting():
                    self._close_minute(ticks_add(self._minute_tick, _MINUTE_MS))

    # ---- state, prompts, sessions ----------------------------------------------
    def _show_state(self):
        """Takes the state machine's new state for the LED, and logs it."""
        self.state = self.states.state
        self.event(records.EV_STATE, _STATE_BYTES[self.state])
        self.ui_flag.set()

    def _metrics_step(self, now):
        hrv = self.hrv
        acc = self.session_sum
        if self.plan is not None:
            # A session's figures come from its own span: the window never reaches back
            # before its start, and coherence counts once its 64 s window fits inside.
            el = ticks_diff(now, self.session_start)
            if el >= 10000:
                hrv.window(now, el if el < _MINUTE_MS else _MINUTE_MS)
                acc[0] += hrv.hr_bpm_x100
                acc[1] += hrv.rmssd_ms_x10
                acc[2] += 1
        beats = self.pipe.metrics(now)  # the 60 s window and coherence
        sm = self.states
        if sm.update(_METRICS_MS, self.contact, beats, hrv.artefacts, hrv.hr_bpm_x100, hrv.rmssd_ms_x10,
                     hrv.coherence_x100,
                     self.motion.level_pct,  # share of the last 60 s with measured movement
                     hrv.resonance_mhz):
            self._show_state()
        if self.plan is not None:
            if ticks_diff(now, self.session_start) >= _COH_WINDOW_MS:
                acc[3] += hrv.coherence_x100
                acc[4] += hrv.resonance_mhz
                acc[5] += 1
        elif self.session_after_due >= 0 and ticks_diff(now, self.session_after_due) >= 0:
            self.session_after_due = -1
            self._write_session((hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.coherence_x100))
        # The hour comes from the minute's wall clock (kept once a minute): unix seconds
        # are a heap-allocated long int on the ESP32, not something to touch every 5 s.
        # A prompt needs threat evidenced at this very step, not only a red LED still dwelling.
        threat_now = THREAT if self.state == THREAT and sm.evidence == THREAT else NO_READING
        action = self.coach.update(now, _METRICS_MS, threat_now, sm.activity or sm.recovering, self.local_hour,
                                   self.plan is not None or self.session_after_due >= 0)
        if action == coach_mod.OFFER:
            self.event(records.EV_PROMPT, b"offered")
            self.prompt_buzz = True
            self.wake.set()
        elif action == coach_mod.IGNORED:
            self.event(records.EV_PROMPT, b"ignored")
        if ticks_diff(now, self._baseline_tick) >= _BASELINE_SAVE_MS:
            self._baseline_tick = now
            self.baseline.save()

    def _on_stop(self):
        self.log.flush()
        self.baseline.save()

    def on_press(self, long):
        now = self.clock.ticks_ms()
        finder_ok = ticks_diff(now, self._boot_tick) < _FINDER_BOOT_MS
        action = self.coach.press(now, long, self.plan is not None, finder_ok)
        if action == coach_mod.SNOOZE:
            self.event(records.EV_PROMPT, b"snoozed")
        elif action == coach_mod.START_PROMPTED:
            self.event(records.EV_PROMPT, b"accepted")
            self.start_session(1)
        elif action == coach_mod.START_MANUAL:
            self.start_session(0)
        elif action == coach_mod.FINDER:
            self.start_session(2)
        elif action == coach_mod.STOP:
            self.session_stop = True
            self.wake.set()
        return action

    def host_session(self, op):
        """SESSION from the host: 0 stops what runs, 1 starts breathing, 2 the finder."""
        if op == 0:
            if self.plan is None:
                return False, 0
            self.session_stop = True
            self.wake.set()
            return True, self.session_kind + 1
        started = self.start_session(0 if op == 1 else 2)
        return started, (self.session_kind + 1) if self.plan is not None else 0

    def start_session(self, kind):
        """kind 0 manual, 1 prompted, 2 resonance finder (also from the host)."""
        if self.plan is not None:
            return False
        s = self.settings.get
        rate = _FINDER_RATES[0] if kind == 2 else s("pacer_rate_x10")
        self.plan = self._breath_plan(rate)
        self.session_kind = kind
        self.session_stop = False
        self.session_start = self.clock.ticks_ms()
        self.session_start_s = self.clock.unix_s()
        self.session_len_ms = (len(_FINDER_RATES) * s("finder_step_s") if kind == 2 else s("session_s")) * 1000
        hrv = self.hrv
        hrv.window(self.session_start, _MINUTE_MS)
        hrv.coherence(self.session_start)
        self.session_before = (hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.coherence_x100)
        acc = self.session_sum
        for i in range(len(acc)):
            acc[i] = 0
        self.finder_step = 0 if kind == 2 else -1
        self.board.pacer_rate(rate)
        self.event(records.EV_SESSION, b"start " + records.SESSION_KINDS[kind].encode())
        self.wake.set()
        return True

    def _breath_plan(self, rate_x10):
        s = self.settings.get
        return BreathPlan(rate_x10, s("pacer_inhale"), s("pacer_exhale"), s("motor_intensity_pct"))

    def _end_session(self, completed, plan):
        now = self.clock.ticks_ms()
        self.session_completed = completed
        self.session_dur_s = ticks_diff(now, self.session_start) // 1000
        self.event(records.EV_SESSION, b"stop" if completed else b"abort")
        if self.session_kind == 2 and completed:
            self._finder_choose()
        self.session_rate = plan.rate_x10 if self.session_kind != 2 else _FINDER_RATES[0]
        self.plan = None
        self.board.pacer_rate(0)
        self.session_after_due = ticks_add(now, _MINUTE_MS)

    def _finder_choose(self):
        """Stores the best rate only when its peak is clear; else keeps the rate and says why."""
        scores = self.finder_scores
        best = coach_mod.finder_pick(scores)
        if best >= 0:
            self.settings.set("pacer_rate_x10", _FINDER_RATES[best])
            self.event(records.EV_FINDER, b"best=%d" % _FINDER_RATES[best])
        else:
            top = 0
            for i in range(len(scores)):
                if scores[i] > scores[top]:
                    top = i
            self.event(records.EV_FINDER, b"kept=%d flat: best %d score %d" % (
                self.settings.get("pacer_rate_x10"), _FINDER_RATES[top], scores[top]))

    def _finder_score(self, now, plan):
        """Scores the finder step that just ended: HR swing plus coherence."""
        step_ms = self.settings.get("finder_step_s") * 1000
        hrv = self.hrv
        swing = hrv.hr_swing_x100(now, step_ms - 30000, plan.period_ms)
        hrv.coherence(now)
        score = swing + hrv.coherence_x100 // 2
        i = self.finder_step
        self.finder_scores[i] = score
        self.event(records.EV_FINDER, b"rate=%d swing=%d coh=%d score=%d" % (
            _FINDER_RATES[i], swing, hrv.coherence_x100, score))

    def _write_session(self, after):
        acc = self.session_sum
        n = acc[2] or 1
        nc = acc[5] or 1  # 0 coherence and resonance: the session was shorter than their window
        during = (acc[0] // n, acc[1] // n, acc[3] // nc)
        plen = records.encode_session(self.scratch, self.session_start_s, self.session_dur_s,
                                      self.session_rate, self.session_kind, self.session_completed,
                                      self.session_before, during, after, acc[4] // nc)
        self.log.append(records.SESSION, self.scratch, plen)
        self.log.flush()  # a session boundary is a commit point

    async def actuator(self):
        """Motor and LED while a prompt or a breathing session plays; sleeps otherwise.

        Each change is scheduled from the session start on the device clock, so the
        haptic timeline does not drift with task latency.
        """
        board = self.board
        motor = board.motor
        led = board.led
        while self.running:
            await self.wake.wait()
            self.wake.clear()
            if self.prompt_buzz:
                level = self.settings.get("motor_intensity_pct") // 2
                for _ in range(3):  # three soft pulses: "time for a breath?"
                    motor.set(level)
                    await asyncio.sleep_ms(200)
                    motor.set(0)
                    await asyncio.sleep_ms(300)
                self.prompt_buzz = False  # only now may the ui task drive the motor again
                self.ui_flag.set()
            while self.plan is not None:
                plan = self.plan
                start = self.session_start
                el = ticks_diff(self.clock.ticks_ms(), start)
                if self.session_stop or el >= self.session_len_ms:
                    motor.set(0)
                    led.set_rgb(0, 0, 0)
                    if self.finder_step >= 0 and not self.session_stop:
                        self._finder_score(self.clock.ticks_ms(), plan)
                    self._end_session(not self.session_stop, plan)
                    self.ui_flag.set()  # the LED shows the state again
                    break
                if self.finder_step >= 0:
                    step_ms = self.settings.get("finder_step_s") * 1000
                    step = el // step_ms
                    if step != self.finder_step:
                        self._finder_score(self.clock.ticks_ms(), plan)
                        self.finder_step = step
                        self.plan = plan = self._breath_plan(_FINDER_RATES[step])
                        self.board.pacer_rate(_FINDER_RATES[step])
                    seg0 = step * step_ms
                    plan.at(el - seg0)
                    nxt = seg0 + plan.next_ms
                    if nxt > seg0 + step_ms:
                        nxt = seg0 + step_ms
                else:
                    plan.at(el)
                    nxt = plan.next_ms
                self.pace_show(plan)
                if nxt > self.session_len_ms:
                    nxt = self.session_len_ms
                wait = nxt - ticks_diff(self.clock.ticks_ms(), start)
                if wait > 0:
                    try:
                        await asyncio.wait_for_ms(self.wake.wait(), wait)
                    except asyncio.TimeoutError:
                        pass
                    self.wake.clear()

    def pace_show(self, plan):
        """The pacer's motor duty and green glow at its current step; allocates nothing."""
        self.board.motor.set(plan.duty)
        self.board.led.set_rgb(0, (plan.glow * self.settings.get("led_brightness_pct")) // 100, 0)

    def _close_minute(self, next_tick):
        hrv = self.hrv
        hrv.window(next_tick, _MINUTE_MS)
        state = self.state if self._end_state < 0 else self._end_state
        self._end_state = -1
        if state == NO_READING:
            # Unworn (no reading): the minute carries no HR or HRV, only its state.
            plen = self.minute.finish(state, 0, 0, 0, 0, 0, self.log.keep_rr)
        else:
            plen = self.minute.finish(state, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.sdnn_ms_x10,
                                      hrv.coherence_x100, hrv.resonance_mhz, self.log.keep_rr)
        self.log.append(records.MINUTE, self.minute.buf, plen, self._minute_up_s, self._minute_up_ms)
        # From the clock, not the previous minute + 60 s: after a sync sets the clock the
        # next minute follows it (issue 15 #9); minutes already logged keep their time.
        self._reset_minute(next_tick)
        self._minute_tick = next_tick

    def _reset_minute(self, tick):
        """A minute from `tick`: its wall start in s + ms (the record's first_ms counts from
        the whole second: no beat reads early), its uptime for the record's header, and
        the local hour the coach uses."""
        clock = self.clock
        ms = clock.unix_ms_at(tick)  # once a minute (a long int on 32-bit: not per beat)
        self._minute_up_s = clock.at_s  # unix_ms_at set them to the uptime of `tick`
        self._minute_up_ms = clock.at_ms
        self.minute.reset(ms // 1000, ms % 1000)
        self._set_local_hour()

    def _set_local_hour(self):
        self.local_hour = coach_mod.local_hour(self.settings, self.minute.unix_s)

    async def ui(self):
        """Button (debounced, short/long press) and the LED and motor outside sessions.

        Event-driven: it sleeps until a button edge, a new state, the actuator handing
        back, or its own next LED change (the no-reading blink, the end of a buzz); at
        most _UI_IDLE_MS.  Only while a press is being read does it poll every 20 ms.
        A press shorter than LONG_PRESS_MS is short; a short buzz acknowledges it.  With
        no reading the LED blinks dim white (one 100 ms blink every 4 s) and is
        otherwise off: it never guesses a state.
        """
        button = self.board.button
        clock = self.clock
        flag = self.ui_flag
        watch = getattr(button, "watch", None)
        if watch is not None:
            watch(flag)  # the board sets the flag on every press and release
        pressed_for = 0
        quiet_for = 0
        while self.running:
            now = clock.ticks_ms()
            self.ui_tick = now
            self.alive_ui += 1
            if button.pressed():
                pressed_for += _UI_MS
                quiet_for = 0
            elif pressed_for:
                quiet_for += _UI_MS
                if pressed_for >= _DEBOUNCE_MS and quiet_for >= _DEBOUNCE_MS:
                    long = pressed_for >= _LONG_PRESS_MS
                    self.event(records.EV_BUTTON, b"long" if long else b"short")
                    if self.on_press(long) in (coach_mod.NONE, coach_mod.SNOOZE):
                        # sessions announce themselves with their own cue
                        self.buzz_end = ticks_add(now, _BUZZ_MS)
                    pressed_for = 0
                elif quiet_for >= _DEBOUNCE_MS:
                    pressed_for = 0
            wait = self.ui_show(now)
            if pressed_for or watch is None:
                await asyncio.sleep_ms(_UI_MS)  # reading a press (or a button without edges)
                continue
            if wait < 0 or wait > _UI_IDLE_MS:
                wait = _UI_IDLE_MS
            try:
                await asyncio.wait_for_ms(flag.wait(), wait)
            except asyncio.TimeoutError:
                pass
            flag.clear()

    def ui_show(self, now):
        """Sets the motor and LED for the ui at ticks `now`; returns the ms until they next
        change by themselves (-1: not before an event).  Allocates nothing."""
        if self.plan is not None or self.prompt_buzz:
            return -1  # the actuator task owns the motor and LED
        board = self.board
        settings = self.settings  # (a bound method kept in a local would be allocated)
        wait = -1
        if self.buzz_end >= 0:
            left = ticks_diff(self.buzz_end, now)
            if left > 0:
                board.motor.set(settings.get("motor_intensity_pct"))
                wait = left
            else:
                self.buzz_end = -1
                board.motor.set(0)
        else:
            board.motor.set(0)
        bright = settings.get("led_brightness_pct")
        state = self.state
        if state == NO_READING:
            phase = ticks_diff(now, self._boot_tick) % _BLINK_PERIOD_MS
            if phase < _BLINK_ON_MS:
                level = (255 * bright) // 100
                left = _BLINK_ON_MS - phase
            else:
                level = 0
                left = _BLINK_PERIOD_MS - phase
            board.led.set_rgb(level, level, level)
            if wait < 0 or left < wait:
                wait = left
        else:
            rgb = _COLOURS[state]
            board.led.set_rgb((rgb[0] * bright) // 100, (rgb[1] * bright) // 100, (rgb[2] * bright) // 100)
        return wait

    async def flusher(self):
        while self.running:
            await asyncio.sleep_ms(self.settings.get("flush_s") * 1000)
            self.log.flush()

    async def serial(self):
        read = self.board.serial.read
        while self.running:
            data = await read()
            if data:
                await self.link.feed(data)

    async def watchdog(self):
        """Feeds the hardware watchdog only while the sensor and ui loops both make progress.

        A hung sensor read or a stuck loop stops the feeding, and the board resets
        (machine.WDT on the ESP32; the simulated board counts it as fired)."""
        seen_sense = seen_ui = -1
        while self.running:
            await asyncio.sleep_ms(_WDT_CHECK_MS)
            # The ui sleeps up to _UI_IDLE_MS between events: alive if it woke since.
            ui_ok = self.alive_ui != seen_ui or \
                ticks_diff(self.clock.ticks_ms(), self.ui_tick) <= _UI_IDLE_MS + _WDT_CHECK_MS
            if self.alive_sense != seen_sense and ui_ok:
                self.board.wdt_feed()
            seen_sense, seen_ui = self.alive_sense, self.alive_ui

    async def supervise(self, name, coro_fn):
        """Restarts a task that fails, after logging the error as an event."""
        while self.running:
            try:
                await coro_fn()
                return
            except Exception as e:  # noqa: BLE001 - fail soft, the watchdog is the last resort
                self.errors += 1
                self.event(records.EV_TASK_ERROR, ("%s: %s" % (name, e)).encode()[:60])
                self.board.report_error(name, e)
                await asyncio.sleep_ms(100)

    async def main(self):
        self.start()
        self.board.on_stop(self._on_stop)
        await asyncio.gather(
            self.supervise("sense", self.sense),
            self.supervise("flush", self.flusher),
            self.supervise("serial", self.serial),
            self.supervise("ui", self.ui),
            self.supervise("actuator", self.actuator),
            self.watchdog(),
        )


def run(board):
    app = App(board)
    try:
        asyncio.run(app.main())
    except BaseException as e:  # noqa: BLE001 - say what was durable, then die as before
        board.report_error("main (log durable up to seq %d)" % app.log.flushed_seq, e)
        raise
    finally:
        app.running = False
        try:
            app.log.close()
        finally:
            board.deinit()
    return app
