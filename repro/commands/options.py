"""Argument helpers shared by the command modules: every option gets help text, every command an
example at the end of its --help."""
from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_RESULTS = Path("results")
DEFAULT_SITE = Path("reports/site")


def add_command(sub, name: str, *, help: str, examples: str, description: str | None = None,
                **kwargs) -> argparse.ArgumentParser:
    """A sub-command whose --help ends with its examples (one per line, without the `$ `)."""
    lines = [f"  {line}" for line in examples.strip().splitlines()]
    return sub.add_parser(name, help=help, description=description or help[:1].upper() + help[1:] + ".",
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog=("example:\n" if len(lines) == 1 else "examples:\n") + "\n".join(lines) + "\n",
                          **kwargs)


def add_output_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quiet", action="store_true", help="print nothing but errors")
    g.add_argument("--json", action="store_true", help="print one JSON object per line instead of text")


def add_results(p: argparse.ArgumentParser, help: str = "results directory (default results/)") -> None:
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS, metavar="DIR", help=help)


def add_snapshot(p: argparse.ArgumentParser) -> None:
    p.add_argument("--snapshot", type=Path, default=None, metavar="CSV",
                   help="price snapshot CSV (default: $REPRO_PRICE_SNAPSHOT or the shipped one)")


def count_at_least_one(text: str) -> int:
    """argparse type of a count (GPUs, vCPUs, nodes): a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a count must be a whole number >= 1")
    return value
