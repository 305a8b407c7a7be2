"""`repro bench gpu`: one prepared command that proves the GPU path (repro.bench), prints a table
and writes benchmarks/gpu/<gpu-model>-<date>.json. `--dry-run` does all of it on the CPU."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from repro.commands.options import add_command, add_output_flags
from repro.commands.output import ExitCode, Output

DEFAULT_OUT = Path("benchmarks/gpu")


def register(sub) -> None:
    bench = add_command(sub, "bench", help="benchmarks that need a machine of their own",
                        examples="repro bench gpu\nrepro bench gpu --dry-run --out /tmp/bench")
    kinds = bench.add_subparsers(dest="bench_kind", metavar="KIND", required=True)
    p = add_command(
        kinds, "gpu", help="prove the GPU path in one command: six sections, a table and a JSON file",
        description="On 1..N GPUs, within --budget seconds: (a) cifar-airbench's epoch time against PyPI "
                    "airbench94's train94, (b) fp16/bf16 against fp32 with channels-last on and off, (c) "
                    "ResNet-50 images/s through repro's loop at 128/224/288 px with and without torch.compile, "
                    "(d) batched GPU JPEG decode against the CPU path, (e) with 2+ GPUs DDP parameters and "
                    "scaling, (f) a short fp16 training that must reach its accuracy. Writes "
                    "OUT/<gpu-model>-<date>.json. --dry-run does all of it on the CPU at tiny sizes.",
        examples="repro bench gpu\nrepro bench gpu --dry-run --out /tmp/bench --json")
    p.add_argument("--dry-run", action="store_true", help="run every section on the CPU at tiny sizes")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help=f"folder of the JSON file (default {DEFAULT_OUT})")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="time budget of the whole command (default 480: 8 minutes)")
    add_output_flags(p)
    p.set_defaults(func=cmd_bench_gpu)


def _figure(key: str, results: dict | None) -> str:
    """The section's headline figure for the table."""
    if not results:
        return ""
    if key == "a":
        return f"ratio {_num(results.get('ratio_repro_to_airbench'), '.2f')}× airbench94"
    if key == "b":
        return ", ".join(f"{r['precision']}{'+cl' if r['channels_last'] else ''} {_num(r['speedup_vs_fp32'], '.2f')}×"
                         for r in results["runs"] if r["precision"] != "fp32")
    if key == "c":
        return ", ".join(f"{r['image_size']}px{'+compile' if r['compile'] else ''} {_num(r['images_per_s'], '.3g')}/s"
                         for r in results["runs"])
    if key == "d":
        return (f"batched {_num(results['batched_decode_images_per_s'], '.0f')}/s, CPU path "
                f"{_num(results['cpu_path_images_per_s'], '.0f')}/s")
    if key == "e":
        return (f"max |Δparam| {_num(results['parameters']['max_abs_difference'], '.2g')}, efficiency "
                f"{_num(results['scaling']['efficiency'], '.2f')}")
    return (f"top-1 {_num(results['final_top1'], '.3f')} (target {results['target_top1']}), "
            f"{results['host_syncs_in_steady_steps']} syncs in {results['steady_steps']} steps")


def _num(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def cmd_bench_gpu(args: argparse.Namespace, out: Output) -> int:
    from repro.bench import gpu
    from repro.bench.profile import DEFAULT_BUDGET_S

    budget = DEFAULT_BUDGET_S if args.budget is None else args.budget
    if not budget > 0:
        out.error(f"--budget must be a positive number of seconds, got {args.budget}")
        return ExitCode.ERROR

    def on_section(key: str, entry: dict) -> None:
        out.record("bench_section", {"section": key, **entry})
        mark = " (CPU dry run)" if entry["cpu_dry_run"] else ""
        line = f"{key}  {entry['status']:7s} {entry['elapsed_s']:6.1f} s  {entry['title']}{mark}"
        out.line(line)
        detail = _figure(key, entry.get("results")) if entry["status"] == "ok" else entry.get("reason")
        if detail:
            out.line(f"   {detail}")

    try:
        report = gpu.run_bench(dry_run=args.dry_run, out_dir=args.out, budget_s=budget, command=list(sys.argv),
                               on_section=on_section)
    except gpu.BenchUnavailable as exc:
        out.error(str(exc))
        return ExitCode.UNAVAILABLE
    out.record("bench", {"path": report.path, "failed": report.failed, "dry_run": args.dry_run})
    out.line(f"wrote {report.path}" + (f"; failed: {', '.join(report.failed)}" if report.failed else ""))
    return ExitCode.RUN_FAILED if report.failed else ExitCode.OK
