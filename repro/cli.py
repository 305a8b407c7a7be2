"""The `repro` command: builds the parser from the command modules and dispatches. Every command
has --help ending with an example; `repro --version`; bare `repro` lists the commands."""
from __future__ import annotations

import argparse
import sys

from repro.harness import signals  # noqa: I001 - first: the handlers go in before the slow imports

from repro import __version__
from repro.commands.output import EXIT_CODES_HELP, ExitCode, Output


def command_modules() -> tuple:
    """The command groups, imported when the parser is built: `main` installs the signal handlers
    first, so a SIGTERM during the second these imports take ends the process as documented."""
    from repro.commands import bench, estimate, export, importing, lr_find, price, prices, report, reproduce, train
    return (train, lr_find, estimate, report, price, prices, export, importing, reproduce, bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repro", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Time deep-learning recipes to a target accuracy, price the runs, publish the leaderboard.",
        epilog=f"examples:\n  repro digits --runs 3 && repro report\n  repro prices show --gpu V100 --count 8\n\n"
               f"{EXIT_CODES_HELP}\n")
    parser.add_argument("--version", action="version", version=f"repro {__version__}",
                        help="print repro's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    previous = signals.install()   # SIGTERM/SIGINT end every command the same way, for its whole life
    try:
        parser = build_parser()
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
    finally:
        signals.restore(previous)


def _dispatch(args: argparse.Namespace, out: Output) -> int:
    try:
        return args.func(args, out)
    except (ValueError, OSError) as exc:   # our error types subclass ValueError; OSError: disk, permissions
        out.error(str(exc))
        return ExitCode.ERROR


if __name__ == "__main__":
    sys.exit(main())
