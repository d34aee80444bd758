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

_ACCEL_MAX = 24  # values kept per FIFO read: 8 samples x 3 axes (a 250 ms read at 25 Hz is 6-7)


class LoopSource:
    def __init__(self, source, seconds, block):
        rate = source.rate_hz
        self.rate_hz = rate
        # Run the generator for the loop's span, remembering its beats' feet.
        source.record_beats = True
        total = seconds * rate
        gc.collect()  # two runs of 2 bytes a sample (the array and its initialiser)
        self._ppg = ppg = zeros("h", total)
        has_accel = hasattr(source, "read_accel")
        nblocks = total // block
        self._acc = acc = zeros("h", nblocks * _ACCEL_MAX if has_accel else 0)
        self._acc_n = acc_n = zeros("B", nblocks if has_accel else 0)
        tmp = zeros("i", block)
        fifo = zeros("h", 96)
        for k in range(nblocks):
            source.fill(tmp, block)
            for j in range(block):
                ppg[k * block + j] = tmp[j]
            if has_accel:
                n = source.read_accel(fifo)
                n = n if n < _ACCEL_MAX else _ACCEL_MAX
                acc_n[k] = n
                for j in range(n):
                    acc[k * _ACCEL_MAX + j] = fifo[j]
        feet = [(t * rate) // 1000000 for t in source.beats_us if (t * rate) // 1000000 < nblocks * block]
        self._start = feet[0] if len(feet) > 2 else 0
        self._end = feet[-1] if len(feet) > 2 else nblocks * block
        self._i = self._start
        self._block = block
        self._k = 0
        self.accel_rate_hz = getattr(source, "accel_rate_hz", 0)
        source.beats_us = []

    def fill(self, buf, count):
        ppg = self._ppg
        i = self._i
        end = self._end
        for j in range(count):
            buf[j] = ppg[i]
            i += 1
            if i >= end:
                i = self._start
        self._i = i
        return count

    def read_accel(self, buf):
        k = self._k
        n = self._acc_n[k]
        acc = self._acc
        base = k * _ACCEL_MAX
        for j in range(n):
            buf[j] = acc[base + j]
        self._k = k + 1 if k + 1 < len(self._acc_n) else 0
        return n
