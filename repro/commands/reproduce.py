"""`repro reproduce image | cifar | imagenet`: the pinned image, and the published recipes run in it
on all local GPUs (what `make image` and `make reproduce-*` call after their preflight)."""
from __future__ import annotations

import argparse
from pathlib import Path

from repro.commands.options import add_command
from repro.commands.output import ExitCode, Output
from repro.launch import docker_run
from repro.launch.reproduce import DEFAULT_RECIPES, ensure_image, reproduce


def register(sub) -> None:
    p = add_command(sub, "reproduce", help="build the pinned image and run the published recipes in it",
                    examples="repro reproduce --rebuild image\n"
                             "repro reproduce cifar --data data/cifar10 --results results --runs 5")
    p.add_argument("--image", default=docker_run.DEFAULT_IMAGE, help="image tag (default %(default)s)")
    p.add_argument("--rebuild", action="store_true", help="build the image even if it exists")
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    image = add_command(what, "image", help="build the image (only when missing, unless --rebuild)",
                        examples="repro reproduce --rebuild image")
    image.set_defaults(func=cmd_reproduce, quiet=False, json=False)
    for family, recipes in DEFAULT_RECIPES.items():
        f = add_command(what, family, help=f"run the {family} recipes in the image on all local GPUs",
                        examples=f"repro reproduce {family} --data data/{family} --results results --runs 5")
        f.add_argument("--recipes", nargs="+", default=list(recipes), help="recipes to run (default: %(default)s)")
        f.add_argument("--data", type=Path, required=True, help="dataset folder on the host, mounted at /data")
        f.add_argument("--results", type=Path, default=Path("results"), help="mounted at /results")
        f.add_argument("--runs", type=int, default=5, help="seeded runs per recipe (default %(default)s)")
        f.add_argument("--seed", type=int, default=0, help="seed of the first run (default 0)")
        f.add_argument("--no-gpus", dest="gpus", action="store_false", help="run the container without --gpus")
        f.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more arguments for `repro <family>`")
        f.set_defaults(func=cmd_reproduce, quiet=False, json=False)


def cmd_reproduce(args: argparse.Namespace, out: Output) -> int:
    try:
        client = docker_run.client()
        ensure_image(client, args.image, rebuild=args.rebuild, log=out.line)
        if args.what == "image":
            out.line(f"{args.image}: {docker_run.image_digest(client, args.image)}")
            return ExitCode.OK
        extra = [a for a in args.extra if a != "--"]
        status = reproduce(client, args.what, args.recipes, image=args.image, data=args.data,
                           results=args.results, runs=args.runs, seed=args.seed, gpus=args.gpus, extra=extra,
                           log=out.line)
    except docker_run.DockerLaunchError as exc:
        out.error(str(exc))
        return ExitCode.ERROR
    return ExitCode.OK if status == 0 else ExitCode.RUN_FAILED
