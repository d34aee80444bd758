"""Issue 16 #8/#9: the CLI is one table of (handler, builder, help); the developer tools
(bench, soak, faults) live in tools/soothe_tools, outside the soothe wheel, and `soothe bench`
/ `soothe soak` say in one line how to get them when they are missing."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from soothe import cli

ROOT = Path(__file__).resolve().parents[2]


def test_every_command_comes_from_the_table_in_its_order():
    parser = cli.build_parser()
    sub = [a for a in parser._actions if a.dest == "command"][0]
    assert list(sub.choices) == list(cli.COMMANDS)
    for name, (handler, builder, help_text) in cli.COMMANDS.items():
        assert callable(handler) and callable(builder) and help_text
        assert sub.choices[name].get_default("func") is handler
    # the shared helpers define each option once: --port, --db and the range read the same everywhere
    for name in ("sync", "monitor", "config", "finder", "deploy", "doctor"):
        assert "--port" in sub.choices[name]._option_string_actions, name
    for name in ("sessions", "export", "report", "summary"):
        opts = sub.choices[name]._option_string_actions
        assert {"--db", "--device", "--day", "--from", "--to"} <= set(opts), name


def test_a_command_error_is_one_line_and_exit_2(capsys):
    def do_fail(args):
        raise cli.CommandError("fix this")

    cli.COMMANDS["fail-test"] = (do_fail, cli.add_port, "a test command")
    try:
        assert cli.main(["fail-test", "--port", "x"]) == 2
    finally:
        del cli.COMMANDS["fail-test"]
    err = capsys.readouterr().err
    assert err == "soothe: error: fix this\n"


# The store layer: the store (schema, writes), its boot-dating pass run at each sync, and the
# read queries by day or range.  The CLI, the exports, sync and the report ask these.
STORE_LAYER = ("store.py", "dating.py", "query.py")


def test_the_host_package_holds_no_sql_outside_the_store_layer():
    host = ROOT / "host" / "soothe"
    offenders = [p.name for p in host.glob("*.py") if p.name not in STORE_LAYER
                 and any(k in p.read_text() for k in ("SELECT ", "INSERT ", "UPDATE ", "DELETE "))]
    assert offenders == []


@pytest.mark.parametrize("argv,tool", [(["bench", "--quick"], "bench"), (["soak", "--days", "1"], "soak")])
def test_bench_and_soak_without_the_tools_installed_say_how_to_get_them(argv, tool):
    # as in an installed wheel: no tools package
    code = "import sys; sys.modules['soothe_tools'] = None; from soothe import cli; sys.exit(cli.main(%r))" % argv
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["soothe: error: `soothe %s` is a developer tool (tools/soothe_tools): run "
                                        "`make setup` in a source checkout of Soothe, then `make %s`" % (tool, tool)]


def test_the_wheel_ships_no_developer_tools(tmp_path):
    # built from a copy of what pyproject.toml packages: a stale build/ in the checkout cannot leak in
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("host", "firmware", "tools"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path), str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("soothe-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "soothe/cli.py" in names and "soothe_fw/app.py" in names
    tools = [n for n in names if n.startswith(("soothe_tools/", "tools/", "probes/"))
             or n.split("/")[-1] in ("bench.py", "bench_log.py", "bench_state.py", "soak.py", "faults.py")
             or n.split("/")[-1].startswith("bench_")]
    assert tools == []
