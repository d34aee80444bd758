# The Soothe device image (MicroPython's manifest format).  Everything in the soothe_fw
# package may run on the ESP32 and nothing outside it does; the simulator (soothe_sim) and
# the bench probes (tools/) live beside it and are never part of an image.
#
# Frozen build for an ESP32:
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/soothe/firmware/manifest.py
# Frozen modules run their bytecode in place from flash, so only their objects take heap:
# the DevKitC (no PSRAM) needs this build (hardware/README.md, "RAM budget").
# `soothe deploy` copies the same package as .mpy files (soothe.fw.image_sources) and
# main.py, the entry point MicroPython runs at boot, which stays on the filesystem.
include("$(PORT_DIR)/boards/manifest.py")  # the port's own frozen modules (asyncio, neopixel, ...)

package("soothe_fw")
