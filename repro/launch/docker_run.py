"""Docker helpers: build the repro image, read its digest, run a recipe in it, print `docker run` lines.

How the image digest reaches a run's provenance: a container cannot know the digest of its own
image (the digest is a hash of the image, so it cannot be baked into it). Whoever starts the
container reads it through the docker SDK (`image_digest`) and passes it in with
`docker run -e REPRO_IMAGE_DIGEST=<digest>`; inside, `repro.harness.provenance.image_digest()` checks
and records it. `run_recipe` and the Makefile's `reproduce-*` targets do this.

The docker SDK is imported lazily so that `repro` works on a machine without it.
"""
from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.harness.provenance import IMAGE_DIGEST_ENV

DEFAULT_IMAGE = "repro:latest"
DOCKERFILE = "docker/Dockerfile"


class DockerLaunchError(RuntimeError):
    """A docker build or run did not do what was asked; the message says what to do."""


def client():
    """A docker SDK client for the local engine, or an error that says how to get one."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a dev dependency, installed by make
        raise DockerLaunchError("the docker SDK is not installed; run `make install` "
                                "(or `pip install docker`)") from exc
    try:
        c = docker.from_env()
        c.ping()
    except docker.errors.DockerException as exc:
        raise DockerLaunchError(f"cannot reach the Docker engine ({exc}); start it (`sudo systemctl start docker`) "
                                "or set DOCKER_HOST") from exc
    return c


def image_digest(docker_client, ref: str) -> str:
    """The digest to record for image `ref`: its registry digest when it was pushed or pulled,
    else its local image ID (sha256 of the image config), which identifies the same bytes."""
    import docker

    try:
        image = docker_client.images.get(ref)
    except docker.errors.ImageNotFound:
        raise DockerLaunchError(f"image {ref!r} not found locally; build it with `make image`") from None
    repo_digests = image.attrs.get("RepoDigests") or []
    return repo_digests[0] if repo_digests else image.id


def image_user(docker_client, ref: str) -> str:
    """The user the image's entry point runs as ('' means root)."""
    return docker_client.images.get(ref).attrs["Config"].get("User") or ""


def _git(repo: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def oci_build_args(repo: Path, now: dt.datetime | None = None) -> dict[str, str]:
    """SOURCE, REVISION, CREATED for the image's OCI labels, read from the checkout being built."""
    created = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    revision = _git(repo, "rev-parse", "HEAD") or "unknown"
    if revision != "unknown" and _git(repo, "status", "--porcelain", "--untracked-files=no"):
        revision += "-dirty"
    return {"SOURCE": _git(repo, "remote", "get-url", "origin") or "unknown",
            "REVISION": revision, "CREATED": created}


def build_image(docker_client, repo: Path, tag: str = DEFAULT_IMAGE, *,
                build_args: Mapping[str, str] | None = None, network_mode: str | None = None,
                log: Callable[[str], None] = print) -> str:
    """Build docker/Dockerfile from the checkout at `repo`; returns the new image's ID.

    `network_mode="host"` lets pip reach an index on the host's loopback (or any network at all
    when the engine runs without a bridge)."""
    args = {**oci_build_args(repo), **(build_args or {})}
    error = None
    stream = docker_client.api.build(path=str(repo), dockerfile=DOCKERFILE, tag=tag, buildargs=args,
                                     network_mode=network_mode, rm=True, forcerm=True, decode=True)
    for chunk in stream:
        if "stream" in chunk and chunk["stream"].strip():
            log(chunk["stream"].rstrip("\n"))
        if "error" in chunk:
            error = chunk.get("errorDetail", {}).get("message") or chunk["error"]
    if error:
        raise DockerLaunchError(f"docker build of {repo / DOCKERFILE} failed: {error.strip()}")
    return docker_client.images.get(tag).id


@dataclass(frozen=True)
class ContainerSpec:
    """Everything one `docker run` of the repro image needs; `command_line()` prints it for humans
    and `run_recipe` runs it through the SDK, so the two never disagree."""

    image: str
    args: tuple[str, ...]
    gpus: bool = False                                        # --gpus all
    ipc_host: bool = False                                    # --ipc=host: shared memory for DataLoader workers / NCCL
    mounts: tuple[tuple[str, str, str], ...] = ()             # (host path, container path, "rw"|"ro")
    env: tuple[tuple[str, str], ...] = ()
    network: str | None = None                                # e.g. "none": recipes need no network
    user: str | None = None                                   # None: the image's non-root user
    # --init: docker's init (tini) is PID 1 and passes SIGTERM on; a PID 1 without a handler for a
    # signal never sees it (the image's own entry point starts tini too, for plain `docker run`)
    init: bool = True

    def command_line(self) -> str:
        parts = ["docker", "run", "--rm"]
        if self.init:
            parts.append("--init")
        if self.gpus:
            parts += ["--gpus", "all"]
        if self.ipc_host:
            parts.append("--ipc=host")
        if self.network:
            parts.append(f"--network={self.network}")
        if self.user:
            parts += ["--user", self.user]
        for host, container, mode in self.mounts:
            parts += ["-v", f"{host}:{container}:{mode}"]
        for key, value in self.env:
            parts += ["-e", f"{key}={value}"]
        return shlex.join([*parts, self.image, *self.args])

    def sdk_kwargs(self) -> dict[str, Any]:
        import docker

        kwargs: dict[str, Any] = {
            "volumes": {host: {"bind": container, "mode": mode} for host, container, mode in self.mounts},
            "environment": dict(self.env),
        }
        if self.gpus:
            kwargs["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
        if self.ipc_host:
            kwargs["ipc_mode"] = "host"
        if self.network:
            kwargs["network_mode"] = self.network
        if self.user:
            kwargs["user"] = self.user
        if self.init:
            kwargs["init"] = True
        return kwargs


def recipe_container(docker_client, image: str, args: Iterable[str], *, results: Path,
                     data: Path | None = None, data_mode: str = "ro", gpus: bool = False,
                     network: str | None = "none") -> ContainerSpec:
    """The container that runs `repro <args>` with results (and data) mounted and the image digest
    passed in for provenance. Results are written as the calling user when that is not root, so the
    files are theirs; as root, the image's own non-root user writes them."""
    results = results.resolve()
    mounts = [(str(results), "/results", "rw")]
    if data is not None:
        mounts.append((str(data.resolve()), "/data", data_mode))
    uid, gid = os.getuid(), os.getgid()
    return ContainerSpec(image=image, args=tuple(args), gpus=gpus, ipc_host=gpus, mounts=tuple(mounts),
                         env=((IMAGE_DIGEST_ENV, image_digest(docker_client, image)),),
                         network=network, user=f"{uid}:{gid}" if uid != 0 else None)


def prepare_results_dir(docker_client, spec: ContainerSpec, results: Path) -> None:
    """Create the mounted results folder so the container's user can write into it."""
    results.mkdir(parents=True, exist_ok=True)
    if spec.user is None and os.geteuid() == 0:
        user = image_user(docker_client, spec.image)
        if user and user.split(":")[0].isdigit():
            uid, _, gid = user.partition(":")
            os.chown(results, int(uid), int(gid or uid))


def run_container(docker_client, spec: ContainerSpec, log: Callable[[str], None] = print) -> int:
    """Run `spec` to completion, streaming its output to `log`; returns the exit status."""
    container = docker_client.containers.run(spec.image, list(spec.args), detach=True, **spec.sdk_kwargs())
    try:
        for chunk in container.logs(stream=True, follow=True):
            for line in chunk.decode(errors="replace").splitlines():
                log(line)
        return int(container.wait()["StatusCode"])
    finally:
        container.remove(force=True)
