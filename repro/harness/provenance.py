"""Where a number came from: code, container, software, hardware, data, recipe and prices.

Secrets never leave the process: environment variables are not recorded wholesale, and before any
file of a run directory is written its strings are redacted (Redactor): credentials inside URLs
(a password, a token standing as the user name, signature and token query parameters) and, where
they stand whole, the values of secret-looking variables (keys, tokens, passwords, credentials) and
of the credentials inside URLs in any variable (DATABASE_URL).
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
# in a URL's password or query: SQLAlchemy's URL shows a hidden password as "***" too, and unlike
# "[redacted]" it leaves the URL parseable (a "[" in the host part is an IPv6 bracket to urlsplit)
URL_MASK = "***"
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# query parameters that carry credentials: AWS presigned URLs (X-Amz-Signature, X-Amz-Credential,
# X-Amz-Security-Token), Azure SAS (sig), and the usual token/key/password names
SECRET_QUERY = re.compile(r"(SIG|SIGNATURE|TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)
# a secret-named variable holding one of these is a switch, not a credential
NOT_SECRETS = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", "0", "1"})
# what may stand on either side of a secret inside a longer string: whitespace and separators, but
# not letters, digits, "-", "_" or ".", so a value never matches part of an id or a timestamp
# ("2026" is not redacted out of "2026-11-29T…" or "20261129T…-a1b2c3")
_EDGE = r"\s=:,;'\"@/?&()\[\]{}<>|"
# environment variables worth recording (they change numerics or placement), never secrets
RECORDED_ENV = re.compile(r"^(CUDA_VISIBLE_DEVICES|NCCL_[A-Z_]+|OMP_NUM_THREADS|MKL_NUM_THREADS|"
                          r"TORCH_[A-Z_]+|PYTORCH_[A-Z_]+|CUBLAS_WORKSPACE_CONFIG|WORLD_SIZE|"
                          r"LOCAL_WORLD_SIZE|RANK|LOCAL_RANK|MASTER_ADDR|MASTER_PORT)$")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
IMAGE_DIGEST_ENV = "REPRO_IMAGE_DIGEST"
# A local image ID ("sha256:<64 hex>") or a registry digest ("name@sha256:<64 hex>").
_DIGEST_RE = re.compile(r"^(?:[a-z0-9][a-z0-9._/:-]*@)?sha256:[0-9a-f]{64}$")


def _url_parts(url: str) -> tuple[str, str, str, str]:
    """(scheme, userinfo, rest of the authority, path and beyond), split by hand: urlsplit refuses
    some authorities ("[" outside an IPv6 address) that a hostile value may hold."""
    scheme, _, rest = url.partition("://")
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1:
            end = min(end, found)
    authority, tail = rest[:end], rest[end:]
    userinfo, at, host = authority.rpartition("@")
    return scheme, userinfo if at else "", host, tail


def url_credentials(url: str) -> list[str]:
    """The secret parts of a URL: its password (or a user name standing alone before "@" in an
    http(s) URL, where tokens go), and the values of credential-named query parameters."""
    scheme, userinfo, _, tail = _url_parts(url)
    found = []
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if colon and password:
            found.append(password)
        elif scheme.lower() in ("http", "https") and user:
            found.append(user)
    query = tail.partition("?")[2].partition("#")[0]
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        if eq and value and SECRET_QUERY.search(name):
            found.append(value)
    return [f for f in found if f != URL_MASK]


def redact_url(url: str) -> str:
    """The URL with its credentials (url_credentials) replaced by ***; everything else as it was."""
    scheme, userinfo, host, tail = _url_parts(url)
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if colon and password:
            userinfo = f"{user}:{URL_MASK}"
        elif scheme.lower() in ("http", "https") and user:
            userinfo = URL_MASK
    path, question, query = tail.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        pairs = []
        for pair in query.split("&"):
            name, eq, value = pair.partition("=")
            pairs.append(f"{name}={URL_MASK}" if eq and value and SECRET_QUERY.search(name) else pair)
        tail = f"{path}?{'&'.join(pairs)}{hash_}{fragment}"
    return f"{scheme}://{userinfo}{'@' if userinfo else ''}{host}{tail}"


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values never to be written: those of secret-named variables, and the credentials inside any
    URL in any variable (DATABASE_URL=postgres://user:PASSWORD@host/db), longest first."""
    env = os.environ if environ is None else environ
    found = {v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= 4 and v.lower() not in NOT_SECRETS}
    for value in env.values():
        for url in URL.findall(value):
            found.update(c for c in url_credentials(url) if len(c) >= 4)
    return sorted(found, key=len, reverse=True)


class Redactor:
    """Replaces, in any string: URL credentials by ***, and each secret value by [redacted] where
    it stands whole (between separators, never inside an id, a timestamp or a word)."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self.secrets = secret_values() if secrets is None else list(secrets)
        alternatives = "|".join(re.escape(s) for s in sorted(self.secrets, key=len, reverse=True))
        # after it: a separator, the end, or a full stop that ends a sentence
        self._pattern = (re.compile(f"(?<![^{_EDGE}])(?:{alternatives})(?=$|[{_EDGE}]|[.!](?:$|[{_EDGE}]))")
                         if alternatives else None)

    def text(self, value: str) -> str:
        if "://" in value:
            value = URL.sub(lambda m: redact_url(m.group(0)), value)
        if self._pattern is not None:
            value = self._pattern.sub(REDACTED, value)
        return value

    def __call__(self, obj: Any) -> Any:
        """`obj` (JSON-like data) with every string, keys included, redacted."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {self(k): self(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(self(v) for v in obj)
        return obj


def redact(obj: Any, secrets: list[str] | None = None) -> Any:
    """`obj` with credentials and secret values replaced (see Redactor)."""
    return Redactor(secrets)(obj)


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
