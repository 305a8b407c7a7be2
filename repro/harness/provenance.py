"""Where a number came from: code, container, software, hardware, data, recipe and prices.

Secrets never leave the process: environment variables are not recorded wholesale, and any recorded
string that contains the value of a secret-looking variable (keys, tokens, passwords, credentials) is
redacted before it is written.
"""
from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping


SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|SESSION|COOKIE|PRIVATE)",
                         re.IGNORECASE)
REDACTED = "[redacted]"
# environment variables worth recording (they change numerics or placement), never secrets
RECORDED_ENV = re.compile(r"^(CUDA_VISIBLE_DEVICES|NCCL_[A-Z_]+|OMP_NUM_THREADS|MKL_NUM_THREADS|"
                          r"TORCH_[A-Z_]+|PYTORCH_[A-Z_]+|CUBLAS_WORKSPACE_CONFIG|WORLD_SIZE|"
                          r"LOCAL_WORLD_SIZE|RANK|LOCAL_RANK|MASTER_ADDR|MASTER_PORT)$")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
IMAGE_DIGEST_ENV = "REPRO_IMAGE_DIGEST"
# A local image ID ("sha256:<64 hex>") or a registry digest ("name@sha256:<64 hex>").
_DIGEST_RE = re.compile(r"^(?:[a-z0-9][a-z0-9._/:-]*@)?sha256:[0-9a-f]{64}$")


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    return sorted({v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= 4},
                  key=len, reverse=True)


def redact(obj: Any, secrets: list[str] | None = None) -> Any:
    """Return `obj` with every occurrence of a secret value replaced, recursively."""
    secrets = secret_values() if secrets is None else secrets
    if not secrets:
        return obj
    if isinstance(obj, str):
        for s in secrets:
            obj = obj.replace(s, REDACTED)
        return obj
    if isinstance(obj, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact(v, secrets) for v in obj)
    return obj


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(PACKAGE_ROOT), *args], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_info() -> dict[str, Any]:
    # inside the image there is no .git: the build bakes the revision into REPRO_GIT_SHA
    sha = _git("rev-parse", "HEAD") or os.environ.get("REPRO_GIT_SHA") or None
    dirty = None
    if _git("rev-parse", "--is-inside-work-tree") == "true":
        status = _git("status", "--porcelain", "--untracked-files=no")
        dirty = bool(status) if status is not None else None
    return {"git_sha": sha, "git_dirty": dirty}


def image_digest(environ: Mapping[str, str] | None = None) -> str | None:
    """The container image's digest, passed in by the launcher (`docker run -e REPRO_IMAGE_DIGEST=…`,
    repro.launch.docker_run); an image cannot contain its own digest. None outside a container.
    Raises ValueError when the variable is set but is not a digest, so a typo never ends up in a run
    record looking like provenance."""
    value = (os.environ if environ is None else environ).get(IMAGE_DIGEST_ENV, "").strip()
    if not value:
        return None
    if not _DIGEST_RE.match(value):
        raise ValueError(f"{IMAGE_DIGEST_ENV}={value!r} is not an image digest; expected 'sha256:<64 hex>' "
                         f"or '<name>@sha256:<64 hex>' (e.g. from `docker image inspect -f '{{{{.Id}}}}' repro`)")
    return value


def software() -> dict[str, Any]:
    import torch

    cuda = torch.version.cuda
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "nccl": None,
        "driver": None,
    }
    if torch.cuda.is_available():
        try:
            info["nccl"] = ".".join(map(str, torch.cuda.nccl.version()))
        except (AttributeError, RuntimeError):
            pass
        info["driver"] = _nvidia_driver()
    return info


def _nvidia_driver() -> str | None:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None


def collect(*, recipe_hash: str, dataset: dict[str, Any], price_snapshot_id: str | None,
            command: list[str] | None = None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if RECORDED_ENV.match(k) and not SECRET_NAME.search(k)}
    record = {
        **git_info(),
        "image_digest": image_digest(),
        **software(),
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "dataset": dataset,
        "recipe_hash": recipe_hash,
        "price_snapshot_id": price_snapshot_id,
        "command": list(command if command is not None else sys.argv),
        "env": env,
    }
    return redact(record)
