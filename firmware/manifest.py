# Frozen build of the Soothe firmware for an ESP32 (MicroPython's manifest format):
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/soothe/firmware/manifest.py
# Frozen modules run their bytecode in place from flash, so only their objects take heap:
# the DevKitC (no PSRAM) needs this build (hardware/README.md, "RAM budget").
# The list is explicit: the device image only (no simulator, synthetic signal, replay or
# bench modules).  main.py stays on the filesystem as the entry point `soothe deploy` writes.
include("$(PORT_DIR)/boards/manifest.py")  # the port's own frozen modules (asyncio, neopixel, ...)

module("app.py")
module("beats.py")
module("board.py")
module("board_esp32.py")
module("clock.py")
module("coach.py")
module("compat.py")
module("contact.py")
module("drivers.py")
module("hrv.py")
module("link.py")
module("lis2dh12.py")
module("logstore.py")
module("motion.py")
module("pacer.py")
module("records.py")
module("settings.py")
module("state.py")
module("stdio_serial.py")
module("wire.py")
