"""`repro prices update` and `repro prices show`: parse, call the pricing library, print."""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from repro.commands.options import add_command, add_output_flags, count_at_least_one
from repro.commands.output import ExitCode, Output
from repro.harness.gpu_names import normalize_gpu_name
from repro.pricing.catalog import DEFAULT_MAX_AGE_DAYS, MARKETS, SNAPSHOT_ENV, Snapshot, load_snapshot
from repro.pricing.locations import PRICES_DIR_ENV, prices_dir
from repro.pricing.money import format_usd
from repro.pricing.update import DEFAULT_SOURCES, DEFAULT_TIMEOUTS_S, SOURCE_NAMES, URL_ENV, UpdateOptions, \
    update_snapshot
from repro.pricing.urls import source_label


def _csv_list(values: list[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not values:
        return default
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < 86400:
        raise argparse.ArgumentTypeError(f"{text!r}: give the timeout as seconds, more than 0")
    return value


def register(sub) -> None:
    prices = add_command(sub, "prices", help="show or update the dated price snapshot",
                         examples="repro prices show --gpu V100:8\n"
                                  "repro prices update --source aws,aws-spot --region us-east-1")
    actions = prices.add_subparsers(dest="prices_command", metavar="ACTION", required=True)
    show = add_command(actions, "show", help="list offers for a GPU model and count (or a vCPU count)",
                       examples="repro prices show --gpu V100:8 --market spot\n"
                                "repro prices show --gpu A100 --count 1 --provider gcp\n"
                                "repro prices show --vcpus 2 --json")
    _add_show_flags(show)
    show.set_defaults(func=cmd_prices_show)
    update = add_command(actions, "update", help="fetch live prices into a new snapshot and make it the default",
                         examples="repro prices update\n"
                                  "repro prices update --source skypilot --skypilot-catalog vms.csv --out prices/\n"
                                  "repro prices update --source azure --azure-region westus2 --timeout 30\n"
                                  "repro prices update --aws-url http://mirror.local/aws-pricing/")
    _add_update_flags(update)
    update.set_defaults(func=cmd_prices_update)


def _add_show_flags(show: argparse.ArgumentParser) -> None:
    show.add_argument("--gpu", help="GPU model, reported name or MODEL:COUNT (SkyPilot's syntax), e.g. V100:8")
    show.add_argument("--count", type=count_at_least_one, default=None, help="number of GPUs per instance (default: any)")
    show.add_argument("--vcpus", type=count_at_least_one, default=None, help="vCPUs of a CPU-only instance")
    show.add_argument("--market", choices=MARKETS, default=None, help="on-demand or spot (default: both)")
    show.add_argument("--provider", default=None, help="aws, gcp, azure, lambda, paperspace (default: all)")
    show.add_argument("--snapshot", default=None, metavar="CSV|ID",
                      help=f"snapshot CSV or shipped id (default: ${SNAPSHOT_ENV}, the last update, or the shipped one)")
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
    update.add_argument("--aws-url", metavar="URL", help="AWS Price List root holding offers/v1.0/aws/index.json "
                        f"(default ${URL_ENV['aws']}, else AWS's)")
    update.add_argument("--aws-spot-url", metavar="URL", help="AWS spot feed, plain JSON or JSONP "
                        f"(default ${URL_ENV['aws-spot']}, else AWS's spot.json, then spot.js)")
    update.add_argument("--azure-url", metavar="URL", help="Azure Retail Prices endpoint "
                        f"(default ${URL_ENV['azure']}, else Azure's)")
    update.add_argument("--base", default=None, metavar="CSV|ID",
                        help="snapshot whose offers the update merges into (default: the current one)")
    update.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help=f"directory for the new snapshot (default ${PRICES_DIR_ENV} or ~/.cache/repro/prices)")
    defaults = ", ".join(f"{name} {seconds:g}" for name, seconds in DEFAULT_TIMEOUTS_S.items())
    update.add_argument("--timeout", type=_seconds, default=None,
                        help=f"seconds each source may take in all, retries and downloads included "
                             f"(default per source: {defaults})")
    update.add_argument("--no-default", action="store_true", help="write the snapshot but keep the current default")
    add_output_flags(update)


def _wanted(args: argparse.Namespace, out: Output) -> tuple[str | None, int | None, str] | None:
    """(GPU model, GPU count, words) asked for; None after an error was printed."""
    model, count = None, args.count
    if args.gpu:
        name, _, spec = args.gpu.partition(":")
        if spec:
            try:
                spec_count = count_at_least_one(spec)
            except argparse.ArgumentTypeError as exc:
                out.error(f"--gpu {args.gpu}: {exc}")
                return None
            if count is not None and count != spec_count:
                out.error(f"--gpu {args.gpu} and --count {count} disagree; give the count once")
                return None
            count = spec_count
        model = normalize_gpu_name(name)
    if model is None and args.vcpus is None and count is None:
        out.error("say what to look for: --gpu MODEL[:COUNT] [--count N], or --vcpus N")
        return None
    words = (f"{count or 'any number of'} x {model}" if model else f"{args.vcpus} vCPUs, no GPU")
    return model, count, words


def _inventory_line(snapshot: Snapshot) -> str:
    have = "; ".join(f"{model}: {', '.join(map(str, counts))}" for model, counts in snapshot.inventory().items())
    return f"snapshot {snapshot.id} has (GPU model: GPUs per instance; CPU: vCPUs) {have}"


def cmd_prices_show(args: argparse.Namespace, out: Output) -> int:
    snapshot = load_snapshot(args.snapshot)
    stale = snapshot.stale(args.max_age_days)
    if stale:
        out.warn(f"price snapshot {snapshot.id} is {snapshot.age_days():.0f} days old (limit "
                 f"{args.max_age_days:g}); run `repro prices update`")
    wanted = _wanted(args, out)
    if wanted is None:
        return ExitCode.ERROR
    model, count, words = wanted
    gpu_count = 0 if model is None and args.vcpus is not None else count
    offers = snapshot.find(gpu_model=model, gpu_count=gpu_count, vcpus=args.vcpus,
                           provider=args.provider, market=args.market)
    out.line(f"snapshot {snapshot.id} (fetched {snapshot.fetched_at:%Y-%m-%d}): {words}")
    if not offers:
        out.error(f"no offer with {words} in snapshot {snapshot.id}"
                  + (f" for {args.provider}" if args.provider else "")
                  + (f" on the {args.market} market" if args.market else "") + "; " + _inventory_line(snapshot))
        return ExitCode.NO_MATCH
    out.line(f"{'provider':10s} {'market':9s} {'instance':24s} {'gpus':>4s} {'vcpus':>5s} "
             f"{'region':20s} {'USD/h':>10s}  {'fetched':10s}  source")
    for o in offers:
        out.record("offer", {**o.to_row(), "gpu_count": o.gpu_count, "vcpus": o.vcpus,
                             "memory_gib": o.memory_gib, "usd_per_hour": o.usd_per_hour,
                             "snapshot_id": snapshot.id, "stale": stale})
        gpus = f"{o.gpu_count}" if o.gpu_count else "-"
        region = o.region + (f"/{o.zone}" if o.zone else "")
        out.line(f"{o.provider:10s} {o.market:9s} {o.instance_type:24s} {gpus:>4s} {o.vcpus:>5d} "
                 f"{region:20s} {format_usd(o.usd_per_hour, exact=True):>10s}  {o.fetched_at}  "
                 f"{source_label(o.source)}")
    return ExitCode.OK


def cmd_prices_update(args: argparse.Namespace, out: Output) -> int:
    opts = UpdateOptions(
        sources=_csv_list(args.source, DEFAULT_SOURCES),
        aws_regions=_csv_list(args.region, ("us-east-1",)),
        azure_regions=_csv_list(args.azure_region, ("eastus",)),
        skypilot_clouds=_csv_list(args.skypilot_cloud, ("aws",)),
        skypilot_catalog=args.skypilot_catalog, paperspace_override=args.paperspace_file,
        aws_url=args.aws_url, aws_spot_url=args.aws_spot_url, azure_url=args.azure_url,
        timeout_s=args.timeout, quiet=not out.human, make_default=not args.no_default)
    base = load_snapshot(args.base) if args.base else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snapshot = update_snapshot(args.out or prices_dir(), opts, base=base, log=out.note)
    for w in caught:
        out.warn(str(w.message))
    out.record("snapshot", {"snapshot_id": snapshot.id, "path": snapshot.path, "offers": len(snapshot.offers),
                            "default": not args.no_default, "warnings": [str(w.message) for w in caught]})
    out.line(f"wrote {snapshot.path} ({len(snapshot.offers)} offers)")
    if args.no_default:
        out.line(f"the default snapshot is unchanged; price with this one: --snapshot {snapshot.path}")
    else:
        out.line(f"it is now the default snapshot ({prices_dir() / 'current.json'}); "
                 f"${SNAPSHOT_ENV} still overrides it when set")
    return ExitCode.OK
