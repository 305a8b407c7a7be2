"""The `repro` command. Thin: parse, call the library, print. Every command has --help with an example."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1          # bad input, unreadable files: a one-line message says what to do
EXIT_USAGE = 2          # argparse's own code for a malformed command line
EXIT_RUN_FAILED = 3     # a run failed or diverged; its run directory says why
EXIT_INTERRUPTED = 130  # SIGINT/SIGTERM: runs marked interrupted

DEFAULT_RESULTS = Path("results")
DEFAULT_SITE = Path("reports/site")


class Printer:
    """Human lines by default, nothing with --quiet, one JSON object per line with --json."""

    def __init__(self, quiet: bool = False, as_json: bool = False) -> None:
        self.quiet, self.as_json = quiet, as_json

    def line(self, text: str) -> None:
        if not self.quiet and not self.as_json:
            print(text, flush=True)

    def record(self, kind: str, data: dict) -> None:
        if self.as_json:
            print(json.dumps({"type": kind, **data}, default=str), flush=True)

    def epoch(self, row: dict) -> None:
        self.record("epoch", row)
        if self.quiet or self.as_json:
            return
        eta = row["elapsed_s"] / row["epoch"] * (row["epochs"] - row["epoch"])
        top5 = f"  top5 {row['top5']:.4f}" if row.get("top5") is not None else ""
        ips = f"{row['images_per_s']:8.0f}" if row.get("images_per_s") else "       -"
        mark = "  ✓ target" if row.get("reached") else ""
        print(f"  epoch {row['epoch']:3d}/{row['epochs']:<3d} time {row['elapsed_s']:8.2f}s  "
              f"loss {row['train_loss']:.4f}  top1 {row['top1']:.4f}{top5}  img/s {ips}  "
              f"eta {eta:7.1f}s{mark}", flush=True)


def _add_output_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quiet", action="store_true", help="print nothing but errors")
    g.add_argument("--json", action="store_true", help="print JSON lines instead of text")


def _add_train_flags(p: argparse.ArgumentParser, default_recipe: str | None) -> None:
    if default_recipe is None:
        p.add_argument("--recipe", required=True, help="recipe name (see `repro recipes`)")
    else:
        p.add_argument("--recipe", default=default_recipe, help=f"recipe name (default {default_recipe})")
    p.add_argument("--runs", type=int, default=1, help="number of runs with distinct seeds (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first run; run i uses seed+i")
    p.add_argument("--target", type=float, help="target accuracy as a fraction, e.g. 0.94")
    p.add_argument("--epochs", type=int, help="shorten or lengthen the recipe; schedules rescale")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"], help="override the recipe's precision")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="dotted recipe override, e.g. --set optim.peak_lr=0.4 (repeatable)")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="results directory (default results/)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--snapshot", type=Path, default=None, help="price snapshot CSV (default: the shipped one)")
    p.add_argument("--stop-at-target", action="store_true", help="stop a run at the first eval that reaches the target")
    _add_output_flags(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repro", description="Time recipes to a target accuracy, price them, publish the leaderboard.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  repro digits --runs 3 && repro report\n")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("digits", help="train the embedded digits recipe (CPU, seconds)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  repro digits --runs 3 --seed 0 --target 0.95 --results results\n")
    _add_train_flags(p, "digits")
    p.set_defaults(func=cmd_train, data=None, synthetic=False)

    p = sub.add_parser("recipes", help="list the named recipes",
                       epilog="example:\n  repro recipes --json")
    _add_output_flags(p)
    p.set_defaults(func=cmd_recipes)

    p = sub.add_parser("runs", help="table of the runs on disk",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  repro runs --results results --json\n")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    _add_output_flags(p)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("rerun", help="replay a run's recorded config and seed exactly",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  repro rerun results/digits/20261125T120000Z-a1b2c3\n")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--results", type=Path, default=None, help="where the new run goes (default: beside the old)")
    p.add_argument("--device", default=None)
    p.add_argument("--snapshot", type=Path, default=None)
    _add_output_flags(p)
    p.set_defaults(func=cmd_rerun)

    p = sub.add_parser("report", help="render the static HTML leaderboard",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="example:\n  repro report --results results --out reports/site\n")
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    p.add_argument("--out", type=Path, default=DEFAULT_SITE)
    p.add_argument("--snapshot", type=Path, default=None)
    _add_output_flags(p)
    p.set_defaults(func=cmd_report)

    export = sub.add_parser("export", help="export a run or recipe to other formats and engines")
    export_sub = export.add_subparsers(dest="export_kind", metavar="KIND", required=True)
    p = export_sub.add_parser("dawnbench", help="write a DAWNBench entry (JSON + TSV) for a run",
                              formatter_class=argparse.RawDescriptionHelpFormatter,
                              epilog="example:\n  repro export dawnbench results/digits/20261125T120000Z-a1b2c3 "
                                     "--out dawnbench/\n")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--out", type=Path, default=None, help="output folder (default: the run directory)")
    p.add_argument("--author", default="repro")
    p.add_argument("--email", default="")
    p.add_argument("--code-url", default="")
    p.set_defaults(func=cmd_export_dawnbench)

    # -- subcommands registered by other modules --
    _register_optional(sub, export_sub)
    return parser


def _register_optional(sub, export_sub) -> None:
    """Commands whose code lives beside the layer it drives (pricing, launch, trainers)."""
    from repro.train.commands import add_lr_find_parser, add_train_parsers
    add_train_parsers(sub, _add_train_flags)
    add_lr_find_parser(sub)
    from repro.pricing.commands import add_prices_parser
    add_prices_parser(sub)
    from repro.launch.commands import add_export_skypilot
    add_export_skypilot(export_sub)


# -- commands ------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    from repro import api
    out = Printer(args.quiet, args.json)
    summary = api.train(
        recipe_name=args.recipe, runs=args.runs, seed=args.seed, target=args.target, epochs=args.epochs,
        precision=args.precision, overrides=args.overrides, results_dir=args.results, device=args.device,
        data_dir=getattr(args, "data", None), synthetic=getattr(args, "synthetic", False),
        snapshot_path=args.snapshot, stop_at_target=args.stop_at_target,
        gpus=getattr(args, "gpus", None), printer=out, command=sys.argv)
    return EXIT_OK if summary["ok"] else (EXIT_INTERRUPTED if summary["interrupted"] else EXIT_RUN_FAILED)


def cmd_recipes(args) -> int:
    from repro.recipes import RECIPES
    out = Printer(args.quiet, args.json)
    for r in RECIPES.values():
        out.record("recipe", {"name": r.name, "task": r.task, "target": r.target, "metric": r.target_metric,
                              "epochs": r.epochs, "gpus": r.gpus, "published": r.published_claim,
                              "source": r.published_source})
        out.line(f"{r.name:24s} {r.task:14s} {r.target_metric} ≥ {r.target:.3f}  {r.epochs:3d} epochs  "
                 f"{r.description}")
    return EXIT_OK


def cmd_runs(args) -> int:
    from repro import api
    out = Printer(args.quiet, args.json)
    errors: list[str] = []
    rows = api.run_table(args.results, errors)
    for row in rows:
        out.record("run", row)
    if rows:
        out.line(f"{'run':42s} {'status':11s} {'seed':>4s} {'target':>7s} {'reached':>7s} "
                 f"{'ttt_s':>8s} {'final':>7s}  hardware")
    for r in rows:
        ttt = f"{r['time_to_target_s']:.2f}" if r["time_to_target_s"] is not None else "-"
        final = f"{r['final_top1']:.4f}" if r["final_top1"] is not None else "-"
        out.line(f"{r['recipe'] + '/' + r['run_id']:42s} {r['status']:11s} {r['seed']:4d} "
                 f"{r['target']:7.3f} {'yes' if r['reached'] else 'no':>7s} {ttt:>8s} {final:>7s}  {r['hardware']}")
    if not rows:
        out.line(f"no runs under {args.results}; start one with `repro digits`")
    for e in errors:
        print(f"warning: {e}", file=sys.stderr)
    return EXIT_OK


def cmd_rerun(args) -> int:
    from repro import api
    out = Printer(args.quiet, args.json)
    summary = api.rerun(args.run_dir, results_dir=args.results, device=args.device,
                        snapshot_path=args.snapshot, printer=out, command=sys.argv)
    return EXIT_OK if summary["ok"] else (EXIT_INTERRUPTED if summary["interrupted"] else EXIT_RUN_FAILED)


def cmd_report(args) -> int:
    from repro.report.build import build_site
    out = Printer(args.quiet, args.json)
    index = build_site(args.results, args.out, args.snapshot)
    out.record("report", {"index": str(index)})
    out.line(f"report: {index}")
    return EXIT_OK


def cmd_export_dawnbench(args) -> int:
    from repro.harness.dawnbench import export_dawnbench
    written = export_dawnbench(args.run_dir, args.out, author=args.author, email=args.email,
                               code_url=args.code_url)
    for path in written:
        print(path)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("repro: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as exc:  # our error types subclass ValueError; OSError: disk, permissions
        print(f"repro: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
