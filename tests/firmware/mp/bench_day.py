"""Test script (MicroPython ports): hours of tools/probes/bench_device.py's simulated day (the
real App on allocation-free fake peripherals, with the heap locked on each path);
`bench_day.py H0 H1 HOURS SAMPLE_MIN` runs hours H0..H1 of a day of HOURS, sampling its first
and last SAMPLE_MIN minutes, then prints the probe's report (JSON).
tests/firmware/test_firmware_alloc.py and test_alloc32.py."""
import sys

import bench_device as d

d.run_hours(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
d.report()
