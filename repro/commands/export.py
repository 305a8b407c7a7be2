"""`repro export dawnbench` (a run as a DAWNBench entry) and `repro export skypilot` (a recipe as a
SkyPilot task for cloud GPUs, spot with recovery)."""
from __future__ import annotations

import argparse
from pathlib import Path

from repro.commands.options import add_command
from repro.commands.output import ExitCode, Output
from repro.launch import skypilot

SKYPILOT_EXAMPLES = """\
repro export skypilot --recipe cifar-fastai-2018-8gpu --gpus V100:8 --spot \\
    --image ghcr.io/you/repro@sha256:<digest> --data-source s3://you-data/cifar10 \\
    --results-bucket s3://you-results --out cifar.sky.yaml
sky jobs launch cifar.sky.yaml
repro export skypilot --recipe imagenet-fastai-2018 --gpus V100:8 --nodes 2 --spot --managed \\
    --data-source s3://you-data/imagenet --results-bucket s3://you-results --check"""


def register(sub) -> None:
    export = add_command(sub, "export", help="export a run or recipe to other formats and engines",
                         examples="repro export dawnbench results/digits/20261125T120000Z-a1b2c3 --out entry/\n"
                                  "repro export skypilot --recipe cifar-airbench --gpus A100:1 --spot")
    kinds = export.add_subparsers(dest="export_kind", metavar="KIND", required=True)

    p = add_command(kinds, "dawnbench", help="write a DAWNBench entry (JSON + TSV) for a run",
                    examples="repro export dawnbench results/digits/20261125T120000Z-a1b2c3 --out dawnbench/")
    p.add_argument("run_dir", type=Path, help="the run directory to export")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder (default: the run directory)")
    p.add_argument("--author", default="repro", help="the entry's author (default repro)")
    p.add_argument("--email", default="", help="the author's e-mail address")
    p.add_argument("--code-url", default="", help="where the code that ran lives (a repository URL)")
    p.set_defaults(func=cmd_export_dawnbench, quiet=False, json=False)

    p = add_command(kinds, "skypilot", help="write a SkyPilot task YAML for a recipe (cloud GPUs, spot with recovery)",
                    description=skypilot.__doc__.split("\n\n")[0] + " The task runs the repro image with torchrun "
                                "on every GPU of every node.", examples=SKYPILOT_EXAMPLES)
    _add_skypilot_flags(p)
    p.set_defaults(func=cmd_export_skypilot, quiet=False, json=False)


def _add_skypilot_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recipe", required=True, help="recipe name (see `repro recipes`)")
    p.add_argument("--gpus", required=True, metavar="MODEL:COUNT", help="accelerators per node, e.g. V100:8")
    p.add_argument("--spot", action="store_true", help="spot instances, relaunched by SkyPilot after preemption")
    p.add_argument("--nodes", type=int, default=1, help="number of nodes (default 1)")
    p.add_argument("--image", default="repro:latest",
                   help="image the VMs pull, best a digest: REGISTRY/repro@sha256:… (default repro:latest)")
    p.add_argument("--data-source", metavar="BUCKET_URL", help="dataset bucket mounted at /data")
    p.add_argument("--results-bucket", metavar="BUCKET_URL", help="bucket mounted at /results")
    p.add_argument("--runs", type=int, default=1, help="seeded runs (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first run")
    p.add_argument("--recovery", default="EAGER_NEXT_REGION", choices=skypilot.RECOVERY_STRATEGIES,
                   help="SkyPilot job recovery strategy with --spot (default EAGER_NEXT_REGION)")
    p.add_argument("--max-restarts-on-errors", type=int, default=3,
                   help="relaunches after a user-code failure, besides preemptions (default 3)")
    p.add_argument("--cloud", help="pin a cloud (aws, gcp, azure, …); default: SkyPilot picks the cheapest")
    p.add_argument("--region", help="pin a region")
    p.add_argument("--disk-size", type=int, dest="disk_size_gb", metavar="GB", help="boot disk size in GB")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the YAML here (default: standard output)")
    p.add_argument("--check", action="store_true", help="load the YAML with SkyPilot's own loader before writing")
    p.add_argument("--managed", action="store_true",
                   help="a managed job (sky jobs launch) that resumes from the bucket's latest checkpoint after "
                        "every restart; needs --results-bucket")
    p.add_argument("--epochs", type=int, default=None, help="epochs of each new run (default: the recipe's)")


def cmd_export_dawnbench(args: argparse.Namespace, out: Output) -> int:
    from repro.report.dawnbench import export_dawnbench
    for path in export_dawnbench(args.run_dir, args.out, author=args.author, email=args.email,
                                 code_url=args.code_url):
        out.line(str(path))
    return ExitCode.OK


def cmd_export_skypilot(args: argparse.Namespace, out: Output) -> int:
    opts = skypilot.SkyTaskOptions(
        recipe=args.recipe, gpus=args.gpus, spot=args.spot, image=args.image, nodes=args.nodes, runs=args.runs,
        seed=args.seed, data_source=args.data_source, results_bucket=args.results_bucket,
        recovery_strategy=args.recovery, max_restarts_on_errors=args.max_restarts_on_errors,
        cloud=args.cloud, region=args.region, disk_size_gb=args.disk_size_gb, managed=args.managed,
        epochs=args.epochs)
    text = skypilot.to_yaml(skypilot.task_config(opts), opts)
    if args.check:
        skypilot.validate_with_skypilot(text)
    for note in skypilot.warnings_for(opts):
        out.note(f"note: {note}")
    if args.out is None:
        out.raw(text)
        return ExitCode.OK
    from repro.harness.store import atomic_write_text
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, text)
    out.note(f"wrote {args.out}" + (" (accepted by SkyPilot's loader)" if args.check else ""))
    return ExitCode.OK
