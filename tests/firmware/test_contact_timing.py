"""Issue 13's contact timing through App.sense's pipeline (detector + MotionMeter with the
simulated accelerometer + ContactGate), every interpreter, several seeds per off-wrist variant:
"no reading" within 3 s of leaving; on the wrist again the shown contact follows the first OK
beat at once; a sensor that slips off mid-walk onto a flat line drops contact at once.
Virtual time only (the generator's sample clock).  tests/firmware/mp/contact_timing.py."""
import pytest

VARIANTS = ["nocontact", "offwrist_ambient", "offwrist_dangling", "offwrist_daylight", "offwrist_table"]
SEEDS = "0,1,2,3"


@pytest.mark.parametrize("kind", VARIANTS)
def test_no_reading_within_3_s_of_leaving_and_shown_with_the_first_ok_beat(interp, kind):
    for seed, lost, first_ok, shown, ok_off, dist in interp.script("contact_timing.py", kind, SEEDS):
        assert ok_off == 0, seed  # never an OK beat from the empty wrist
        # The last pulse ends ~0.5 s after leaving; 2 s without an OK beat is no reading,
        # judged at each 250 ms block (was: on the 1 s window grid, up to 3.0 s).
        assert lost is not None and 0 <= lost < 3.0, (seed, lost)
        # Back on the wrist: a true beat comes out OK (the foot, ~0.1 s after the onset),
        # and the LED's contact follows it within a second (was: 4 s later).
        assert first_ok is not None and dist < 0.2, (seed, first_ok, dist)
        assert shown is not None and shown - first_ok <= 1.0, (seed, first_ok, shown)


@pytest.mark.xfail(strict=True, reason="issue 13: the first OK beat still comes 4.5-7.75 s after return "
                   "on some seeds (the evidence needs 4 pulse-shaped upstrokes after the level and the "
                   "polarity are right; no replay of the held samples yet)")
def test_beats_back_within_5_s_of_return(interp):
    for kind in ("nocontact", "offwrist_ambient"):
        for seed, lost, first_ok, shown, ok_off, dist in interp.script("contact_timing.py", kind, SEEDS):
            assert first_ok is not None and first_ok <= 5.0, (kind, seed, first_ok)
            assert shown is not None and shown <= 5.0, (kind, seed, shown)


def test_sensor_slipping_off_a_walking_arm_onto_a_flat_line(interp):
    # The accelerometer still measures the walk; the PPG is flat.  The artefact canceller
    # used to paint the arm's swing onto the flat line, a live wave that held "worn" (drive,
    # beats MOTION) for the whole minute off the wrist.
    for seed, lost, first_ok, shown, ok_off, dist in interp.script("contact_timing.py", "nocontact", "1,2", "walking"):
        assert ok_off == 0
        assert lost is not None and 0 <= lost < 3.0, (seed, lost)


@pytest.mark.xfail(strict=True, reason="issue 13: a sensor swinging off a walking arm (live, no pulse) "
                   "still holds 'worn' while the arm moves: the worn walking wrist shows no pulse-shaped "
                   "upstroke for 7-15 s at a time, so the gate cannot ask for one within 3 s")
def test_sensor_slipping_off_a_walking_arm_and_swinging(interp):
    for seed, lost, first_ok, shown, ok_off, dist in interp.script("contact_timing.py", "offwrist_dangling", "1",
                                                                  "walking"):
        assert lost is not None and 0 <= lost < 3.0, (seed, lost)
