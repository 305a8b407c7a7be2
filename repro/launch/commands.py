"""`repro export skypilot`: the CLI face of repro.launch.skypilot. repro/cli.py wires it with
`add_export_skypilot(export_subparsers)`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from repro.launch import skypilot

EXIT_OK = 0
EXIT_ERROR = 1

EPILOG = """\
examples:
  repro export skypilot --recipe cifar-fastai-2018 --gpus V100:8 --spot \\
      --image ghcr.io/you/repro@sha256:<digest> --data-source s3://you-data/cifar10 \\
      --results-bucket s3://you-results --out cifar.sky.yaml
  sky jobs launch cifar.sky.yaml
  repro export skypilot --recipe imagenet-fastai-2018 --gpus V100:8 --nodes 2 --spot \\
      --data-source s3://you-data/imagenet --results-bucket s3://you-results --check
"""


def add_export_skypilot(export_subparsers) -> argparse.ArgumentParser:
    """Register `repro export skypilot` on the `repro export` sub-parsers; returns its parser."""
    p = export_subparsers.add_parser(
        "skypilot", help="write a SkyPilot task YAML for a recipe (cloud GPUs, spot with recovery)",
        description=skypilot.__doc__.split("\n\n")[0] + " The task runs the repro image with torchrun on "
                    "every GPU of every node.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
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
    p.add_argument("--out", type=Path, help="write the YAML here (default: standard output)")
    p.add_argument("--check", action="store_true", help="load the YAML with SkyPilot's own loader before writing")
    p.set_defaults(func=cmd_export_skypilot)
    return p


def cmd_export_skypilot(args) -> int:
    opts = skypilot.SkyTaskOptions(
        recipe=args.recipe, gpus=args.gpus, spot=args.spot, image=args.image, nodes=args.nodes, runs=args.runs,
        seed=args.seed, data_source=args.data_source, results_bucket=args.results_bucket,
        recovery_strategy=args.recovery, max_restarts_on_errors=args.max_restarts_on_errors,
        cloud=args.cloud, region=args.region, disk_size_gb=args.disk_size_gb)
    try:
        text = skypilot.to_yaml(skypilot.task_config(opts), opts)
        if args.check:
            skypilot.validate_with_skypilot(text)
    except skypilot.ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for note in skypilot.warnings_for(opts):
        print(f"note: {note}", file=sys.stderr)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}" + (" (accepted by SkyPilot's loader)" if args.check else ""), file=sys.stderr)
    return EXIT_OK
