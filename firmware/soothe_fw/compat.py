"""The few names that differ between MicroPython and CPython.

Pure-logic modules import `const`, `native` and the ticks helpers from here, so
the same file runs on the ESP32, under the unix port and under CPython tests.
"""
from array import array

try:
    from micropython import const  # noqa: F401

    IS_MICROPYTHON = True
except ImportError:  # CPython

    def const(x):  # type: ignore
        return x

    IS_MICROPYTHON = False

# `@micropython.native` is recognised by the MicroPython compiler only when
# written literally, so modules that want it do:
#     try: import micropython
#     except ImportError: from compat import mp_shim as micropython


class mp_shim:
    """CPython stand-in for the `micropython` decorators (no-ops)."""

    @staticmethod
    def native(f):
        return f

    @staticmethod
    def viper(f):
        return f


if not IS_MICROPYTHON:  # viper's pointer casts, as plain indexing for CPython

    def ptr32(b):  # type: ignore
        return b

    ptr8 = ptr16 = ptr32


try:
    from time import ticks_ms, ticks_diff, ticks_add  # type: ignore[attr-defined]
except ImportError:  # CPython
    import time as _time

    _PERIOD = 1 << 30
    _HALF = _PERIOD >> 1

    def ticks_ms():  # type: ignore
        return int(_time.monotonic() * 1000) & (_PERIOD - 1)  # type: ignore[attr-defined]

    def ticks_add(t, delta):  # type: ignore
        return (t + delta) & (_PERIOD - 1)

    def ticks_diff(a, b):  # type: ignore
        return ((a - b + _HALF) & (_PERIOD - 1)) - _HALF


try:
    import micropython
except ImportError:
    micropython = mp_shim  # type: ignore[assignment]


@micropython.viper
def isqrt(n: int) -> int:
    """Integer square root (floor) without floats, so it allocates nothing.  Viper: machine
    words, so n < 2**31 on the ESP32 (as bytecode it took ~5k instructions for a 60 s RMSSD)."""
    if n <= 0:
        return 0
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


_ITEM_BYTES = {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "f": 4}


def zeros(typecode, n):
    """A zero-filled array of n items, built without a temporary n-item list.

    `array(tc, [0] * n)` briefly needs a list of n pointers (8n bytes on a 64-bit
    port), which fragments a small heap.  MicroPython copies a buffer initialiser
    byte for byte; CPython needs frombytes().
    """
    raw = bytearray(_ITEM_BYTES[typecode] * n)
    try:
        a = array(typecode, raw)
        if len(a) == n:
            return a
    except TypeError:
        pass
    a = array(typecode)
    a.frombytes(raw)  # type: ignore[attr-defined]
    return a
