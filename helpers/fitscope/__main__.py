"""Command line: ``python -m fitscope env`` prints what this machine offers the notebooks.

Example:
    $ python -m fitscope env
"""

from __future__ import annotations

import argparse
import json

from .environment import environment_facts, environment_line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fitscope", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    env = sub.add_parser("env", help="versions, CPU budget B and memory of this machine")
    env.add_argument("--json", action="store_true", help="print the full record as JSON")
    args = parser.parse_args(argv)
    if args.command == "env":
        print(json.dumps(environment_facts(), indent=2) if args.json else environment_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
