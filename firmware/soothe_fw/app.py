"""Composition root: builds the stages from a board and runs them as asyncio tasks.

    sensor (board) -> BeatDetector -> RollingHRV -> StateMachine -> LED colour
                                          |               -> Guide (prompts, marks, practices) -> motor, LED
                                          +-> Minutes, session, mark records -> RecordLog <- serial <-> Link
    button (board) -> Button (gestures) -> Guide

Nothing else in the firmware reaches for a driver or the config: this module
passes each stage what it needs (clock, sinks, settings).
"""
import asyncio

from soothe_fw.log import records
from soothe_fw.compat import zeros, ticks_diff
from soothe_fw.sense.pipeline import Pipeline, METRICS_MS as _METRICS_MS
from soothe_fw.link.handler import Link, FIRMWARE_VERSION
from soothe_fw.log.logstore import RecordLog
from soothe_fw.log.minutes import Minutes
from soothe_fw.log.settings import Settings
from soothe_fw.feedback.state import Baseline, StateMachine, NO_READING, THREAT
from soothe_fw.feedback import coach as coach_mod
from soothe_fw.feedback.guide import Guide
from soothe_fw.feedback.ui import Ui, UI_IDLE_MS, Wake

_WDT_CHECK_MS = 1000  # the watchdog is fed at most this often, and only if sense and ui ran
_BASELINE_SAVE_MS = 600000
_STATE_BYTES = tuple(name.encode() for name in records.STATE_NAMES)  # event data, made once


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
        self.minutes = Minutes(self.log, self.clock, pipe.hrv, self._hour)
        self.scratch = bytearray(records.MAX_PAYLOAD)
        wake = Wake()  # the actuator: a cue or a session to play (nothing allocated per wait)
        self.guide = Guide(self.settings, self.hrv, self.clock, self.log, self.event, wake.set, board.pacer_rate)
        self.link = Link(board.serial.write, self.log, self.clock, self.settings,
                         board.device_id, on_event=self.event, on_session=self.guide.host)
        self.ui = Ui(board, self.settings, self.guide, wake, self.event)
        self.link.can_send = getattr(board.serial, "ready", None)  # LIVE never blocks on a full port
        self.block = zeros("i", sensor.block)
        self.contact = False
        self.state = NO_READING
        self.baseline = Baseline(board.data_dir + "/baseline.json")
        self.states = StateMachine(self.settings, self.baseline)
        self.alive_sense = 0
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
        tick = self.clock.ticks_ms()
        self.minutes.start(tick)
        self.pipe.start(tick)
        self.guide.boot = self.ui.display.boot = self.ui.tick = self._baseline_tick = tick

    def _hour(self, unix_s):
        return coach_mod.local_hour(self.settings, unix_s)

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
                self.minutes.add(pipe, self.state)
                if self.link.live:
                    plan = self.guide.session.plan
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
            self.minutes.step(end_tick, self.state, det.waiting())

    # ---- state, prompts, sessions ----------------------------------------------
    def _show_state(self):
        """Takes the state machine's new state for the LED, and logs it."""
        self.state = self.ui.state = self.states.state
        self.event(records.EV_STATE, _STATE_BYTES[self.state])
        self.ui.flag.set()

    def _metrics_step(self, now):
        hrv = self.hrv
        self.guide.session_window(now)  # a session's figures come from its own span
        beats = self.pipe.metrics(now)  # the 60 s window and coherence
        sm = self.states
        if sm.update(_METRICS_MS, self.contact, beats, hrv.artefacts, hrv.hr_bpm_x100, hrv.rmssd_ms_x10,
                     hrv.coherence_x100,
                     self.motion.level_pct,  # share of the last 60 s with measured movement
                     hrv.resonance_mhz):
            self._show_state()
        # A prompt needs threat evidenced at this very step, not only a red LED still dwelling;
        # the hour is the minute's (unix seconds are a long int on the ESP32: not every 5 s).
        threat_now = THREAT if self.state == THREAT and sm.evidence == THREAT else NO_READING
        self.guide.step(now, self.state, threat_now, sm.activity or sm.recovering, self.minutes.local_hour)
        if ticks_diff(now, self._baseline_tick) >= _BASELINE_SAVE_MS:
            self._baseline_tick = now
            self.baseline.save()

    def _on_stop(self):
        self.guide.on_stop()
        self.log.flush()
        self.baseline.save()

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
            self.supervise("edges", self.ui.edges),
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
