"""What `make image`, `make reproduce-cifar` and `make reproduce-imagenet` run after the preflight:
build the pinned image if it is missing, then run each recipe in it on all local GPUs with data and
results mounted and the image digest passed in for provenance.

    python -m repro.launch.reproduce cifar --data data/cifar10 --results results --runs 5
    python -m repro.launch.reproduce image --rebuild

Every container is printed as the equivalent `docker run` line before it starts, so a run can be
repeated by hand.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from repro.launch import docker_run

REPO_ROOT = Path(__file__).resolve().parents[2]
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# CIFAR-10 is mounted writable so a recipe can fetch the official archive into it; ImageNet read-only.
DATA_MODE = {"cifar": "rw", "imagenet": "ro"}
DEFAULT_RECIPES = {
    "cifar": ("cifar-fastai-2018", "cifar-airbench"),   # the fast.ai DAWNBench 2018 entry and the modern one
    "imagenet": ("imagenet-fastai-2018",),
}


def ensure_image(client, tag: str, *, rebuild: bool = False, repo: Path = REPO_ROOT,
                 log: Callable[[str], None] = print) -> str:
    """The image ID of `tag`, building docker/Dockerfile first when it is missing (or `rebuild`)."""
    import docker

    if not rebuild:
        try:
            return client.images.get(tag).id
        except docker.errors.ImageNotFound:
            log(f"image {tag} not found: building {repo / docker_run.DOCKERFILE}")
    return docker_run.build_image(client, repo, tag, log=log)


def recipe_args(family: str, recipe: str, *, runs: int, seed: int, extra: Sequence[str] = ()) -> list[str]:
    """Arguments for the image's `repro` entry point; paths are the container's mount points."""
    return [family, "--recipe", recipe, "--runs", str(runs), "--seed", str(seed),
            "--data", "/data", "--results", "/results", *extra]


def reproduce(client, family: str, recipes: Sequence[str], *, image: str, data: Path, results: Path,
              runs: int, seed: int, gpus: bool = True, extra: Sequence[str] = (),
              log: Callable[[str], None] = print) -> int:
    """Run every recipe of `family` in `image`; returns the first non-zero container status, else 0."""
    worst = EXIT_OK
    mode = DATA_MODE.get(family, "ro")
    if mode == "rw":
        data.mkdir(parents=True, exist_ok=True)
    for recipe in recipes:
        spec = docker_run.recipe_container(client, image, recipe_args(family, recipe, runs=runs, seed=seed,
                                                                      extra=extra),
                                           results=results, data=data, data_mode=mode, gpus=gpus)
        docker_run.prepare_results_dir(client, spec, results)
        log(f"$ {spec.command_line()}")
        status = docker_run.run_container(client, spec, log=log)
        if status != 0:
            log(f"{recipe}: container exited with status {status}")
            worst = worst or status
    return worst


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m repro.launch.reproduce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", default=docker_run.DEFAULT_IMAGE, help="image tag (default %(default)s)")
    parser.add_argument("--rebuild", action="store_true", help="build the image even if it exists")
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("image", help="build the image (only when missing, unless --rebuild)")
    for family, recipes in DEFAULT_RECIPES.items():
        p = sub.add_parser(family, help=f"run the {family} recipes in the image on all local GPUs")
        p.add_argument("--recipes", nargs="+", default=list(recipes), help="default: %(default)s")
        p.add_argument("--data", type=Path, required=True, help="dataset folder on the host, mounted at /data")
        p.add_argument("--results", type=Path, default=Path("results"), help="mounted at /results")
        p.add_argument("--runs", type=int, default=5, help="seeded runs per recipe (default %(default)s)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--no-gpus", dest="gpus", action="store_false", help="run the container without --gpus")
        p.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more arguments for `repro <family>`")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        client = docker_run.client()
        ensure_image(client, args.image, rebuild=args.rebuild)
        if args.what == "image":
            print(f"{args.image}: {docker_run.image_digest(client, args.image)}")
            return EXIT_OK
        extra = [a for a in args.extra if a != "--"]
        return reproduce(client, args.what, args.recipes, image=args.image, data=args.data,
                         results=args.results, runs=args.runs, seed=args.seed, gpus=args.gpus, extra=extra)
    except docker_run.DockerLaunchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
