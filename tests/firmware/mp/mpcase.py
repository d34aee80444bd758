"""The calling convention of the MicroPython-side test files here (CPython, the 64-bit unix
port and the 32-bit port alike): `FILE CASE ARGS` calls the file's function CASE with the
JSON list ARGS (or the JSON in the file named by "@path": the unix port fails on an argument
of 256 bytes or more) and prints its result as one JSON line.  Each such file ends with
`mpcase.main(globals())`; the host side is conftest.run_case / interp.case."""
import json
import sys


def main(cases):
    args = sys.argv[2] if len(sys.argv) > 2 else "[]"
    if args.startswith("@"):
        with open(args[1:]) as f:
            args = f.read()
    print(json.dumps(cases[sys.argv[1]](*json.loads(args))))
