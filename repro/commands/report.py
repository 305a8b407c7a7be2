"""`repro report`, `repro runs` and `repro compare`: the static HTML leaderboard (and the regression
gate on it), the table of runs on disk, and two runs or groups side by side."""
from __future__ import annotations

import argparse
from pathlib import Path

from repro.commands.options import DEFAULT_SITE, add_command, add_output_flags, add_results, add_snapshot
from repro.commands.output import ExitCode, Output

REPORT_EXAMPLES = """\
repro report --results results --out reports/site
repro report --fail-on-regression --threshold 5%"""
COMPARE_EXAMPLES = """\
repro compare results/digits/20261125T120000Z-a1b2c3 results/digits/20261126T090000Z-d4e5f6
repro compare 20261125T120000Z-9f8e7d 20261126T090000Z-0a1b2c --html compare.html"""


def register(sub) -> None:
    p = add_command(sub, "report", help="render the static HTML leaderboard", examples=REPORT_EXAMPLES)
    add_results(p)
    p.add_argument("--out", type=Path, default=DEFAULT_SITE, metavar="DIR",
                   help="site folder to write (default reports/site/)")
    add_snapshot(p)
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when a recipe's newest group on some hardware is slower than the group "
                        "before it by more than --threshold (the site is written either way)")
    p.add_argument("--threshold", default=None, metavar="PERCENT",
                   help="allowed rise in time to target for --fail-on-regression (default 10%%)")
    add_output_flags(p)
    p.set_defaults(func=cmd_report)

    p = add_command(sub, "runs", help="table of the runs on disk", examples="repro runs --results results --json")
    add_results(p)
    add_output_flags(p)
    p.set_defaults(func=cmd_runs)

    p = add_command(sub, "compare", help="two runs or groups side by side: settings, provenance, time, cost",
                    examples=COMPARE_EXAMPLES)
    p.add_argument("a", metavar="A", help="a run directory, run id, group id or group-<id>.json file")
    p.add_argument("b", metavar="B", help="the same for the other side")
    add_results(p, help="results directory ids are looked up in (default results/)")
    p.add_argument("--html", type=Path, metavar="FILE", help="also write the comparison as an HTML page")
    add_output_flags(p)
    p.set_defaults(func=cmd_compare)


def cmd_report(args: argparse.Namespace, out: Output) -> int:
    from repro.report import regression
    from repro.report.build import build_site

    if args.threshold is not None and not args.fail_on_regression:
        out.error("--threshold applies to --fail-on-regression; add it, or drop --threshold")
        return ExitCode.USAGE
    threshold = regression.parse_threshold(args.threshold or regression.DEFAULT_THRESHOLD)
    index = build_site(args.results, args.out, args.snapshot)
    out.record("report", {"index": index})
    out.line(f"report: {index}")
    if not args.fail_on_regression:
        return ExitCode.OK
    findings = regression.check(regression.site_runs(index.parent), threshold)
    for finding in findings:
        out.record("regression-check", finding)
        (out.warn if finding["regression"] else out.line)(regression.describe(finding))
    failed = [f for f in findings if f["regression"]]
    if failed:
        out.error(f"{len(failed)} regression{'s' if len(failed) > 1 else ''} beyond "
                  f"{threshold * 100:g} % (above)")
        return ExitCode.ERROR
    out.line(f"no regression beyond {threshold * 100:g} % in {len(findings)} recipe × hardware series")
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


def cmd_compare(args: argparse.Namespace, out: Output) -> int:
    from repro.harness.store import atomic_write_text
    from repro.pricing.money import format_usd
    from repro.report.compare import compare, render_html
    from repro.report.format import hms

    result = compare(args.a, args.b, args.results)
    out.record("compare", result)
    a, b = result["a"], result["b"]
    out.line(f"A: {a['kind']} {a['id']} ({a['recipe']}, {a['converged']}/{a['n']} reached {a['target']})")
    out.line(f"B: {b['kind']} {b['id']} ({b['recipe']}, {b['converged']}/{b['n']} reached {b['target']})")
    out.line(f"{'':22s} {'A':>14s} {'B':>14s} {'B / A':>8s}")
    for m in result["metrics"]:
        show = format_usd if m["unit"] == "usd" else hms
        ratio = f"×{m['ratio']:.3f}" if m["ratio"] is not None else "—"
        out.line(f"{m['what']:22s} {show(m['a']):>14s} {show(m['b']):>14s} {ratio:>8s}")
    out.line("settings that differ:" if result["settings"] else "settings: the same")
    for s in result["settings"]:
        out.line(f"  {s['key']:28s} {s['a']!s:>14s} {s['b']!s:>14s}")
    differs = [p for p in result["provenance"] if p["differs"]]
    out.line("provenance that differs:" if differs else "provenance: the same")
    for p in differs:
        out.line(f"  {p['key']:28s} {p['a']!s} ≠ {p['b']!s}")
    for side in (a, b):
        for error in side["errors"]:
            out.warn(error)
    if args.html is not None:
        atomic_write_text(args.html, render_html(result))
        out.note(f"wrote {args.html}")
    return ExitCode.OK
