"""`repro estimate RECIPE`: projected time and cost to target on every offer that can hold the run,
ranked, each row with the basis it stands on (repro.estimate does the work; this module prints)."""
from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

from repro.commands.options import DEFAULT_RESULTS, add_command, add_output_flags, add_snapshot
from repro.commands.output import ExitCode, Output
from repro.pricing.money import format_usd
from repro.recipes import RECIPES

MONEY_KEYS = ("usd_per_hour", "benchmark_usd", "benchmark_usd_low", "benchmark_usd_high", "billed_usd")
EXAMPLES = ("repro estimate cifar-airbench --gpu H100:1 --market all\n"
            "repro estimate digits --calibrate\n"
            "repro estimate imagenet-fastai-2018 --gpu V100:8 --gpu A100 --market spot --json")


def register(sub) -> None:
    p = add_command(sub, "estimate", help="projected time and cost to target on every offer, before training",
                    examples=EXAMPLES,
                    description="Project a recipe's time to target and its cost on every offer of the price "
                                "snapshot that can hold it, ranked, cheapest first. Basis, best first: measured "
                                "runs in --runs-from, a calibration on this machine (--calibrate), the shipped "
                                f"throughput table. Recipes: {', '.join(sorted(RECIPES))}.")
    p.add_argument("recipe", help="recipe name (see `repro recipes`)")
    p.add_argument("--gpu", action="append", default=[], metavar="MODEL[:COUNT]",
                   help="GPU model and count per instance, e.g. H100:8 (repeatable; default: every offer)")
    p.add_argument("--market", choices=("spot", "on-demand", "all"), default="all",
                   help="which market's offers to list (default all)")
    p.add_argument("--calibrate", action="store_true",
                   help="time the recipe's model and batch shapes on this machine's device first (seconds)")
    p.add_argument("--calibrate-seconds", type=float, default=None, metavar="S",
                   help="seconds of timed steps for --calibrate, after warm-up (default 3)")
    p.add_argument("--device", default=None, help="where --calibrate runs: cpu, cuda or cuda:N "
                                                  "(default: cuda when available)")
    p.add_argument("--runs-from", type=Path, default=DEFAULT_RESULTS, metavar="DIR",
                   help="results directory whose runs of this recipe are the best basis (default results/)")
    p.add_argument("--epochs", type=int, help="the recipe at another length (as `repro <family> --epochs`)")
    p.add_argument("--target", type=float, help="target accuracy as a fraction (default: the recipe's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted recipe override, as for training (repeatable)")
    add_snapshot(p)
    add_output_flags(p)
    p.set_defaults(func=cmd_estimate)


def _device(name: str | None) -> str:
    from repro.orchestrator.checks import device

    return device(name)


def _numbers(row: dict) -> dict:
    """USD strings as Decimals, so --json writes them as numbers."""
    return {k: (Decimal(v) if k in MONEY_KEYS and isinstance(v, str) else v) for k, v in row.items()}


def _time(row: dict) -> str:
    from repro.report.format import duration

    return f"{duration(row['time_to_target_s'])} ({duration(row['low_s'])}–{duration(row['high_s'])})"


def _row_lines(row: dict) -> list[str]:
    marks = " · ".join(m for m, on in (("cheapest", row["cheapest"]), ("fastest", row["fastest"])) if on)
    where = row["region"] + (f"/{row['zone']}" if row.get("zone") else "")
    basis = row["basis"] + (", scaled" if row["scaled"] else "")
    billed = (f"billed {format_usd(row['billed_usd'])} for {row['billed_seconds']} s ({row['billing_rule']})"
              if row.get("billed_usd") is not None else "no billed cost: " + "; ".join(row["notes"]))
    return [f"{row['rank']:3d}  {row['provider']} {row['market']} {row['instance_type']} ({where})  "
            f"{row['hardware']}  {_time(row)}  benchmark {format_usd(row['benchmark_usd'])}  "
            f"[{basis}]{'  ← ' + marks if marks else ''}",
            f"     {format_usd(row['usd_per_hour'], exact=True)}/h; benchmark range "
            f"{format_usd(row['benchmark_usd_low'])}–{format_usd(row['benchmark_usd_high'])}; {billed}"]


def _print(result, out: Output) -> None:
    from repro.report.format import percent

    doc = result.to_dict()
    e, r = result.epochs_to_target, result.recipe
    out.line(f"{r.name}: {r.target_metric} ≥ {percent(r.target, 2)}, {r.epochs} epochs; epochs to target: {e.source}")
    out.line(f"prices: snapshot {doc['snapshot_id']} (fetched {doc['snapshot_fetched_at'][:10]}); "
             f"{len(result.rows)} offer(s); time shown as point (range)")
    for row in result.rows:
        for text in _row_lines(row):
            out.line(text)
    for u in result.unmatched:
        out.line(f"  no offer: {u['hardware']} {u['provider']} {u['market']}: {u['reason']}")
    for u in result.unestimated:
        out.line(f"  no basis: {u['hardware']}: {u['reason']}")
    seen: dict[str, str] = {}
    for row in result.rows:
        seen.setdefault(row["hardware"], row["basis_detail"])
    for hw, detail in seen.items():
        out.line(f"basis for {hw}: {detail}")


def cmd_estimate(args: argparse.Namespace, out: Output) -> int:
    from repro.estimate import EstimateRequest, estimate

    request = EstimateRequest(recipe=args.recipe, gpus=tuple(args.gpu), market=args.market,
                              calibrate=args.calibrate, device=_device(args.device) if args.calibrate else "cpu",
                              runs_from=args.runs_from, snapshot_path=args.snapshot, epochs=args.epochs,
                              target=args.target, overrides=tuple(args.overrides),
                              **({"calibration_budget_s": args.calibrate_seconds}
                                 if args.calibrate_seconds is not None else {}))
    result = estimate(request)
    for warning in result.warnings:
        out.warn(warning)
    doc = result.to_dict()
    for row in doc["rows"]:
        out.record("offer", _numbers(row))
    out.record("estimate", {k: v for k, v in doc.items() if k != "rows"})
    _print(result, out)
    if not result.rows:
        out.error(f"no offer could be estimated for {result.recipe.name}"
                  + (f" on {', '.join(args.gpu)}" if args.gpu else "")
                  + "; see the 'no offer' and 'no basis' lines above (or the estimate record with --json)")
        return ExitCode.NO_MATCH
    return ExitCode.OK
