"""Command line: ``python -m fitscope env`` prints what this machine offers the notebooks;
``python -m fitscope report`` measures every claim and prints the scorecard.

Example:
    $ python -m fitscope env
    $ python -m fitscope report --json card.json --intra-op 1
"""

from __future__ import annotations

import argparse
import json
import sys

from fitscope.instrument.environment import environment_facts, environment_line


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        from fitscope.scorecard import main as report

        return report(argv)
    if argv[:1] == ["diagnose"]:
        from fitscope.diagnose.cli import main as diagnose

        return diagnose(argv[1:])
    parser = argparse.ArgumentParser(prog="fitscope", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    env = sub.add_parser("env", help="versions, CPU budget B and memory of this machine")
    env.add_argument("--json", action="store_true", help="print the full record as JSON")
    sub.add_parser("report", help="measure every claim C1-C11 and print the scorecard (see --help)")
    sub.add_parser("diagnose", help="diagnose a training script's first fit (see --help)")
    args = parser.parse_args(argv)
    if args.command == "env":
        print(json.dumps(environment_facts(), indent=2) if args.json else environment_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
