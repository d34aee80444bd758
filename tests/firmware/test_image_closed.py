"""The device image is closed: what firmware/manifest.py declares (the soothe_fw package)
imports nothing outside itself but MicroPython's own modules, so what passes here runs on
the board.  Two checks: every import statement in the package, read from the source (a lazy
import inside a function counts too), and the image compiled exactly as `soothe deploy`
compiles it (.mpy, here for the host CPU) with every module imported under the MicroPython
unix port with a fake `machine`, and nothing else on the path."""
import ast
import os
import subprocess

from conftest import MP_TESTS
from soothe import fw

# What a MicroPython ESP32 build provides (its built-in and frozen modules).
MICROPYTHON_MODULES = {"array", "asyncio", "binascii", "gc", "json", "machine", "math", "micropython", "neopixel",
                       "os", "random", "select", "struct", "sys", "time", "vfs", "esp32", "network", "errno",
                       "collections", "io", "hashlib", "re", "framebuf", "uctypes", "bluetooth", "deflate"}


def _package_modules():
    root = fw.FIRMWARE_DIR / fw.DEVICE_PACKAGE
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(fw.FIRMWARE_DIR).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield ".".join(parts), path


def outside_imports():
    """(module, imported name) for every import that leaves the package."""
    bad = []
    for mod, path in _package_modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != fw.DEVICE_PACKAGE and top not in MICROPYTHON_MODULES:
                    bad.append((mod, name))
    return bad


def test_no_device_module_imports_outside_the_package():
    assert outside_imports() == []


def test_the_compiled_image_imports_under_micropython_with_nothing_else_on_the_path(tmp_path):
    image = tmp_path / "image"
    written = fw.compile_firmware(image, sim=False, arch=fw.host_arch())
    shipped = sorted(p.relative_to(image).as_posix() for p in written)
    assert "main.py" in shipped and not any(n.startswith(fw.SIM_PACKAGE) for n in shipped)
    # the fake machine goes into its own folder: the image folder holds only the image
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    fake_dir = fw.FIRMWARE_DIR.parent / "tests" / "fakes"
    (fakes / "machine.py").write_text((fake_dir / "fake_machine.py").read_text())
    (fakes / "fake_i2c.py").write_text((fake_dir / "fake_i2c.py").read_text())
    mods = [m for m, _ in _package_modules()]
    # tests/firmware/mp/import_all.py, from a folder of its own (a script's folder is on its path)
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "import_all.py").write_text((MP_TESTS / "import_all.py").read_text())
    env = dict(os.environ, MICROPYPATH=".frozen:%s:%s" % (image, fakes))
    proc = subprocess.run([fw.micropython_binary(), str(probe / "import_all.py")] + mods, capture_output=True,
                          text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["imported", str(len(mods))]
    # and the simulator is really not reachable from there (so the check above means something)
    proc = subprocess.run([fw.micropython_binary(), "-c", "import soothe_sim.board"], capture_output=True,
                          text=True, env=env, cwd=str(tmp_path), timeout=60)
    assert proc.returncode != 0 and "ImportError" in proc.stdout + proc.stderr
