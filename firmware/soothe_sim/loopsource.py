"""A cost-free signal source, to measure what the device itself costs (`--loop-source S`).

The synthetic generator (ppg_synth) costs more per sample than the whole firmware (floats, a
template lookup, the accelerometer model).  This source runs it once at boot for S seconds,
keeps the PPG from the first beat's foot to the last one's (so the loop joins foot to foot)
and the accelerometer's FIFO reads block by block, then hands them out again in a loop: a
block costs a copy of 25 integers.  `soothe bench --only cost` measures the whole simulated
device with it, so the figure is the device's, not the generator's.
"""
import gc

from soothe_fw.compat import zeros

_ACCEL_SAMPLES = 8  # samples kept per FIFO read (a 250 ms read at 25 Hz holds 6-7)
_ACCEL_MAX = 3 * _ACCEL_SAMPLES  # x, y, z interleaved


class LoopSource:
    cost_free = True  # the board leaves out its once-a-minute heap statistics (a collect)

    def __init__(self, source, seconds, block):
        rate = source.rate_hz
        self.rate_hz = rate
        # Run the generator for the loop's span, remembering its beats' feet.
        source.record_beats = True
        nblocks = seconds * rate // block
        gc.collect()
        self._ppg = ppg = zeros("i", nblocks * block)
        self._acc = acc = zeros("h", nblocks * _ACCEL_MAX)
        self._acc_n = acc_n = zeros("B", nblocks)
        tmp = zeros("i", block)
        fifo = zeros("h", 96)
        for k in range(nblocks):
            source.fill(tmp, block)
            for j in range(block):
                ppg[k * block + j] = tmp[j]
            n = source.read_accel(fifo)  # samples
            n = n if n < _ACCEL_SAMPLES else _ACCEL_SAMPLES
            acc_n[k] = n
            for j in range(3 * n):
                acc[k * _ACCEL_MAX + j] = fifo[j]
        # Whole blocks from the first beat's foot to the last one's: a block is one slice copy.
        feet = [(t * rate) // 1000000 for t in source.beats_us if (t * rate) // 1000000 < nblocks * block]
        first = feet[0] if len(feet) > 2 else 0
        span = ((feet[-1] if len(feet) > 2 else nblocks * block) - first) // block * block
        self._start = first
        self._end = first + span
        self._i = first
        self._block = block
        self._mv = memoryview(ppg)
        self._amv = memoryview(acc)
        self._k = 0
        self.accel_rate_hz = source.accel_rate_hz
        source.beats_us = []

    def fill(self, buf, count):
        i = self._i
        if count != self._block or i + count > self._end:  # not the board's cadence: sample by sample
            for j in range(count):
                buf[j] = self._ppg[i]
                i = i + 1 if i + 1 < self._end else self._start
            self._i = i
            return count
        buf[0:count] = self._mv[i:i + count]  # a C copy (one small memoryview object)
        i += count
        self._i = i if i < self._end else self._start
        return count

    def read_accel(self, buf):
        k = self._k
        n = self._acc_n[k]
        base = k * _ACCEL_MAX
        buf[0:3 * n] = self._amv[base:base + 3 * n]
        self._k = k + 1 if k + 1 < len(self._acc_n) else 0
        return n
