"""Test helper (MicroPython and CPython): runs the PPG generator block by block as the simulated
board does (250 ms PPG blocks, the accelerometer FIFO read after each) and feeds both motion
meters, the accelerometer's and the pulse signal's fallback.  Used by tests/firmware/test_motion.py."""
from soothe_sim import ppg_synth
from soothe_fw.sense import motion
from array import array


def run(plan, seed, fs=100, flat=8, keep_from_s=-1):
    g = ppg_synth.SyntheticPPG(fs, ppg_synth.parse_plan(plan), seed=seed)
    m = motion.MotionMeter(g.accel_rate_hz, fs)
    f = motion.MotionMeter(0, fs, flat)
    blk = fs // 4
    b = array('i', [0] * blk)
    ab = array('h', [0] * 96)
    keep = 0 if keep_from_s < 0 else 3 * 25 * (g.total_ms // 1000 - keep_from_s)
    xyz = array('h', bytes(2 * keep))  # samples from keep_from_s on
    nx = 0
    mag = [1e9, 0.0]  # smallest and largest |a|, mg
    moved = []  # per block: accel meter saw movement in it; fallback the same
    for blkno in range(g.total_ms // 250):
        g.fill(b, blk)
        n = g.read_accel(ab)
        for k in range(0, 3 * n, 3):
            a = (ab[k] ** 2 + ab[k + 1] ** 2 + ab[k + 2] ** 2) ** 0.5
            mag[0] = min(mag[0], a)
            mag[1] = max(mag[1], a)
            if 0 <= keep_from_s * 4 <= blkno:
                xyz[nx] = ab[k]
                xyz[nx + 1] = ab[k + 1]
                xyz[nx + 2] = ab[k + 2]
                nx += 3
        m.feed_accel(ab, n)
        f.feed_ppg(b, blk)
        moved.append((m._n - m._last_move < n, f._n - f._last_move < blk))
    return g, m, f, xyz, moved, mag
