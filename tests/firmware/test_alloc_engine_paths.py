"""The signal engine's newer paths allocate nothing either (MicroPython heap locked from
the very first sample): the rewind of the learning span, beats held while a pulse
builds and let go, the pulse evidence, and contact lost and regained off the wrist."""
import json

from conftest import run_script

# The MicroPython-side code: tests/firmware/mp/alloc_engine_first_sample.py.


def test_engine_from_the_first_sample_and_off_the_wrist_allocates_nothing():
    out = run_script("micropython", "alloc_engine_first_sample.py")
    ok, beats, ok_beats, changes = json.loads(out.strip().splitlines()[-1])
    assert ok, "the engine allocated while the heap was locked"
    assert ok_beats > 45 and beats > ok_beats  # 60 s on the wrist, in four stretches
    assert changes >= 6  # contact came and went with each off-wrist segment
