"""Composition root: builds the stages from a board and runs them as asyncio tasks.

    sensor (board) -> BeatDetector -> RollingHRV -> minute records -> RecordLog
                                                          serial <-> Link

Nothing else in the firmware reaches for a driver or the config: this module
passes each stage what it needs (clock, sinks, settings).
"""
import asyncio
import struct
from array import array

import records
from compat import zeros, ticks_add, ticks_diff
from beats import BeatDetector, OK
from hrv import RollingHRV
from link import Link, FIRMWARE_VERSION
from logstore import RecordLog
from settings import Settings

_METRICS_MS = 5000
_MINUTE_MS = 60000
_UI_MS = 20
_DEBOUNCE_MS = 40
_LONG_PRESS_MS = 1000
_BUZZ_MS = 80
_BLINK_PERIOD_MS = 4000
_BLINK_ON_MS = 100


class App:
    def __init__(self, board):
        self.board = board
        self.clock = board.clock
        self.settings = Settings(board.data_dir + "/config.json")
        self.log = RecordLog(board.data_dir)
        sensor = board.sensor
        self.detector = BeatDetector(sensor.rate_hz, adc_max=sensor.adc_max, flat_range=sensor.flat_range)
        self.hrv = RollingHRV()
        self.minute = records.MinuteBuilder()
        self.scratch = bytearray(records.MAX_PAYLOAD)
        self.link = Link(board.serial.write, self.log, self.clock, self.settings,
                         board.device_id, on_event=self.event)
        self.block = zeros("i", sensor.block)
        self.contact = False
        self.state = 0  # no-reading until the state stage says otherwise
        self.running = True
        self.errors = 0

    def start(self):
        self.board.fs_mount()
        self.settings.load()
        self.log.open()
        plen = records.encode_boot(self.scratch, self.clock.unix_s(), self.clock.is_set,
                                   FIRMWARE_VERSION, self.board.name)
        self.log.append(records.BOOT, self.scratch, plen)
        self.log.flush()
        self._minute_tick = self.clock.ticks_ms()
        self.minute.reset(self.clock.unix_s())
        self._metrics_tick = self._minute_tick

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
        while self.running:
            count = await sensor.read_block(buf)
            if count <= 0:
                continue
            end_tick = clock.ticks_ms()
            det.process(buf, count)
            while det.available():
                i = det.pop()
                # Beat time from its age in 1/32 samples at the end of the block.
                age32 = (det.n - det.beat_n[i]) * 32 - det.beat_off32[i]
                t_ms = ticks_add(end_tick, -((age32 * 1000) // (32 * rate)))
                rr_ms = (det.beat_rr_us[i] + 500) // 1000
                flag = det.beat_flag[i]
                hrv.add_beat(t_ms, rr_ms, flag == OK)
                if not self.minute.add(ticks_diff(t_ms, self._minute_tick), rr_ms, flag):
                    self._close_minute(t_ms)
                    self.minute.add(0, rr_ms, flag)
                if self.link.live:
                    await self.link.send_live(clock.unix_ms(), rr_ms, flag, self.state,
                                              hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.coherence_x100)
            if det.contact != self.contact:
                self.contact = det.contact
                self.event(records.EV_CONTACT_BACK if det.contact else records.EV_CONTACT_LOST)
                self.state = 4 if det.contact else 0  # unclassified until a state stage exists
            if ticks_diff(end_tick, self._metrics_tick) >= _METRICS_MS:
                self._metrics_tick = ticks_add(self._metrics_tick, _METRICS_MS)
                hrv.window(end_tick, _MINUTE_MS)
                hrv.coherence(end_tick)
            if ticks_diff(end_tick, self._minute_tick) >= _MINUTE_MS:
                self._close_minute(ticks_add(self._minute_tick, _MINUTE_MS))

    def _close_minute(self, next_tick):
        hrv = self.hrv
        hrv.window(next_tick, _MINUTE_MS)
        plen = self.minute.finish(self.state, hrv.hr_bpm_x100, hrv.rmssd_ms_x10, hrv.sdnn_ms_x10,
                                  hrv.coherence_x100, hrv.resonance_mhz)
        self.log.append(records.MINUTE, self.minute.buf, plen)
        self.minute.reset(self.minute.unix_s + ticks_diff(next_tick, self._minute_tick) // 1000)
        self._minute_tick = next_tick

    async def ui(self):
        """Button (debounced, short/long press) and the no-reading LED blink.

        Polls every 20 ms; a press shorter than LONG_PRESS_MS is short.  A short
        buzz acknowledges every press.  With no reading the LED blinks dim white
        (one 100 ms blink every 4 s) and is otherwise off: it never guesses a state.
        """
        board = self.board
        button = board.button
        led = board.led
        motor = board.motor
        pressed_for = 0
        quiet_for = 0
        blink_ms = 0
        buzz_ms = 0
        while self.running:
            await asyncio.sleep_ms(_UI_MS)
            if button.pressed():
                pressed_for += _UI_MS
                quiet_for = 0
            else:
                quiet_for += _UI_MS
                if pressed_for >= _DEBOUNCE_MS and quiet_for >= _DEBOUNCE_MS:
                    kind = b"long" if pressed_for >= _LONG_PRESS_MS else b"short"
                    self.event(records.EV_BUTTON, kind)
                    buzz_ms = _BUZZ_MS
                    pressed_for = 0
                elif quiet_for >= _DEBOUNCE_MS:
                    pressed_for = 0
            if buzz_ms > 0:
                motor.set(self.settings.get("motor_intensity_pct"))
                buzz_ms -= _UI_MS
            else:
                motor.set(0)
            if self.state == 0:
                blink_ms = (blink_ms + _UI_MS) % _BLINK_PERIOD_MS
                level = (255 * self.settings.get("led_brightness_pct")) // 100 if blink_ms < _BLINK_ON_MS else 0
                led.set_rgb(level, level, level)
            else:
                led.set_rgb(0, 0, 0)  # the state stage (issue 4) will colour it

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
        self.board.on_stop(self.log.flush)
        await asyncio.gather(
            self.supervise("sense", self.sense),
            self.supervise("flush", self.flusher),
            self.supervise("serial", self.serial),
            self.supervise("ui", self.ui),
        )


def run(board):
    app = App(board)
    try:
        asyncio.run(app.main())
    finally:
        app.running = False
        try:
            app.log.close()
        finally:
            board.deinit()
    return app
