"""What `make image`, `make reproduce-cifar` and `make reproduce-imagenet` run after the preflight
(through `repro reproduce`): build the pinned image if it is missing, then run each recipe in it on
all local GPUs with data and results mounted and the image digest passed in for provenance.

Every container is printed as the equivalent `docker run` line before it starts, so a run can be
repeated by hand.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from repro.launch import docker_run

REPO_ROOT = Path(__file__).resolve().parents[2]

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
    worst = 0
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
