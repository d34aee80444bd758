"""Test script (MicroPython): `doctor_run.py CHIPS SCRIPT` runs `soothe doctor`'s board script
(the file SCRIPT, as mpremote's exec would: top level, fresh globals) on the fake board of
doctor_fake.py with the chips doctor_fake.CHIPS[CHIPS] on its bus, then prints what reached
the fake hardware.  tests/host/test_doctor_selftest.py."""
import sys

import doctor_fake

doctor_fake.setup(sys.argv[1])
with open(sys.argv[2]) as f:
    script = f.read()
exec(script, {"__name__": "__main__"})
doctor_fake.report()
