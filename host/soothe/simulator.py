"""Runs the real firmware on the simulated board under the MicroPython unix port.

The firmware's stdin/stdout is one side of a pseudo-terminal; the other side's
path (`/dev/pts/N`) is what the host opens with pyserial, as it would a
`/dev/ttyUSB0`.  This process keeps that side open too, so the device never
sees a hang-up when a host disconnects between syncs.
"""
import os
import subprocess
import threading
import time
import tty
from pathlib import Path

from .fw import FIRMWARE_DIR, compile_firmware, host_arch, micropython_binary, micropython_env
from .store import ensure_private_file


class SimError(Exception):
    pass


class Simulator:
    def __init__(self, flash, ppg=None, rate=100, seed=1, plan=None, speed=None, duration=None,
                 trace=None, presses=(), device_id=None, heapsize=None, cut_after_writes=None,
                 invert=False, start=None, hang_sense_at=None, accel=True, progress=False):
        self.argv = ["--flash", str(Path(flash).resolve()), "--rate", str(rate)]
        if ppg:
            if not Path(ppg).is_file():
                raise SimError("PPG file %s not found" % ppg)
            self.argv += ["--ppg", str(Path(ppg).resolve())]
        else:
            self.argv += ["--synthetic", "--seed", str(seed)]
            if plan:
                self._plan_file = None
                if len(plan) < 200:
                    self.argv += ["--plan", plan]
                else:  # the unix port crashes on an argument of 256 bytes or more: hand it over in a file
                    import tempfile

                    fd, name = tempfile.mkstemp(prefix="soothe-plan-", suffix=".txt")
                    with os.fdopen(fd, "w") as f:
                        f.write(plan)
                    self._plan_file = name
                    self.argv += ["--plan-file", name]
        if speed:
            self.argv += ["--speed", str(speed)]
        else:
            self.argv += ["--fast"]
        if duration:
            self.argv += ["--duration", str(duration)]
        if trace:
            ensure_private_file(trace)
            self.argv += ["--trace", str(Path(trace).resolve())]
        for p in presses:
            self.argv += ["--press", p]
        if device_id:
            self.argv += ["--device-id", device_id]
        if cut_after_writes is not None:
            self.argv += ["--cut-after-writes", str(cut_after_writes)]
        if invert:
            self.argv += ["--invert"]
        if hang_sense_at is not None:
            self.argv += ["--hang-sense-at", str(hang_sense_at)]
        if start is not None:
            self.argv += ["--start", str(int(start))]
        if not accel:
            self.argv += ["--no-accel"]
        if progress:  # `sim: at t=N s` lines every 5 virtual minutes, for a progress bar
            self.argv += ["--progress"]
        self.flash = Path(flash)
        self.heapsize = heapsize
        self.prefix = []  # a command to run the port under, e.g. valgrind (soothe bench)
        self.binary = None  # another MicroPython than the venv's (soothe_tools.frozen: the 32-bit builds)
        self.code_dir = None  # a folder of .mpy files (fw.compile_firmware) to run instead of the .py sources
        self.proc = None
        self.port = None
        self.stopped = threading.Event()
        self.stderr_lines = []
        self._slave = None

    def use_mpy(self, folder):
        """Runs the firmware from .mpy files compiled into `folder` for this host's CPU
        (beats.process is @micropython.native, so the .mpy carries machine code)."""
        compile_firmware(folder, arch=host_arch())
        self.code_dir = folder

    def start(self):
        ensure_private_file(self.flash)
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        cmd = self.prefix + [self.binary or micropython_binary()]
        if self.heapsize:
            cmd += ["-X", "heapsize=%s" % self.heapsize]
        code = Path(self.code_dir) if self.code_dir else FIRMWARE_DIR
        cmd += ["-m", "soothe_sim.main"] + self.argv
        env = micropython_env() if not self.code_dir else dict(micropython_env(), MICROPYPATH=".frozen:%s" % code)
        self.proc = subprocess.Popen(cmd, stdin=master, stdout=master, stderr=subprocess.PIPE, env=env)
        os.close(master)
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        return self.port

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.stderr_lines.append(line)
            if line.startswith("sim: stopped"):
                self.stopped.set()
        self.stopped.set()

    def wait_stopped(self, timeout=None):
        """Waits until the simulated duration has run (the firmware flushed its log)."""
        if not self.stopped.wait(timeout):
            raise SimError("simulator did not finish within %s s" % timeout)
        if self.proc.poll() is not None and self.proc.returncode != 0:
            raise SimError("simulator exited with %s: %s" % (self.proc.returncode, " | ".join(self.stderr_lines[-5:])))

    def stats_line(self, timeout=5.0):
        """The line the simulated board prints when its clock stops (heap, flash, watchdog)."""
        wait_for(lambda: any("flash writes=" in ln for ln in self.stderr_lines), timeout)
        return next((ln for ln in self.stderr_lines if "flash writes=" in ln), "")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_reader", None) is not None:
            # every line the process wrote before it ended (a loaded machine reads the pipe late)
            self._reader.join(5)
        if self._slave is not None:
            os.close(self._slave)
            self._slave = None
        if getattr(self, "_plan_file", None):
            try:
                os.unlink(self._plan_file)
            except OSError:
                pass
            self._plan_file = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def wait_for(predicate, timeout, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
