"""MotionMeter's accelerometer path gives Python's numbers on every interpreter.

feed_accel and clean run as viper on the unix port (machine words, ptr16/ptr32 loads that
zero-extend on a 64-bit port) and as bytecode on the 32-bit port; CPython runs the same source
as plain Python.  A pseudo-random integer stream through the corners (negative counts, rails,
flat and partial blocks, axes at +-32767, reads past the FIFO, empty reads) must give the
checksums the native-code MotionMeter gave before the viper rewrite (CPython and the unix
port, commit c8376e9): every cleaned sample, every flag, the meter's state and weights."""
from conftest import run_case

CASES = "motion_exact_cases.py"

# [cleaned PPG, flags, state, w0, w1, w2] per stream: 12-bit, 18-bit, 10-bit ADC
BEFORE_VIPER = [[375835322, 27134854, 304482256, -68, -160, -96],
                [259863276, 411063617, 295438868, -773, -379, -1002],
                [184588758, 465258823, 332625880, -33, -92, -45]]


def test_accelerometer_path_gives_the_same_numbers_everywhere(interp):
    assert interp.case(CASES, "streams", timeout=300) == BEFORE_VIPER


def test_the_stream_reaches_the_corners():
    # The checks above mean something only if the stream moves the weights and
    # cleans: a meter that never learnt would pass them with its zeros.
    for _, _, _, w0, w1, w2 in run_case("cpython", CASES, "streams"):
        assert w0 and w1 and w2
