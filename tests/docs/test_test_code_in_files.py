"""Issue 16 #10: MicroPython-side test code lives in real .py files (tests/firmware/mp/), run by
the `interp` fixture (interp.case / interp.script, conftest.run_case / run_script), so it is
checked here and its tracebacks name a file and a line, never `<string>`.

The rule, for every Python file under tests/ except tests/firmware/mp/ (the MicroPython-side
files themselves) and tests/fakes/ (fakes the firmware imports): no string in it holds a
multi-line Python program.  A string's text is taken statically, as far as it can be:
  - a literal, implicitly concatenated literals and f-strings (each {...} read as `0`);
  - `a + b` chains, `s % x` and `s.format(...)` (each %-placeholder or {...} read as `0`),
    and `sep.join([...])` of such parts, with module-level names bound to such strings
    resolved (so `HEAD + CODE` counts as one text); any other part (a variable, a generated
    list) is unknown: it reads as a line `0` of its own, which does not count as a line.
A text is a program when, dedented, it has two or more non-blank lines of known text, parses
as Python, and holds a call, an import or a compound statement (def, class, for, while, if,
with, try).
Prose, CSV, SQL and board.txt lines (`key=value`) are not programs; a one-line `-c` (`;`
between statements) is data, allowed.  Docstrings are exempt.  The rule's own cases below
show what it catches; this file, which holds them, is the one file exempt."""
import ast
import re
import textwrap

from conftest import MP_TESTS, ROOT

TESTS = ROOT / "tests"
EXEMPT = (MP_TESTS, TESTS / "fakes", TESTS / "docs" / "test_test_code_in_files.py")
_PLACEHOLDER = re.compile(r"%%|%(\([A-Za-z_]\w*\))?[-#0 +]*\d*(\.\d+)?[rsdifgxXeEc]")
_FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
_CODE = (ast.Call, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For,
         ast.While, ast.If, ast.With, ast.Try)
_OPAQUE = "\x00"  # a part whose text is not known


def _percent(text):
    return _PLACEHOLDER.sub(lambda m: "%" if m.group(0) == "%%" else "0", text)


def _text(node, names):
    """The static text of a string expression, or None when it is not one."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "0" for v in node.values)
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, names), _text(node.right, names)
        if left is None and right is None:
            return None
        return (_OPAQUE if left is None else left) + (_OPAQUE if right is None else right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = _text(node.left, names)
        return None if left is None else _percent(left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        base = _text(node.func.value, names)
        if base is None:
            return None
        if node.func.attr == "format":
            return _FORMAT_FIELD.sub("0", base)
        if node.func.attr == "join" and node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
            parts = [_text(e, names) for e in node.args[0].elts]
            return base.join(_OPAQUE if p is None else p for p in parts)
    return None


def is_program(text):
    src = textwrap.dedent(_percent(text) if "%" in text else text)
    if sum(1 for ln in src.splitlines() if ln.replace(_OPAQUE, "").strip()) < 2:
        return False
    try:
        tree = ast.parse(src.replace(_OPAQUE, "\n0\n"))
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(n, _CODE) for n in ast.walk(tree))


def programs_in_strings(source):
    """[(line, first line of the program)] for every multi-line program held in a string."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    names = {}
    for node in tree.body:  # module-level NAME = <string expression>
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            text = _text(node.value, names)
            if text is not None:
                names[node.targets[0].id] = text
    found = {}
    for node in ast.walk(tree):
        if id(node) in docstrings or not isinstance(node, ast.expr):
            continue
        text = _text(node, names)
        if text is not None and is_program(text):
            line = next(ln for ln in textwrap.dedent(text).splitlines() if ln.replace(_OPAQUE, "").strip())
            found.setdefault(node.lineno, line.strip())
    return sorted(found.items())


def _test_side_files():
    for path in sorted(TESTS.rglob("*.py")):
        if not any(path.is_relative_to(d) for d in EXEMPT):
            yield path


def test_no_test_module_holds_a_program_in_a_string():
    offenders = ["%s:%d: %s" % (p.relative_to(ROOT), line, first)
                 for p in _test_side_files() for line, first in programs_in_strings(p.read_text())]
    assert offenders == [], "move these into a file under tests/firmware/mp/ (see mpcase.py):\n" + "\n".join(
        offenders)


def test_the_rule_catches_programs_however_the_string_is_built():
    caught = [
        'CODE = """\nimport json\nprint(json.dumps(1))\n"""',
        'x = "from a import b\\nb.run()\\n"',
        'HEAD = "import json\\n"\nr = interp(HEAD + "print(json.dumps(run(%r)))" % plan)',
        'r = interp("\\n".join(["import json", "print(json.dumps(%d))" % n]))',
        'r = interp(f"import json\\nprint({x})")',
        'def t():\n    code = """\n        for i in range(3):\n            total += i\n    """',
        'r = interp("import json\\n" + "x = run()\\n" + body)',
        'code = "import sys\\n" + "".join("import %s\\n" % m for m in mods) + "print(len(sys.path))\\n"',
        'r = interp("x = {}\\nprint(x)".format(y))',
    ]
    for src in caught:
        assert programs_in_strings(src), src
    allowed = [
        'def f():\n    """Runs it.\n\n    print(x) is what it does."""',  # a docstring
        'BOARD = "xiao-esp32s3\\nsensor=max30102\\nled=ws2812\\n"',  # board.txt
        'CSV = "ppg\\n512\\n600\\nabc\\n"',
        'SQL = "SELECT kind FROM events\\nWHERE t > ?"',
        'code = "import sys; sys.modules[\'x\'] = None; from soothe import cli; sys.exit(cli.main(%r))" % argv',
        'msg = "the sensor is off the wrist:\\ncheck the strap (and print the log)"',
        'r = interp.case("x_cases.py", "run", plan, 100)',
        'chunk = "import os; " + "; ".join("os.mkdir(%r)" % d for d in dirs)',
    ]
    for src in allowed:
        assert programs_in_strings(src) == [], src


# --- the MicroPython-side files themselves -------------------------------------------------


def _mp_files():
    return sorted(MP_TESTS.glob("*.py"))


def test_every_micropython_side_file_compiles_and_imports_only_what_it_uses():
    """A compile check (pyflakes is not a dependency here) plus its unused-import rule."""
    for path in _mp_files():
        source = path.read_text()
        tree = ast.parse(compile(source, str(path), "exec", ast.PyCF_ONLY_AST, dont_inherit=True), str(path))
        imported = {}
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    imported[(a.asname or a.name).split(".")[0]] = node.lineno
            elif isinstance(node, ast.Try):  # try: import micropython / except ImportError: a stand-in
                for sub in node.body:
                    if isinstance(sub, ast.Import):
                        for a in sub.names:
                            imported[(a.asname or a.name).split(".")[0]] = sub.lineno
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        # a module imported for what importing it does (installing fakes) says so: `# noqa: F401`
        lines = source.splitlines()
        unused = [name for name, line in imported.items()
                  if name not in used and not re.search(r"noqa:.*F401", lines[line - 1])]
        assert unused == [], "%s imports %s and never uses it" % (path.name, unused)


def _case_calls():
    """(test file, mp file, case) for every interp.case / run_case call with literal names."""
    for path in _test_side_files():
        tree = ast.parse(path.read_text())
        names = {n.targets[0].id: n.value.value for n in tree.body
                 if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
                 and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            if isinstance(fn, ast.Attribute) and fn.attr == "case":
                args = node.args[:2]
            elif isinstance(fn, ast.Name) and fn.id == "run_case":
                args = node.args[1:3]
            else:
                continue
            vals = [names.get(a.id) if isinstance(a, ast.Name) else getattr(a, "value", None) for a in args]
            if len(vals) == 2 and all(isinstance(v, str) for v in vals):
                yield path.name, vals[0], vals[1]


def test_every_case_a_test_calls_exists_and_every_case_file_dispatches():
    calls = list(_case_calls())
    assert len(calls) > 50  # the collector sees the calls (so an empty result cannot pass)
    for test, mp_file, case in calls:
        tree = ast.parse((MP_TESTS / mp_file).read_text())
        funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert case in funcs, "%s calls %s:%s, which is not a function there" % (test, mp_file, case)
    for mp_file in {c[1] for c in calls}:
        last = ast.parse((MP_TESTS / mp_file).read_text()).body[-1]
        assert ast.unparse(last) == "mpcase.main(globals())", mp_file


def test_every_micropython_side_file_is_used():
    files = {p: p.read_text() for p in list(_test_side_files()) + _mp_files()}
    for path in _mp_files():
        # some other file names it (a test runs it, or a case file imports it)
        users = [p for p, text in files.items() if p != path and re.search(r"\b%s\b" % re.escape(path.stem), text)]
        assert users, "%s is used by no test" % path.name
