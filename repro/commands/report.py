"""`repro report` and `repro runs`: the static HTML leaderboard, and the table of runs on disk."""
from __future__ import annotations

import argparse
from pathlib import Path

from repro.commands.options import DEFAULT_SITE, add_command, add_output_flags, add_results, add_snapshot
from repro.commands.output import ExitCode, Output


def register(sub) -> None:
    p = add_command(sub, "report", help="render the static HTML leaderboard",
                    examples="repro report --results results --out reports/site")
    add_results(p)
    p.add_argument("--out", type=Path, default=DEFAULT_SITE, metavar="DIR",
                   help="site folder to write (default reports/site/)")
    add_snapshot(p)
    add_output_flags(p)
    p.set_defaults(func=cmd_report)

    p = add_command(sub, "runs", help="table of the runs on disk", examples="repro runs --results results --json")
    add_results(p)
    add_output_flags(p)
    p.set_defaults(func=cmd_runs)


def cmd_report(args: argparse.Namespace, out: Output) -> int:
    from repro.report.build import build_site
    index = build_site(args.results, args.out, args.snapshot)
    out.record("report", {"index": index})
    out.line(f"report: {index}")
    return ExitCode.OK


def cmd_runs(args: argparse.Namespace, out: Output) -> int:
    from repro.report.table import run_rows

    rows, errors = run_rows(args.results)
    for row in rows:
        out.record("run", row)
    if rows:
        out.line(f"{'run':42s} {'status':11s} {'seed':>4s} {'target':>7s} {'reached':>7s} "
                 f"{'ttt_s':>8s} {'final':>7s}  hardware")
    for r in rows:
        seed = str(r["seed"]) if r["seed"] is not None else "-"
        target = f"{r['target']:.3f}" if r["target"] is not None else "-"
        ttt = f"{r['time_to_target_s']:.2f}" if r["time_to_target_s"] is not None else "-"
        final = f"{r['final_top1']:.4f}" if r["final_top1"] is not None else "-"
        out.line(f"{r['recipe'] + '/' + r['run_id']:42s} {r['status_text']:11s} {seed:>4s} {target:>7s} "
                 f"{'yes' if r['reached'] else 'no':>7s} {ttt:>8s} {final:>7s}  {r['hardware']}")
    if not rows:
        out.line(f"no runs under {args.results}; start one with `repro digits`")
    for e in errors:
        out.warn(e)
    return ExitCode.OK
