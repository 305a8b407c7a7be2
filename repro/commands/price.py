"""`repro price TARGET...`: price run directories again (writing their cost.json) or published
DAWNBench entries (printing only), on the default snapshot or any other, every market at once."""
from __future__ import annotations

import argparse
import warnings
from decimal import Decimal
from pathlib import Path

from repro.commands.options import add_command, add_output_flags, count_at_least_one
from repro.commands.output import ExitCode, Output
from repro.harness.store import COST_FILE, RUN_FILE, atomic_write_json, read_json
from repro.pricing.billing import cost_for_run, format_cost_lines
from repro.pricing.catalog import DEFAULT_MAX_AGE_DAYS, Snapshot, load_snapshot
from repro.pricing.money import format_usd
from repro.pricing.dawnbench_entries import EntryError, read_entry
from repro.pricing.reprice import price_seconds

MONEY = ("usd_per_hour", "usd_per_hour_total", "benchmark_usd", "billed_usd")

EXAMPLES = """\
repro price results/cifar-fastai-2018/20261115T090000Z-c00c00
repro price results/*/* --snapshot prices-20261129T120000Z.csv --json
repro price dawn-bench-entries/ImageNet/train/fastai_pytorch.json --snapshot dawnbench-2018-04
repro price entry.json --hardware V100:8 --nodes 2 --target top5:93"""


def register(sub) -> None:
    p = add_command(sub, "price", help="price runs or published DAWNBench entries on a snapshot (every market)",
                    examples=EXAMPLES)
    p.add_argument("targets", nargs="+", type=Path, metavar="RUN_DIR|ENTRY.json",
                   help="run directories (their cost.json is rewritten) or DAWNBench entry JSON files")
    p.add_argument("--snapshot", default=None, metavar="CSV|ID",
                   help="snapshot CSV or shipped id, e.g. dawnbench-2018-04 (default: the current one)")
    p.add_argument("--dry-run", action="store_true", help="print the prices, write no cost.json")
    p.add_argument("--hardware", metavar="MODEL:COUNT", help="an entry's GPUs per node when its text does not say")
    p.add_argument("--nodes", type=count_at_least_one, default=None, help="nodes of an entry given --hardware (default 1)")
    p.add_argument("--target", metavar="top1:94", help="an entry's target when its folder does not imply one")
    p.add_argument("--max-age-days", type=float, default=DEFAULT_MAX_AGE_DAYS,
                   help=f"flag the snapshot stale beyond this age (default {DEFAULT_MAX_AGE_DAYS})")
    add_output_flags(p)
    p.set_defaults(func=cmd_price)


def _numbers(row: dict) -> dict:
    return {k: (Decimal(v) if k in MONEY and isinstance(v, str) else v) for k, v in row.items()}


def _price_run(run_dir: Path, snapshot: Snapshot, args, out: Output) -> tuple[dict, str]:
    run = read_json(run_dir / RUN_FILE)
    cost = cost_for_run(run, snapshot, max_age_days=args.max_age_days)
    if not args.dry_run:
        atomic_write_json(run_dir / COST_FILE, cost)
    return cost, ("run" if args.dry_run else f"run, wrote {run_dir / COST_FILE}")


def _price_entry(path: Path, snapshot: Snapshot, args, out: Output) -> tuple[dict, str]:
    entry = read_entry(path, snapshot=snapshot, hardware=args.hardware, nodes=args.nodes or 1, target=args.target)
    if entry.not_priced:
        said = f"hardware {entry.hardware_text!r}: " if entry.hardware_text else ""
        raise EntryError(f"{said}{entry.not_priced}; pass --hardware MODEL:COUNT (e.g. V100:8) and --nodes N")
    cost = price_seconds(entry.hardware, entry.time_to_target_s, snapshot, max_age_days=args.max_age_days)
    metric, value = entry.target
    out.record("entry", {"target": str(path), "accuracy_target": {"metric": metric, "value": value},
                         "epoch": entry.epoch, "accuracy": entry.accuracy, "hours": entry.hours,
                         "time_to_target_s": entry.time_to_target_s, "hardware_text": entry.hardware_text,
                         "hardware": entry.hardware, "hardware_read": entry.hardware_read,
                         "usd_per_hour": entry.usd_per_hour})
    published = f", published at {format_usd(entry.usd_per_hour, exact=True)}/h" if entry.usd_per_hour else ""
    hardware = repr(entry.hardware_text) if entry.hardware_text else entry.hardware_read
    return cost, (f"published entry {hardware}, {metric} {value:.0%} at epoch {entry.epoch} "
                  f"({entry.hours:.4f} h){published}")


def _emit(out: Output, target: Path, cost: dict, what: str) -> None:
    out.line(f"{target}: {what}")
    out.line(f"  snapshot {cost['snapshot_id']} (fetched {cost['snapshot_fetched_at'][:10]}), "
             f"matched as {cost['hardware_match']}")
    for line in format_cost_lines(cost):
        out.line(f"  {line}")
    for row in cost["rows"]:
        out.record("price", {"target": str(target), "snapshot_id": cost["snapshot_id"], **_numbers(row)})
    for item in cost["unmatched"]:
        out.record("unmatched", {"target": str(target), "snapshot_id": cost["snapshot_id"], **item})


def cmd_price(args: argparse.Namespace, out: Output) -> int:
    if args.nodes is not None and not args.hardware:
        out.error("--nodes is the node count of --hardware MODEL:COUNT; give both, e.g. --hardware V100:8 --nodes 2")
        return ExitCode.USAGE
    snapshot = load_snapshot(args.snapshot)
    failed, warned = 0, set()
    for target in args.targets:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                cost, what = (_price_run if target.is_dir() else _price_entry)(target, snapshot, args, out)
            except (ValueError, OSError) as exc:
                out.error(f"{target}: {exc}" if str(target) not in str(exc) else str(exc))
                failed += 1
                continue
        for message in dict.fromkeys(str(w.message) for w in caught):
            if message not in warned:
                warned.add(message)
                out.warn(message)
        _emit(out, target, cost, what)
    return ExitCode.ERROR if failed else ExitCode.OK
