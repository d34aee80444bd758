"""MicroPython-side cases of the simulator package (soothe_sim) run from the host tests
(tests/host/test_ux.py): the firmware-side duration parser.  `FILE CASE ARGS` (mpcase)."""
import mpcase
from soothe_sim import ppg_synth


def durations():
    ok = [ppg_synth.parse_duration_ms(t) for t in ('90', '90s', '10m', '13h30m', '1d2h', '1.5h', '250ms')]
    bad = 0
    for t in ('', '-5', '5x', '10m5', 'h', 'ten'):
        try:
            ppg_synth.parse_duration_ms(t)
        except ValueError:
            bad += 1
    return [ok, bad]


mpcase.main(globals())
