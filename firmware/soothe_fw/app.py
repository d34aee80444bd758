"""Composition root: builds the stages from a board and runs them as asyncio tasks.

    sensor (board) -> BeatDetector -> RollingHRV -> StateMachine -> LED colour
                                          |               -> Guide (prompts, marks, practices) -> motor, LED
                                          +-> minute, session, mark records -> RecordLog <- serial <-> Link
    button (board) -> Button (gestures) -> Guide

Nothing else in the firmware reaches for a driver or the config: this module
passes each stage what it needs (clock, sinks, settings).
"""
import asyncio

from soothe_fw.log import records
from soothe_fw.compat import zeros, ticks_add, ticks_diff
from soothe_fw.sense.beats import BeatDetector, OK, EXTRA
from soothe_fw.sense.hrv import RollingHRV
from soothe_fw.sense.motion import MotionMeter
from soothe_fw.sense.contact import ContactGate
from soothe_fw.link.handler import Link, FIRMWARE_VERSION
from soothe_fw.log.logstore import RecordLog
from soothe_fw.log.settings import Settings
from soothe_fw.feedback.state import Baseline, StateMachine, NO_READING, THREAT
from soothe_fw.feedback import coach as coach_mod
from soothe_fw.feedback.guide import Guide
from soothe_fw.feedback.ui import Ui, UI_IDLE_MS

_METRICS_MS = 5000
_MINUTE_MS = 60000
# A beat later than the last logged one plus its RR by more than this: upstrokes in
# between were left out (records.MinuteBuilder.gap).  The shortest beat is 250 ms;
# rounding of the two clocks is a few ms.
_GAP_MS = 200
# How long a minute's record stays open after its end for beats the detector still
# holds (seen up to ~4.8 s while the pulse evidence builds).
_LATE_MS = 5000  # 65 s at most: the first beat's u16 offset (65535 ms) still holds it
_WDT_CHECK_MS = 1000  # the watchdog is fed at most this often, and only if sense and ui ran
_BASELINE_SAVE_MS = 600000


class App:
    def __init__(self, board):
        self.board = board
        self.clock = board.clock
        self.settings = Settings(board.data_dir + "/config.json")
        self.log = RecordLog(board.data_dir, unix_s=self.clock.unix_s)
        sensor = board.sensor
        self.detector = BeatDetector(sensor.rate_hz, adc_max=sensor.adc_max, flat_range=sensor.flat_range)
        self.hrv = RollingHRV()
        # Motion: from the accelerometer read after each PPG block, or (board.accel is
        # None: a PulseSensor on a DevKit) from the PPG block itself.
        self.accel = getattr(board, "accel", None)
        self.accel_buf = zeros("h", 96) if self.accel is not None else None
        self.motion = MotionMeter(self.accel.rate_hz if self.accel is not None else 0, sensor.rate_hz,
                                  sensor.flat_range, sensor.adc_max)
        self.minute = records.MinuteBuilder()
        self.scratch = bytearray(records.MAX_PAYLOAD)
        wake = asyncio.Event()  # the actuator: a cue or a session to play
        self.guide = Guide(self.settings, self.hrv, self.clock, self.log, self.event, wake.set, board.pacer_rate)
        self.link = Link(board.serial.write, self.log, self.clock, self.settings,
                         board.device_id, on_event=self.event, on_session=self.guide.host)
        self.ui = Ui(board, self.settings, self.guide, wake, self.event)
        self.link.can_send = getattr(board.serial, "ready", None)  # LIVE never blocks on a full port
        self.block = zeros("i", sensor.block)
        self.contact = False
        self.gate = ContactGate()  # the detector's contact, steadied (walks, bursts, flicker)
        self._gate_tick = 0
        self.state = NO_READING
        self.baseline = Baseline(board.data_dir + "/baseline.json")
        self.states = StateMachine(self.settings, self.baseline)
        self.alive_sense = 0
        self.local_hour = 0  # from the minute records' wall clock, kept once a minute
        self.running = True

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
        self._beat_tick = self._minute_tick  # time of the last logged beat (not EXTRA)
        self._end_state = -1  # state at the end of a minute still open for held beats
        self.minute.reset(self.clock.unix_s())
        self._metrics_tick = self._minute_tick
        self.guide.boot = self.ui.display.boot = self.ui.tick = self._minute_tick
        self._set_local_hour()
        self._baseline_tick = self._minute_tick

    def event(self, kind, data=b""):
        unix_ms = self.clock.unix_ms()
        plen = records.encode_event(self.scratch, unix_ms // 1000, unix_ms % 1000, kind, data)
        self.log.append(records.EVENT, self.scratch, plen)

    # ---- tasks ---------------------------------------------------------------
    async def sense(self):
        sensor = self.board.sensor
        det = self.detector
        hrv = self.hrv
        clock = self.clock
        buf = self.block
        rate = sensor.rate_hz
        motion = self.motion
        accel = self.accel
        abuf = self.accel_buf
        while self.running:
            count = await sensor.read_block(buf)
            self.alive_sense += 1
            if count <= 0:
                continue
            end_tick = clock.ticks_ms()
            if accel is not None:  # the accelerometer's FIFO, in the same burst cadence
                motion.feed_accel(abuf, accel.read_fifo(abuf))
                motion.clean(buf, count)  # while moving: the artefact that follows the arm
            else:
                motion.feed_ppg(buf, count)
            # Worn and moving (the accelerometer says so): beats no pulse claims are a moving
            # wrist's, flagged below, not an empty wrist's to drop.
            det.worn = accel is not None and self.gate.moved_recently()
            det.process(buf, count)
            while det.available():
                i = det.pop()
                # Beat time from its age in 1/32 samples at the end of the block.
                age32 = (det.n - det.beat_n[i]) * 32 - det.beat_off32[i]
                age_ms = (age32 * 1000) // (32 * rate)
                t_ms = ticks_add(end_tick, -age_ms)
                rr_ms = (det.beat_rr_us[i] + 500) // 1000
                # A beat inside measured motion is MOTION, never OK (nor fed to HRV as one).
                flag = motion.flag(det.beat_flag[i], age_ms, rr_ms)
                hrv.add_beat(t_ms, rr_ms, flag == OK)
                minute = self.minute
                if minute.count:
                    # The log rebuilds beat times from the RRs: a gap (beats the
                    # detector dropped) is written down, or what follows reads early.
                    gap_ms = ticks_diff(t_ms, self._beat_tick) - rr_ms
                    if gap_ms > _GAP_MS and not minute.gap(gap_ms):
                        self._close_minute(t_ms)
                if not minute.add(ticks_diff(t_ms, self._minute_tick), rr_ms, flag):
                    self._close_minute(t_ms)
                    minute.add(0, rr_ms, flag)
                if flag != EXTRA:  # an EXTRA beat's interval is merged into the next
                    self._beat_tick = t_ms
                if self.link.live:
                    plan = self.guide.session.plan
                    await self.link.send_live(clock.unix_ms(), rr_ms, flag, self.state,
                                              hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.coherence_x100,
                                              0 if plan is None else (1 if plan.inhaling else 2),
                                              0 if plan is None else plan.rate_x10)
            step = ticks_diff(end_tick, self._gate_tick)
            self._gate_tick = end_tick
            if self.gate.update(step if 0 < step < 10000 else 0, det.contact, det.live(),
                                accel is not None and motion.moving):
                self.contact = c = self.gate.contact
                self.event(records.EV_CONTACT_BACK if c else records.EV_CONTACT_LOST)
                if not c and self.states.lose_contact():
                    self._show_state()  # at once, not at the next 5 s step
            if ticks_diff(end_tick, self._metrics_tick) >= _METRICS_MS:
                self._metrics_tick = ticks_add(self._metrics_tick, _METRICS_MS)
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
        self.state = self.ui.state = self.states.state
        self.event(records.EV_STATE, records.STATE_NAMES[self.state].encode())
        self.ui.flag.set()

    def _metrics_step(self, now):
        hrv = self.hrv
        self.guide.session_window(now)  # a session's figures come from its own span
        beats = hrv.window(now, _MINUTE_MS)
        hrv.coherence(now)
        sm = self.states
        if sm.update(_METRICS_MS, self.contact, beats, hrv.artefacts, hrv.hr_bpm_x100, hrv.rmssd_ms_x10,
                     hrv.coherence_x100,
                     self.motion.level_pct,  # share of the last 60 s with measured movement
                     hrv.resonance_mhz):
            self._show_state()
        # A prompt needs threat evidenced at this very step, not only a red LED still dwelling;
        # the hour is the minute's (unix seconds are a long int on the ESP32: not every 5 s).
        threat_now = THREAT if self.state == THREAT and sm.evidence == THREAT else NO_READING
        self.guide.step(now, self.state, threat_now, sm.activity or sm.recovering, self.local_hour)
        if ticks_diff(now, self._baseline_tick) >= _BASELINE_SAVE_MS:
            self._baseline_tick = now
            self.baseline.save()

    def _on_stop(self):
        self.guide.on_stop()
        self.log.flush()
        self.baseline.save()

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
        self.log.append(records.MINUTE, self.minute.buf, plen)
        # From the clock, not the previous minute + 60 s: after a sync sets the clock the
        # next minute follows it (issue 15 #9); minutes already logged keep their time.
        self.minute.reset(self.clock.unix_ms_at(next_tick) // 1000)
        self._minute_tick = next_tick
        self._set_local_hour()

    def _set_local_hour(self):
        self.local_hour = coach_mod.local_hour(self.settings, self.minute.unix_s)

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
            # The ui sleeps up to UI_IDLE_MS between events: alive if it woke since.
            ui = self.ui
            if self.alive_sense != seen_sense and (
                    ui.alive != seen_ui or ticks_diff(self.clock.ticks_ms(), ui.tick) <= UI_IDLE_MS + _WDT_CHECK_MS):
                self.board.wdt_feed()
            seen_sense, seen_ui = self.alive_sense, ui.alive

    async def supervise(self, name, coro_fn):
        """Restarts a task that fails, after logging the error as an event."""
        while self.running:
            try:
                await coro_fn()
                return
            except Exception as e:  # noqa: BLE001 - fail soft, the watchdog is the last resort
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
            self.supervise("ui", self.ui.buttons),
            self.supervise("actuator", self.ui.actuator),
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
        app.running = app.ui.running = False
        try:
            app.log.close()
        finally:
            board.deinit()
    return app
