"""`repro import dawnbench PATH`: published DAWNBench entries into records `repro report` shows
beside the measured runs, each priced today as well as at its reported cost."""
from __future__ import annotations

import argparse
from pathlib import Path

from repro.commands.options import add_command, add_output_flags, add_results, add_snapshot
from repro.commands.output import ExitCode, Output

DAWNBENCH_EXAMPLES = """\
git clone https://github.com/stanford-futuredata/dawn-bench-entries
repro import dawnbench dawn-bench-entries --results results && repro report
repro import dawnbench dawn-bench-entries --entry fastai_pytorch --entry CIFAR10/basenet"""


def register(sub) -> None:
    imports = add_command(sub, "import", help="import published results to show beside measured runs",
                          examples="repro import dawnbench dawn-bench-entries")
    kinds = imports.add_subparsers(dest="import_kind", metavar="KIND", required=True)
    p = add_command(kinds, "dawnbench", help="read a checkout of the DAWNBench entries repository",
                    description="Read <Task>/train/<entry>.json and .tsv of a checkout of "
                                "stanford-futuredata/dawn-bench-entries (CIFAR10 and ImageNet training) into "
                                "published records under RESULTS/_published/, which `repro report` shows "
                                "with the reported cost and the same hours priced on today's snapshot.",
                    examples=DAWNBENCH_EXAMPLES)
    p.add_argument("path", type=Path, help="the entries repository checkout")
    add_results(p, help="results directory whose reports show the entries (default results/)")
    p.add_argument("--entry", action="append", metavar="NAME",
                   help="import only this entry: its file name without .json, or Task/name (repeatable)")
    p.add_argument("--commit", metavar="SHA", help="the repository commit PATH holds, where PATH is not a "
                                                   "git checkout (an unpacked archive)")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="write the records to FILE instead of RESULTS/_published/dawnbench.json")
    add_snapshot(p)
    add_output_flags(p)
    p.set_defaults(func=cmd_import_dawnbench)


def cmd_import_dawnbench(args: argparse.Namespace, out: Output) -> int:
    from repro.harness.store import atomic_write_json
    from repro.pricing.catalog import load_snapshot
    from repro.pricing.money import format_usd, to_decimal
    from repro.report.dawnbench_entries import import_entries
    from repro.report.format import hms
    from repro.report.published import imported_path

    if args.commit is not None and not _is_sha(args.commit):
        out.error(f"--commit {args.commit!r} is not a 40-character git commit SHA; "
                  "give the full SHA the checkout was taken at")
        return ExitCode.ERROR
    snapshot = load_snapshot(args.snapshot)
    document, problems = import_entries(args.path, snapshot=snapshot, names=args.entry, commit=args.commit)
    for problem in problems:
        out.warn(f"left out {problem}")
    if not document["entries"]:
        out.error(f"no entry of {args.path} could be imported; nothing written")
        return ExitCode.ERROR
    target = args.out or imported_path(args.results, "dawnbench")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(target, document)
    for entry in document["entries"]:
        out.record("published", {**entry, "usd_per_hour": to_decimal(entry["usd_per_hour"]),
                                  "reported_usd": to_decimal(entry["reported_usd"])})
        reported = (f"reported {format_usd(entry['reported_usd'])}" if entry["reported_usd"]
                    else "no reported cost")
        out.line(f"{entry['id']:58s} {hms(entry['time_to_target_s']):>11s}  {reported}; "
                 f"{entry['hardware_read']}")
    commit = document["commit"] or "unknown commit"
    out.line(f"{len(document['entries'])} entries from {document['repository']} at {commit}"
             f"{' (with local changes)' if document['dirty'] else ''} → {target}")
    return ExitCode.OK


def _is_sha(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)
