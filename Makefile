# Soothe: every target sets itself up from a fresh clone (nothing installed by hand).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SITE    = $(shell $(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

.PHONY: setup test lint chromium demo bench soak deploy doctor clean faults mp32-frozen

$(STAMP): pyproject.toml tools/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=77,<82"  # SPDX licence needs 77; neurokit2 wants <82
	$(BIN)/python -m pip install -q -e '.[dev]'
	# the developer tools (bench, soak, fault sweeps): in this venv, never in the soothe wheel
	$(BIN)/python -m pip install -q --no-deps -e tools/
	touch $@

# The 32-bit MicroPython the firmware tests also run under (the ESP32's small-int range and
# object sizes): the official WebAssembly port from npm, driven by tests/mp32.mjs under Node.js.
# Without node the mp32 tests skip and say why.
MP32 := node_modules/@micropython/micropython-webassembly-pyscript/package.json
$(MP32): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund && touch $@; \
	else echo "npm not found: the 32-bit MicroPython tests will be skipped"; fi

setup: $(STAMP) $(MP32)

# micropython-esp32-stubs installs bare .pyi files that mypy ignores in
# site-packages (shared/FIELD-NOTES.md); copy them into typings/ and point mypy there.
typings/.stamp: $(STAMP)
	rm -rf typings && mkdir -p typings/shed typings/stubs
	cp -r $(SITE)/stdlib typings/shed/stdlib
	cp -r $(SITE)/stubs typings/shed/stubs
	cp -r $(SITE)/_mpy_shed typings/stubs/_mpy_shed
	cd $(SITE) && cp $$(sed -n 's/^\([A-Za-z0-9_]*\.pyi\),.*/\1/p' micropython_esp32_stubs-*.dist-info/RECORD) $(CURDIR)/typings/stubs/
	touch $@

lint: typings/.stamp
	$(BIN)/mypy --config-file mypy-firmware.ini -p soothe_fw -p soothe_sim

# The report's browser test (tests/test_report_browser.py) needs Debian's chromium;
# CI runs as root on a fresh machine, so install it here when it is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

test: setup lint chromium
	$(BIN)/pytest

demo: setup
	$(BIN)/soothe demo

BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@

bench: setup $(BENCH_STAMP)
	$(BIN)/soothe bench

# Issue 15's slow fault sweeps (about 30 min): every bit flip and zeroed block of a 2 h log,
# every power cut of a 160-record workload, the app cut over an hour, a noisy line, 100k fuzzed
# frames.  Samples of each run in make test; `soothe bench --only faults` runs the quick set.
faults: setup
	$(BIN)/python -m soothe_tools.faults

# 7 simulated days from the .mpy image on a small heap (about 13 min); a 3 h version runs in make test
soak: setup
	$(BIN)/soothe soak --days 7

# make deploy [PORT=/dev/ttyUSB0] [ARGS="--board xiao-esp32s3 --sensor max30102"]
deploy: setup
	$(BIN)/soothe deploy $(if $(PORT),--port $(PORT)) $(ARGS)

doctor: setup
	$(BIN)/soothe doctor $(if $(PORT),--port $(PORT))

# Issue 17: the device's heap on a 32-bit MicroPython built twice (soothe_fw frozen, and from
# .mpy), from a MicroPython source you give (a clone of github.com/micropython/micropython);
# needs gcc-multilib.  Not part of `make test`; `soothe bench --only cost` prints its figures.
MICROPYTHON ?=
mp32-frozen: setup
	@if [ -z "$(MICROPYTHON)" ]; then echo "make mp32-frozen MICROPYTHON=/path/to/micropython (git clone https://github.com/micropython/micropython)"; exit 2; fi
	@if [ "$$(id -u)" = 0 ] && ! dpkg -s gcc-multilib >/dev/null 2>&1; then apt-get install -y -qq gcc-multilib >/dev/null; fi
	$(BIN)/python -m soothe_tools.frozen build $(MICROPYTHON)
	$(BIN)/python -m soothe_tools.frozen measure

clean:
	rm -rf $(VENV) node_modules typings build *.egg-info .pytest_cache .mypy_cache
