"""`repro prices update` and `repro prices show`: parse, call the pricing library, print."""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from repro.pricing.catalog import DEFAULT_MAX_AGE_DAYS, MARKETS, SNAPSHOT_ENV, load_snapshot
from repro.harness.gpu_names import normalize_gpu_name
from repro.pricing.update import DEFAULT_SOURCES, SOURCE_NAMES, UpdateOptions, update_snapshot

EXIT_OK = 0
EXIT_ERROR = 1        # a source failed or a snapshot is unreadable; the message says what to do
EXIT_NO_OFFER = 4     # `prices show` found nothing matching

PRICES_DIR_ENV = "REPRO_PRICES_DIR"


def default_out_dir() -> Path:
    return Path(os.environ.get(PRICES_DIR_ENV) or Path.home() / ".cache" / "repro" / "prices")


def _csv_list(values: list[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not values:
        return default
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def add_prices_parser(subparsers) -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    prices = subparsers.add_parser("prices", help="show or update the dated price snapshot", formatter_class=fmt,
                                   epilog="examples:\n  repro prices show --gpu V100 --count 8\n"
                                          "  repro prices update --source aws,aws-spot --region us-east-1\n")
    sub = prices.add_subparsers(dest="prices_command", metavar="ACTION", required=True)

    show = sub.add_parser("show", help="list offers for a GPU model and count (or a vCPU count)", formatter_class=fmt,
                          epilog="examples:\n  repro prices show --gpu V100 --count 8 --market spot\n"
                                 "  repro prices show --vcpus 2 --json\n")
    show.add_argument("--gpu", help="GPU model or reported name, e.g. V100 or 'Tesla V100-SXM2-16GB'")
    show.add_argument("--count", type=int, default=None, help="number of GPUs (default: any)")
    show.add_argument("--vcpus", type=int, default=None, help="vCPUs of a CPU-only instance")
    show.add_argument("--market", choices=MARKETS, default=None, help="on-demand or spot (default: both)")
    show.add_argument("--provider", default=None, help="aws, paperspace, azure, ... (default: all)")
    show.add_argument("--snapshot", type=Path, default=None,
                      help=f"snapshot CSV (default: ${SNAPSHOT_ENV} or the shipped one)")
    show.add_argument("--max-age-days", type=float, default=DEFAULT_MAX_AGE_DAYS,
                      help=f"flag the snapshot stale beyond this age (default {DEFAULT_MAX_AGE_DAYS})")
    show.add_argument("--json", action="store_true", help="print one JSON object per offer")
    show.set_defaults(func=cmd_prices_show)

    update = sub.add_parser("update", help="fetch live prices into a new snapshot (atomically)", formatter_class=fmt,
                            epilog="examples:\n  repro prices update\n"
                                   "  repro prices update --source skypilot --skypilot-catalog vms.csv --out prices/\n"
                                   "  repro prices update --source azure --azure-region westus2\n")
    update.add_argument("--source", action="append", metavar="NAME[,NAME]",
                        help=f"sources: {', '.join(SOURCE_NAMES)} (default: {','.join(DEFAULT_SOURCES)})")
    update.add_argument("--region", action="append", metavar="REGION", help="AWS region(s) (default us-east-1)")
    update.add_argument("--azure-region", action="append", metavar="REGION", help="Azure region(s) (default eastus)")
    update.add_argument("--skypilot-cloud", action="append", metavar="CLOUD",
                        help="cloud(s) to read from SkyPilot's catalog (default aws)")
    update.add_argument("--skypilot-catalog", metavar="PATH|URL", help="a SkyPilot vms.csv instead of the online one")
    update.add_argument("--paperspace-file", metavar="CSV", help="Paperspace price override file")
    update.add_argument("--base", type=Path, default=None,
                        help="snapshot to carry unrefreshed offers from (default: the current one)")
    update.add_argument("--out", type=Path, default=None,
                        help=f"directory for the new snapshot (default ${PRICES_DIR_ENV} or ~/.cache/repro/prices)")
    update.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a source (default 60)")
    group = update.add_mutually_exclusive_group()
    group.add_argument("--quiet", action="store_true", help="no progress bars or progress lines")
    group.add_argument("--json", action="store_true", help="print the result as one JSON object")
    update.set_defaults(func=cmd_prices_update)
    return prices


def cmd_prices_show(args) -> int:
    snapshot = load_snapshot(args.snapshot)
    if snapshot.stale(args.max_age_days):
        print(f"warning: price snapshot {snapshot.id} is {snapshot.age_days():.0f} days old (limit "
              f"{args.max_age_days:g}); run `repro prices update`", file=sys.stderr)
    model = normalize_gpu_name(args.gpu) if args.gpu else None
    if model is None and args.vcpus is None and args.count is None:
        print("repro: error: say what to look for: --gpu MODEL [--count N], or --vcpus N", file=sys.stderr)
        return EXIT_ERROR
    gpu_count = 0 if model is None and args.vcpus is not None else args.count
    offers = snapshot.find(gpu_model=model, gpu_count=gpu_count, vcpus=args.vcpus,
                           provider=args.provider, market=args.market)
    wanted = (f"{args.count or 'any number of'} x {model}" if model else f"{args.vcpus} vCPUs, no GPU")
    if args.json:
        for o in offers:
            row = o.to_row()
            row.update(snapshot_id=snapshot.id, stale=snapshot.stale(args.max_age_days))
            print(json.dumps(row))
    else:
        print(f"snapshot {snapshot.id} (fetched {snapshot.fetched_at:%Y-%m-%d}): {wanted}")
        if offers:
            print(f"{'provider':10s} {'market':9s} {'instance':16s} {'gpus':>4s} {'vcpus':>5s} "
                  f"{'region':18s} {'USD/h':>10s}  fetched     source")
        for o in offers:
            gpus = f"{o.gpu_count}" if o.gpu_count else "-"
            region = o.region + (f"/{o.zone}" if o.zone else "")
            print(f"{o.provider:10s} {o.market:9s} {o.instance_type:16s} {gpus:>4s} {o.vcpus:>5d} "
                  f"{region:18s} {str(o.usd_per_hour):>10s}  {o.fetched_at}  {o.source}")
    if not offers:
        print(f"no offer with {wanted} in snapshot {snapshot.id}"
              + (f" for {args.provider}" if args.provider else "")
              + (f" on the {args.market} market" if args.market else ""), file=sys.stderr)
        return EXIT_NO_OFFER
    return EXIT_OK


def cmd_prices_update(args) -> int:
    opts = UpdateOptions(
        sources=_csv_list(args.source, DEFAULT_SOURCES),
        aws_regions=_csv_list(args.region, ("us-east-1",)),
        azure_regions=_csv_list(args.azure_region, ("eastus",)),
        skypilot_clouds=_csv_list(args.skypilot_cloud, ("aws",)),
        skypilot_catalog=args.skypilot_catalog, paperspace_override=args.paperspace_file,
        timeout_s=(min(10.0, args.timeout), args.timeout), quiet=args.quiet or args.json)
    base = load_snapshot(args.base) if args.base else None
    log = (lambda line: None) if (args.quiet or args.json) else (lambda line: print(line, file=sys.stderr))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snapshot = update_snapshot(args.out or default_out_dir(), opts, base=base, log=log)
    for w in caught:
        if not args.quiet:
            print(f"warning: {w.message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"snapshot_id": snapshot.id, "path": str(snapshot.path), "offers": len(snapshot.offers),
                          "warnings": [str(w.message) for w in caught]}))
    elif not args.quiet:
        print(f"wrote {snapshot.path} ({len(snapshot.offers)} offers)")
        print(f"price runs with it: export {SNAPSHOT_ENV}={snapshot.path}")
    return EXIT_OK
