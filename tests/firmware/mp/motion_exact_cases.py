"""MicroPython-side cases of tests/firmware/test_motion_exact.py: MotionMeter's accelerometer
path (feed_accel, clean, flag) on a pseudo-random integer stream that reaches the corners
the machine-word code must get right: negative PPG counts, both ADC rails, flat blocks,
partial blocks, accelerometer axes from -32768 to 32767, reads longer than the FIFO, empty
reads.  Returns checksums of every cleaned sample, flag and meter state, so any interpreter
(CPython, the 64-bit unix port with viper, the 32-bit port as bytecode) must give the same
numbers.  `FILE CASE ARGS` (mpcase)."""
from array import array

import mpcase
from soothe_fw.sense import motion

_M = 1 << 29  # checksums stay small ints on every port


class _Rand:
    """xorshift32: the same stream on every interpreter."""

    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        x = self.s
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x % n


def stream(adc_max, blocks, seed):
    """[ppg checksum, flag checksum, final state] of `blocks` blocks through one meter."""
    r = _Rand(seed)
    m = motion.MotionMeter(25, 100, 8, adc_max)
    ppg = array("i", [0] * 25)
    acc = array("h", [0] * 120)  # room for 40 samples: a read longer than the 32-sample FIFO
    level = adc_max // 2
    ax = ay = az = 0
    sum_ppg = 0
    sum_flag = 0
    for blk in range(blocks):
        kind = r.next(16)
        moving = (blk // 40) % 3 != 0  # 10 s still, 20 s moving, ...
        count = 25 if kind else 7 + r.next(18)  # now and then a partial block
        for k in range(25):
            if kind == 1:
                v = 80 + r.next(4)  # flat: a sensor off the skin
            elif kind == 2:
                v = (0, 1, adc_max - 1, adc_max)[r.next(4)]  # rails
            else:
                v = level + r.next(adc_max // 8 + 1) - adc_max // 16
                if kind == 3:
                    v = -r.next(adc_max // 10 + 1)  # below zero (an offset-corrected sensor)
            ppg[k] = v
        n = 6 + (blk & 1)
        if kind == 4:
            n = 0
        elif kind == 5:
            n = 40
        for j in range(n):
            if moving:
                ax += r.next(801) - 400
                ay += r.next(601) - 300
                az += r.next(1001) - 500
                ax = max(-30000, min(30000, ax))
                ay = max(-30000, min(30000, ay))
                az = max(-30000, min(30000, az))
                if kind == 6:
                    ax, ay, az = 32767, -32768, 32767
            else:
                ax, ay, az = r.next(17) - 8, r.next(17) - 8, 1000 + r.next(17) - 8
            acc[3 * j] = ax
            acc[3 * j + 1] = ay
            acc[3 * j + 2] = az
        m.feed_accel(acc, n)
        m.clean(ppg, count)
        for k in range(25):
            sum_ppg = (sum_ppg * 31 + ppg[k] + blk) % _M
        f = m.flag(r.next(7), r.next(2000), r.next(3500) - 200)
        sum_flag = (sum_flag * 7 + f) % _M
    state = [m._bx, m._by, m._bz, m._dev, m._n, m._pm, m._est_last, m.level_pct, int(m.moving), int(m.moving_now)]
    state += list(m._ep_s) + list(m._ep_e) + list(m._refs) + list(m._ests)
    sum_state = 0
    for v in state:
        sum_state = (sum_state * 31 + v) % _M
    return [sum_ppg, sum_flag, sum_state, m._w0, m._w1, m._w2]


def streams():
    return [stream(4095, 2400, 7), stream((1 << 18) - 1, 1200, 11), stream(1023, 1200, 13)]


mpcase.main(globals())
