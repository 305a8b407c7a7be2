"""The `repro` command: builds the parser from the command modules and dispatches. Every command
has --help ending with an example; `repro --version`; bare `repro` lists the commands."""
from __future__ import annotations

import argparse
import sys

from repro import __version__
from repro.commands import estimate, export, lr_find, prices, report, reproduce, train
from repro.commands.output import EXIT_CODES_HELP, ExitCode, Output
from repro.harness import signals

COMMAND_MODULES = (train, lr_find, estimate, report, prices, export, reproduce)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repro", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Time deep-learning recipes to a target accuracy, price the runs, publish the leaderboard.",
        epilog=f"examples:\n  repro digits --runs 3 && repro report\n  repro prices show --gpu V100 --count 8\n\n"
               f"{EXIT_CODES_HELP}\n")
    parser.add_argument("--version", action="version", version=f"repro {__version__}",
                        help="print repro's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    signals.install()   # SIGTERM/SIGINT end every command the same way, for its whole life
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return ExitCode.OK
        out = Output(quiet=getattr(args, "quiet", False), as_json=getattr(args, "json", False))
        return int(_dispatch(args, out))
    except signals.Interrupted as exc:
        print(f"repro: interrupted ({exc})", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:   # --help or --version into a closed pipe
        return ExitCode.OK


def _dispatch(args: argparse.Namespace, out: Output) -> int:
    try:
        return args.func(args, out)
    except (ValueError, OSError) as exc:   # our error types subclass ValueError; OSError: disk, permissions
        out.error(str(exc))
        return ExitCode.ERROR


if __name__ == "__main__":
    sys.exit(main())
