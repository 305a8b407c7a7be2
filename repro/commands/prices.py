"""`repro prices update` and `repro prices show`: parse, call the pricing library, print."""
from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

from repro.commands.options import add_command, add_output_flags
from repro.commands.output import ExitCode, Output
from repro.harness.gpu_names import normalize_gpu_name
from repro.pricing.catalog import DEFAULT_MAX_AGE_DAYS, MARKETS, SNAPSHOT_ENV, load_snapshot
from repro.pricing.money import format_usd
from repro.pricing.update import DEFAULT_SOURCES, SOURCE_NAMES, UpdateOptions, update_snapshot

PRICES_DIR_ENV = "REPRO_PRICES_DIR"


def default_out_dir() -> Path:
    return Path(os.environ.get(PRICES_DIR_ENV) or Path.home() / ".cache" / "repro" / "prices")


def _csv_list(values: list[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not values:
        return default
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def register(sub) -> None:
    prices = add_command(sub, "prices", help="show or update the dated price snapshot",
                         examples="repro prices show --gpu V100 --count 8\n"
                                  "repro prices update --source aws,aws-spot --region us-east-1")
    actions = prices.add_subparsers(dest="prices_command", metavar="ACTION", required=True)
    show = add_command(actions, "show", help="list offers for a GPU model and count (or a vCPU count)",
                       examples="repro prices show --gpu V100 --count 8 --market spot\n"
                                "repro prices show --vcpus 2 --json")
    _add_show_flags(show)
    show.set_defaults(func=cmd_prices_show)
    update = add_command(actions, "update", help="fetch live prices into a new snapshot (atomically)",
                         examples="repro prices update\n"
                                  "repro prices update --source skypilot --skypilot-catalog vms.csv --out prices/\n"
                                  "repro prices update --source azure --azure-region westus2")
    _add_update_flags(update)
    update.set_defaults(func=cmd_prices_update)


def _add_show_flags(show: argparse.ArgumentParser) -> None:
    show.add_argument("--gpu", help="GPU model or reported name, e.g. V100 or 'Tesla V100-SXM2-16GB'")
    show.add_argument("--count", type=int, default=None, help="number of GPUs (default: any)")
    show.add_argument("--vcpus", type=int, default=None, help="vCPUs of a CPU-only instance")
    show.add_argument("--market", choices=MARKETS, default=None, help="on-demand or spot (default: both)")
    show.add_argument("--provider", default=None, help="aws, paperspace, azure, ... (default: all)")
    show.add_argument("--snapshot", type=Path, default=None, metavar="CSV",
                      help=f"snapshot CSV (default: ${SNAPSHOT_ENV} or the shipped one)")
    show.add_argument("--max-age-days", type=float, default=DEFAULT_MAX_AGE_DAYS,
                      help=f"flag the snapshot stale beyond this age (default {DEFAULT_MAX_AGE_DAYS})")
    add_output_flags(show)


def _add_update_flags(update: argparse.ArgumentParser) -> None:
    update.add_argument("--source", action="append", metavar="NAME[,NAME]",
                        help=f"sources: {', '.join(SOURCE_NAMES)} (default: {','.join(DEFAULT_SOURCES)})")
    update.add_argument("--region", action="append", metavar="REGION", help="AWS region(s) (default us-east-1)")
    update.add_argument("--azure-region", action="append", metavar="REGION", help="Azure region(s) (default eastus)")
    update.add_argument("--skypilot-cloud", action="append", metavar="CLOUD",
                        help="cloud(s) to read from SkyPilot's catalog (default aws)")
    update.add_argument("--skypilot-catalog", metavar="PATH|URL", help="a SkyPilot vms.csv instead of the online one")
    update.add_argument("--paperspace-file", metavar="CSV", help="Paperspace price override file")
    update.add_argument("--base", type=Path, default=None, metavar="CSV",
                        help="snapshot to carry unrefreshed offers from (default: the current one)")
    update.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help=f"directory for the new snapshot (default ${PRICES_DIR_ENV} or ~/.cache/repro/prices)")
    update.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a source (default 60)")
    add_output_flags(update)


def cmd_prices_show(args: argparse.Namespace, out: Output) -> int:
    snapshot = load_snapshot(args.snapshot)
    if snapshot.stale(args.max_age_days):
        out.warn(f"price snapshot {snapshot.id} is {snapshot.age_days():.0f} days old (limit "
                 f"{args.max_age_days:g}); run `repro prices update`")
    model = normalize_gpu_name(args.gpu) if args.gpu else None
    if model is None and args.vcpus is None and args.count is None:
        out.error("say what to look for: --gpu MODEL [--count N], or --vcpus N")
        return ExitCode.ERROR
    gpu_count = 0 if model is None and args.vcpus is not None else args.count
    offers = snapshot.find(gpu_model=model, gpu_count=gpu_count, vcpus=args.vcpus,
                           provider=args.provider, market=args.market)
    wanted = (f"{args.count or 'any number of'} x {model}" if model else f"{args.vcpus} vCPUs, no GPU")
    out.line(f"snapshot {snapshot.id} (fetched {snapshot.fetched_at:%Y-%m-%d}): {wanted}")
    if offers:
        out.line(f"{'provider':10s} {'market':9s} {'instance':16s} {'gpus':>4s} {'vcpus':>5s} "
                 f"{'region':18s} {'USD/h':>10s}  fetched     source")
    for o in offers:
        out.record("offer", {**o.to_row(), "usd_per_hour": o.usd_per_hour, "snapshot_id": snapshot.id,
                             "stale": snapshot.stale(args.max_age_days)})
        gpus = f"{o.gpu_count}" if o.gpu_count else "-"
        region = o.region + (f"/{o.zone}" if o.zone else "")
        out.line(f"{o.provider:10s} {o.market:9s} {o.instance_type:16s} {gpus:>4s} {o.vcpus:>5d} "
                 f"{region:18s} {format_usd(o.usd_per_hour, exact=True):>10s}  {o.fetched_at}  {o.source}")
    if not offers:
        out.error(f"no offer with {wanted} in snapshot {snapshot.id}"
                  + (f" for {args.provider}" if args.provider else "")
                  + (f" on the {args.market} market" if args.market else ""))
        return ExitCode.NO_MATCH
    return ExitCode.OK


def cmd_prices_update(args: argparse.Namespace, out: Output) -> int:
    opts = UpdateOptions(
        sources=_csv_list(args.source, DEFAULT_SOURCES),
        aws_regions=_csv_list(args.region, ("us-east-1",)),
        azure_regions=_csv_list(args.azure_region, ("eastus",)),
        skypilot_clouds=_csv_list(args.skypilot_cloud, ("aws",)),
        skypilot_catalog=args.skypilot_catalog, paperspace_override=args.paperspace_file,
        timeout_s=(min(10.0, args.timeout), args.timeout), quiet=not out.human)
    base = load_snapshot(args.base) if args.base else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snapshot = update_snapshot(args.out or default_out_dir(), opts, base=base, log=out.note)
    for w in caught:
        out.warn(str(w.message))
    out.record("snapshot", {"snapshot_id": snapshot.id, "path": snapshot.path, "offers": len(snapshot.offers),
                            "warnings": [str(w.message) for w in caught]})
    out.line(f"wrote {snapshot.path} ({len(snapshot.offers)} offers)")
    out.line(f"price runs with it: export {SNAPSHOT_ENV}={snapshot.path}")
    return ExitCode.OK
