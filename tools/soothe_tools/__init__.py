"""Soothe's developer tools (installed from a source checkout by `make setup`, not shipped in
the soothe wheel): bench.py (`soothe bench`, `make bench`), soak.py (`soothe soak`,
`make soak`), faults.py (`make faults`), and bench_log/bench_state, the bench's log, wire and
state sections.  They drive the shipped host library (soothe) and the firmware packages."""
