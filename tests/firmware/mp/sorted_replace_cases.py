"""Test helper (MicroPython and CPython): rhythm.sorted_replace (bisection, moves only what
lies between the old item and the new one's place) against the linear scan it replaced, on
pseudo-random sorted arrays of the sizes the firmware uses (16 intervals, 30 ranges) and
small ones, with duplicates, growth (old < 0) and an `old` that is not there.

  sorted_replace_cases.py CASES
Prints one JSON list: [cases run, cases that differed].
Used by tests/firmware/test_sorted_replace.py."""
import sys
import json
from array import array
from soothe_fw.sense.rhythm import sorted_replace


def scan_replace(a, n, old, new):
    """The linear version (main before issue 17's cost work)."""
    if old >= 0:
        i = 0
        while i < n and a[i] != old:
            i += 1
        while i < n - 1:
            a[i] = a[i + 1]
            i += 1
        n -= 1
    i = n
    while i > 0 and a[i - 1] > new:
        a[i] = a[i - 1]
        i -= 1
    a[i] = new


state = [12345]


def rnd(k):
    """xorshift32, the same on every interpreter: 0..k-1."""
    x = state[0]
    x ^= (x << 13) & 0xFFFFFFFF
    x ^= x >> 17
    x ^= (x << 5) & 0xFFFFFFFF
    state[0] = x
    return x % k


def main(cases):
    bad = 0
    sizes = (1, 2, 3, 16, 30)
    for _ in range(cases):
        cap = sizes[rnd(len(sizes))]
        n = rnd(cap + 1)
        vals = sorted(rnd(9) for _ in range(n))
        a = array("i", vals + [rnd(10) for _ in range(cap - n)])
        if n == cap and n:
            old = vals[rnd(n)] if rnd(20) else rnd(10)  # 1 in 20: possibly absent
        else:
            old = -1
        if n == 0 and old >= 0:
            continue
        new = rnd(10)
        b = array("i", a)
        scan_replace(a, n, old, new)
        sorted_replace(b, n, old, new)
        if list(a) != list(b):
            bad += 1
    print(json.dumps([cases, bad]))


main(int(sys.argv[1]))
