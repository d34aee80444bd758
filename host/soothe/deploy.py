"""`soothe deploy` and `soothe doctor`: the firmware onto a board with mpremote, and a
health check of a connected board.

deploy:
1. compiles firmware/ to .mpy with mpy-cross (-march=xtensawin: ESP32 and ESP32-S3),
   the package firmware/manifest.py declares (soothe_fw; nothing else ships), keeping its
   folders; main.py stays source;
2. asks a running Soothe app to give the REPL back (the wire REPL command restores
   Ctrl-C, which a sync turns off), then uses the mpremote CLI:
   - `exec` an inventory script: which firmware files are on the board, with hashes;
   - `fs rm` firmware files the new image no longer has (never /data: config and log stay);
   - `fs cp` of every file, and board.txt, in one chained mpremote call;
   - `exec` the inventory again and compares SHA-256 hashes with the local files;
   - `soft-reset`, which starts the app.
The runner that executes mpremote is injected, so tests drive a fake board.
"""
import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

from .fw import _tool, compile_firmware

BOARDS = ("esp32-devkitc", "xiao-esp32s3")
ARCH = "xtensawin"

# Runs on the board (and under the unix port in tests): firmware files and their hashes,
# with paths relative to the root ("main.py", "soothe_fw/sense/beats.mpy"), and the folders
# of the package.  /data (the wearer's config and log) is never listed, so never touched.
INVENTORY = """
import os, json, hashlib, binascii
out = {}
dirs = []
def sha(name):
    h = hashlib.sha256()
    with open(name, 'rb') as f:
        while True:
            b = f.read(512)
            if not b:
                break
            h.update(b)
    return binascii.hexlify(h.digest()).decode()
def walk(d):
    for e in os.ilistdir(d or '.'):
        name = d + e[0]
        if e[1] == 0x4000:
            dirs.append(name)
            walk(name + '/')
        else:
            out[name] = sha(name)
for e in os.ilistdir('.'):
    name = e[0]
    if e[1] == 0x4000:
        if name == 'soothe_fw':
            dirs.append(name)
            walk(name + '/')
    elif name.endswith('.mpy') or name in ('main.py', 'board.txt'):
        out[name] = sha(name)
try:
    st = os.statvfs('/')
    free = st[0] * st[3]
except Exception:
    free = -1
print('INVENTORY ' + json.dumps({'files': out, 'dirs': dirs, 'free': free}))
"""

# Runs on the board: versions, free flash and RAM, then the firmware's own self-test
# (soothe_fw/hw/selftest.py), which builds the board from /board.txt as the app does and
# drives its sensor, accelerometer, LED and motor, whatever board.txt chose.
DOCTOR = """
import sys, os, gc, json
res = {'version': sys.version, 'impl': list(sys.implementation.version), 'machine': os.uname().machine}
st = os.statvfs('/')
res['flash_free'] = st[0] * st[3]
gc.collect()
res['ram_free'] = gc.mem_free()
try:
    from soothe_fw.hw import selftest
    res.update(selftest.run())
except Exception as e:
    res['error'] = repr(e)
print('DOCTOR ' + json.dumps(res))
"""


class DeployError(Exception):
    pass


def run_mpremote(args):
    """Default runner: the mpremote CLI that `make setup` installs."""
    proc = subprocess.run([_tool("mpremote", "mpremote")] + list(args), capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def _sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def board_txt(board, sensor="analog", led="pwm-cathode", motor="pwm", cpu_mhz=160, sleep=None, accel=None):
    """/board.txt for firmware/soothe_fw/hw/esp32.py; `sleep` None takes the firmware's default
    (light with the MAX30102, none with the analog sensor), `accel` None likewise (auto)."""
    if board not in BOARDS:
        raise DeployError("--board %s: use one of %s" % (board, ", ".join(BOARDS)))
    if sleep == "light" and sensor != "max30102":
        raise DeployError("--sleep light needs --sensor max30102 (the analog sensor's sample timer stops in "
                          "light sleep)")
    text = "%s\nsensor=%s\nled=%s\nmotor=%s\ncpu_mhz=%d\n" % (board, sensor, led, motor, cpu_mhz)
    return text + ("sleep=%s\n" % sleep if sleep else "") + ("accel=%s\n" % accel if accel else "")


class Deployer:
    def __init__(self, port, runner=run_mpremote, log=print):
        self.port = port
        self.runner = runner
        self.log = log
        self.calls = []

    def mpremote(self, *args):
        argv = ["connect", self.port] + list(args)
        self.calls.append(argv)
        code, out, err = self.runner(argv)
        if code != 0:
            tail = (err or out).strip().splitlines()[-1:] or ["no output"]
            raise DeployError("mpremote %s failed: %s (is the board connected? hold the button while "
                              "resetting for safe mode)" % (args[0], tail[0]))
        return out

    def _exec_json(self, script, tag):
        out = self.mpremote("exec", script)
        for line in out.splitlines():
            if line.startswith(tag + " "):
                return json.loads(line[len(tag) + 1 :])
        raise DeployError("the board did not answer the %s script: %s" % (tag.lower(), out.strip()[-200:]))

    def inventory(self):
        return self._exec_json(INVENTORY, "INVENTORY")

    def deploy(self, board, sensor="analog", led="pwm-cathode", motor="pwm", build_dir=None, cpu_mhz=160,
               sleep=None, accel=None):
        text = board_txt(board, sensor, led, motor, cpu_mhz, sleep, accel)
        with tempfile.TemporaryDirectory() as tmp:
            build = Path(build_dir or tmp) / "image"
            files = compile_firmware(build, sim=False, arch=ARCH)
            (build / "board.txt").write_text(text)
            files.append(build / "board.txt")
            names = {f: f.relative_to(build).as_posix() for f in files}
            local = {names[f]: _sha(f) for f in files}
            inv = self.inventory()
            before = inv["files"]
            stale = sorted(n for n in before if n not in local)
            if stale:
                args = []
                for n in stale:
                    args += ["fs", "rm", ":" + n, "+"]
                self.mpremote(*args[:-1])
            have = set(inv.get("dirs", ()))
            need = sorted({"/".join(n.split("/")[:i]) for n in local for i in range(1, n.count("/") + 1)} - have,
                          key=lambda d: (d.count("/"), d))
            args = []
            for d in need:  # parents first
                args += ["fs", "mkdir", ":" + d, "+"]
            for f in files:
                if before.get(names[f]) != local[names[f]]:  # unchanged files are not copied again
                    args += ["fs", "cp", str(f), ":" + names[f], "+"]
            copied = sum(1 for a in args if a == "cp")
            if args:
                self.mpremote(*args[:-1])
            after = self.inventory()
            bad = sorted(n for n, h in local.items() if after["files"].get(n) != h)
            if bad:
                raise DeployError("hash mismatch after copying %s: run deploy again" % ", ".join(bad))
            self.mpremote("soft-reset")
        self.log("deployed %d files (%d copied, %d unchanged, %d stale removed) to %s, board %s; "
                 "verified by SHA-256; config and log in /data kept; %s bytes flash free"
                 % (len(local), copied, len(local) - copied, len(stale), self.port, board, after["free"]))
        return {"files": local, "copied": copied, "stale": stale, "free": after["free"]}

    def doctor(self):
        return self._exec_json(DOCTOR, "DOCTOR")


def _doctor_accel(res, opts, add, lines):
    """The accelerometer: at rest it reads about 1 g; `accel=auto` without one is not a fault
    (motion then comes from the pulse signal), `accel=lis2dh12` without one is."""
    acc = res.get("accel")
    if acc is None:
        lines.append("info no accelerometer (board.txt accel=none): motion from the pulse signal only"
                     if opts.get("accel") == "none" else "info accelerometer not checked (deploy the firmware first?)")
    elif "error" in acc:
        if opts.get("accel") == "lis2dh12":
            add(False, "accelerometer: %s" % acc["error"])
        else:
            lines.append("info no accelerometer answers (%s): motion from the pulse signal only" % acc["error"])
    else:
        x, y, z = acc.get("mg", [0, 0, 0])
        g_mg = int(round((x * x + y * y + z * z) ** 0.5))
        add(acc.get("n", 0) > 0 and 800 <= g_mg <= 1200,
            "LIS2DH12 accelerometer at 0x%02x: %d samples, at rest |a| = %d mg (x %d, y %d, z %d; expect about "
            "1000: still, no samples or far off means check the wiring)" % (acc.get("addr", 0), acc.get("n", 0),
                                                                            g_mg, x, y, z))


def doctor_report(res):
    """Lines of findings, each 'ok' or a hint; returns (lines, problems)."""
    lines, problems = [], 0

    def add(ok, text):
        nonlocal problems
        problems += 0 if ok else 1
        lines.append(("ok   " if ok else "FIX  ") + text)

    impl = res.get("impl", [0, 0])
    add(tuple(impl[:2]) >= (1, 22), "MicroPython %s on %s" % (".".join(map(str, impl[:3])), res.get("machine", "?")))
    add(res.get("flash_free", 0) >= 256 * 1024, "flash free: %d KB (the log needs about 150 KB a day)"
        % (res.get("flash_free", 0) // 1024))
    add(res.get("ram_free", 0) >= 60 * 1024, "RAM free: %d KB" % (res.get("ram_free", 0) // 1024))
    if "error" in res:
        add(False, "hardware check stopped: %s (deploy the firmware first?)" % res["error"])
        return lines, problems
    opts = res.get("options", {})
    if "board_error" in res:  # the board as board.txt describes it does not start: the app would not either
        add(False, "the board (%s, board.txt %s) does not start: %s" % (
            res.get("board", "?"), " ".join("%s=%s" % kv for kv in sorted(opts.items())) or "defaults",
            res["board_error"]))
        return lines, problems
    if opts.get("sensor") == "max30102":
        add(0x57 in res.get("i2c", []), "MAX30102 on I2C at 0x57 (found %s)" % [hex(a) for a in res.get("i2c", [])])
        if "fifo_samples" in res:
            add(res["fifo_samples"] > 0, "MAX30102 FIFO: %d samples in 1 s (none means check the sensor's supply)"
                % res["fifo_samples"])
    else:
        lo, hi = res.get("adc_min", 0), res.get("adc_max", 0)
        add(8 < hi - lo and hi < 4095 and lo > 0, "PulseSensor on the ADC: readings %d..%d (flat or railed means "
                                                   "check the wiring)" % (lo, hi))
    if str(opts.get("motor", "")).startswith("drv2605"):
        add(0x5A in res.get("i2c", []), "DRV2605L on I2C at 0x5A")
    _doctor_accel(res, opts, add, lines)
    what = {"Ws2812Led": "the WS2812 pixel", "PwmLED": "the RGB LED"}.get(res.get("led"), "the LED")
    motor = {"Drv2605": " (DRV2605)", "PwmMotor": ""}.get(res.get("motor"), "")
    lines.append("look: %s should have shown %s%s" % (what, res.get("pattern", "nothing"), motor))
    return lines, problems
