"""`make reproduce-cifar` / `reproduce-imagenet` without docker or GPUs: say what is missing, how to run on
the CPU instead, exit non-zero, touch nothing. Plus the docker helpers that need no engine."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from repro.commands.preflight import main as preflight_main
from repro.harness.provenance import image_digest
from repro.launch import docker_run, preflight, reproduce

REPO = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _tool(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/bash\n" + script)
    path.chmod(0o755)


@pytest.fixture
def fake_bin(tmp_path):
    """A PATH holding only the fakes a test puts there (no real docker, no real nvidia-smi)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    return bin_dir


def _docker_that_works(bin_dir: Path, calls: Path) -> None:
    # answers `docker info`; records every call so the test sees that nothing was built or run
    _tool(bin_dir, "docker", f'echo "$*" >> {calls}\n[ "$1" = info ] && echo 24.0.7 && exit 0\nexit 1\n')


def _make(target: str, tmp_path: Path, bin_dir: Path, **overrides: str) -> subprocess.CompletedProcess:
    variables = {"PYTHON": sys.executable, "VENV": str(tmp_path / "venv"), "RESULTS": str(tmp_path / "results"),
                 "SITE": str(tmp_path / "site"), "CIFAR_DATA": str(tmp_path / "cifar10"),
                 "IMAGENET_DATA": str(tmp_path / "imagenet"), "IMAGE": "repro:never-built", **overrides}
    make = shutil.which("make")
    return subprocess.run([make, "--no-print-directory", "-C", str(REPO), target,
                           *(f"{k}={v}" for k, v in variables.items())],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": str(bin_dir)})


def _nothing_written(tmp_path: Path) -> list[str]:
    return [name for name in ("venv", "results", "site", "cifar10", "imagenet") if (tmp_path / name).exists()]


def test_reproduce_cifar_without_docker_or_gpu(tmp_path, fake_bin):
    out = _make("reproduce-cifar", tmp_path, fake_bin)
    assert out.returncode != 0
    assert "make reproduce-cifar: cannot start, missing:" in out.stderr
    assert "the `docker` command is not installed" in out.stderr
    assert "no NVIDIA GPU found" in out.stderr
    assert "To run on the CPU instead:" in out.stderr and "make demo" in out.stderr
    assert "--device cpu" in out.stderr
    assert _nothing_written(tmp_path) == []


def test_reproduce_cifar_with_docker_but_no_gpu_builds_nothing(tmp_path, fake_bin):
    calls = tmp_path / "docker-calls"
    _docker_that_works(fake_bin, calls)
    out = _make("reproduce-cifar", tmp_path, fake_bin)
    assert out.returncode != 0
    assert "no NVIDIA GPU found" in out.stderr and "docker:" not in out.stderr
    assert calls.read_text().split("\n")[0].startswith("info")        # it asked the engine, and only that
    assert not any(word in calls.read_text() for word in ("build", "run", "pull"))
    assert _nothing_written(tmp_path) == []


def test_reproduce_cifar_when_nvidia_smi_sees_no_gpu(tmp_path, fake_bin):
    _docker_that_works(fake_bin, tmp_path / "docker-calls")
    _tool(fake_bin, "nvidia-smi", 'echo "No devices were found"\nexit 6\n')
    out = _make("reproduce-cifar", tmp_path, fake_bin)
    assert out.returncode != 0
    assert "`nvidia-smi -L` lists no GPU (No devices were found)" in out.stderr
    assert _nothing_written(tmp_path) == []


def test_reproduce_imagenet_needs_the_dataset(tmp_path, fake_bin):
    _docker_that_works(fake_bin, tmp_path / "docker-calls")
    _tool(fake_bin, "nvidia-smi", 'echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)"\n')
    out = _make("reproduce-imagenet", tmp_path, fake_bin)
    assert out.returncode != 0
    assert f"data: {tmp_path / 'imagenet'} is missing or empty" in out.stderr
    assert "gpu:" not in out.stderr and "docker:" not in out.stderr
    assert _nothing_written(tmp_path) == []


def test_preflight_passes_when_everything_is_there(tmp_path, fake_bin, monkeypatch, capsys):
    _docker_that_works(fake_bin, tmp_path / "docker-calls")
    _tool(fake_bin, "nvidia-smi", 'echo "GPU 0: Tesla V100-SXM2-16GB (UUID: GPU-1)"\n')
    (tmp_path / "imagenet" / "train").mkdir(parents=True)
    monkeypatch.setenv("PATH", str(fake_bin))
    assert preflight_main(["--docker", "--gpu", "--data", str(tmp_path / "imagenet")]) == 0
    assert capsys.readouterr().err == ""


def test_preflight_reports_an_engine_that_does_not_answer(tmp_path, fake_bin, monkeypatch):
    _tool(fake_bin, "docker", 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2\nexit 1\n')
    monkeypatch.setenv("PATH", str(fake_bin))
    problem = preflight.docker_problem()
    assert "Docker engine is not reachable (Cannot connect to the Docker daemon" in problem
    assert "systemctl start docker" in problem


# -- docker helpers that need no engine ------------------------------------------------------------------
def test_container_image_digest():
    assert image_digest({}) is None
    assert image_digest({"REPRO_IMAGE_DIGEST": DIGEST}) == DIGEST
    ref = "ghcr.io/x/repro@" + DIGEST
    assert image_digest({"REPRO_IMAGE_DIGEST": ref}) == ref
    with pytest.raises(ValueError, match="is not an image digest"):
        image_digest({"REPRO_IMAGE_DIGEST": "repro:latest"})


class _FakeImages:
    def __init__(self, attrs):
        self.attrs = attrs

    def get(self, ref):
        return SimpleNamespace(id=DIGEST, attrs=self.attrs)


def test_image_digest_prefers_the_registry_digest():
    local = SimpleNamespace(images=_FakeImages({"RepoDigests": [], "Config": {"User": "10001:10001"}}))
    assert docker_run.image_digest(local, "repro") == DIGEST
    pushed = SimpleNamespace(images=_FakeImages({"RepoDigests": ["ghcr.io/x/repro@sha256:" + "f" * 64]}))
    assert docker_run.image_digest(pushed, "repro") == "ghcr.io/x/repro@sha256:" + "f" * 64


def test_recipe_container_line_and_sdk_arguments_agree(tmp_path):
    client = SimpleNamespace(images=_FakeImages({"RepoDigests": [], "Config": {"User": "10001:10001"}}))
    args = reproduce.recipe_args("cifar", "cifar-airbench", runs=5, seed=0)
    spec = docker_run.recipe_container(client, "repro:latest", args, results=tmp_path / "res",
                                       data=tmp_path / "cifar", data_mode="rw", gpus=True)
    line = spec.command_line()
    assert line.startswith("docker run --rm --init --gpus all --ipc=host --network=none")
    assert f"-v {tmp_path / 'res'}:/results:rw" in line and f"-e REPRO_IMAGE_DIGEST={DIGEST}" in line
    assert line.endswith("repro:latest cifar --recipe cifar-airbench --runs 5 --seed 0 --data /data --results /results")
    kwargs = spec.sdk_kwargs()
    assert kwargs["ipc_mode"] == "host" and kwargs["network_mode"] == "none" and kwargs["init"] is True
    assert kwargs["device_requests"][0]["Count"] == -1 and kwargs["device_requests"][0]["Capabilities"] == [["gpu"]]
    assert kwargs["volumes"][str(tmp_path / "cifar")] == {"bind": "/data", "mode": "rw"}
    assert kwargs["environment"] == {"REPRO_IMAGE_DIGEST": DIGEST}


def test_default_reproduce_recipes_exist():
    from repro.recipes import get_recipe

    for family, names in reproduce.DEFAULT_RECIPES.items():
        for name in names:
            assert get_recipe(name).data.name.startswith(family)


def test_oci_build_args_from_git(tmp_path):
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "f.txt").write_text("a")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://github.com/example/repro.git"], check=True)
    sha = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    args = docker_run.oci_build_args(tmp_path)
    assert args["REVISION"] == sha and args["SOURCE"] == "https://github.com/example/repro.git"
    assert len(args["CREATED"]) == 20 and args["CREATED"].endswith("Z")
    (tmp_path / "f.txt").write_text("b")
    assert docker_run.oci_build_args(tmp_path)["REVISION"] == sha + "-dirty"
