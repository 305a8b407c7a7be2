"""docker/Dockerfile and its lock: lint, pins and hashes (fast), and a real build + run (slow).

The slow test builds the REAL docker/Dockerfile, with two differences from the default image, both
through the Dockerfile's documented build args:
  * BASE_IMAGE: a Debian bookworm minbase made here with debootstrap and `docker import` (no registry
    is reachable), instead of nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04. So the test image has no
    CUDA runtime / cuDNN from the base, and Python 3.11 comes from Debian instead of Ubuntu's archive.
  * PIP_FIND_LINKS / PIP_NO_INDEX: the locked wheels come from a wheelhouse served on 127.0.0.1
    (built with the host network) instead of PyPI. pip still checks every file against the lock's
    hashes, so the Python packages are the same as in the default image, the CUDA build of
    torch 2.14.1 included: no CPU build of torch 2.14.1 is available here (only 2.13.0+cpu, which
    torchvision 0.29.1 does not accept), so the test image carries the full 6.4 GB CUDA stack.
Then `docker run` of that image (no network) writes a digits run directory into a mounted folder,
and the test checks the image digest in its provenance and that the container ran as non-root.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from repro.launch import docker_run
from tests.conftest import prerequisite

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "docker" / "Dockerfile"
LOCK = REPO / "docker" / "requirements.lock"
HADOLINT = Path(sys.executable).with_name("hadolint")
RELOCK = ("pip-compile --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url "
          "--no-emit-find-links --no-emit-trusted-host --output-file docker/requirements.lock "
          "pyproject.toml docker/build-requirements.in")


def _dockerfile_args() -> dict[str, str]:
    args = {}
    for line in DOCKERFILE.read_text().splitlines():
        if m := re.match(r"^ARG (\w+)(?:=(.*))?$", line.strip()):
            args.setdefault(m.group(1), m.group(2))
    return args


def _locked() -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) from docker/requirements.lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", line):
            current = canonicalize_name(m.group(1))
            pins[current] = (m.group(2), [])
        elif current and (h := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            pins[current][1].append(h.group(1))
    return pins


# -- fast: the Dockerfile ------------------------------------------------------------------------------
def test_hadolint_passes_on_the_dockerfile():
    out = subprocess.run([str(HADOLINT), "--failure-threshold", "info", str(DOCKERFILE)],
                         capture_output=True, text=True)
    assert out.returncode == 0, f"hadolint found problems:\n{out.stdout}{out.stderr}"


def test_hadolint_really_lints(tmp_path):
    # the lint above can fail: the same binary flags an unpinned base and a root entry point
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM ubuntu\nRUN apt-get install -y python3\nUSER root\n")
    out = subprocess.run([str(HADOLINT), str(bad)], capture_output=True, text=True)
    assert out.returncode != 0
    assert "DL3006" in out.stdout and "DL3002" in out.stdout


def test_default_base_is_an_official_cuda_image_pinned_by_digest():
    base = _dockerfile_args()["BASE_IMAGE"]
    assert re.fullmatch(r"nvidia/cuda:[0-9.]+-cudnn-runtime-ubuntu[0-9.]+@sha256:[0-9a-f]{64}", base), base
    assert "FROM ${BASE_IMAGE}" in DOCKERFILE.read_text()


def test_entrypoint_user_and_labels():
    text = DOCKERFILE.read_text()
    # tini as PID 1 passes `docker stop`'s SIGTERM on to repro (a PID 1 without a handler never sees it)
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "repro"]' in text and "STOPSIGNAL SIGTERM" in text
    users = re.findall(r"^USER (.+)$", text, re.M)
    assert users and users[-1] == "${REPRO_UID}:${REPRO_UID}"
    assert int(_dockerfile_args()["REPRO_UID"]) >= 1000           # the entry point never runs as root
    for label in ("source", "revision", "created"):
        assert f'org.opencontainers.image.{label}="${{{label.upper()}}}"' in text
    assert "--require-hashes" in text and "--no-deps" in text


def test_dockerignore_keeps_the_venv_and_results_out():
    lines = (REPO / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*")] == "*"                           # allow-list: everything else stays out
    assert "!repro/" in lines and "!docker/requirements.lock" in lines
    assert not any(line.startswith("!") and (".venv" in line or "results" in line) for line in lines)


# -- fast: the lock ------------------------------------------------------------------------------------
def test_lock_pins_torch_and_torchvision_with_hashes():
    pins = _locked()
    assert pins["torch"][0] == "2.14.1" and pins["torchvision"][0] == "0.29.1"
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert not unhashed, f"no --hash for {unhashed}"
    assert "setuptools" in pins and "wheel" in pins                # the build backend, for --no-build-isolation


def test_lock_covers_every_runtime_dependency_of_pyproject():
    pyproject = __import__("tomllib").loads((REPO / "pyproject.toml").read_text())
    pins = _locked()
    problems = []
    for spec in pyproject["project"]["dependencies"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req.name} is not in the lock")
        elif not req.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{req.name}: lock has {pins[name][0]}, pyproject wants {req.specifier}")
    assert not problems, "docker/requirements.lock is stale: " + "; ".join(problems) + f"; re-lock with: {RELOCK}"


# -- slow: build the real Dockerfile on a local base and run digits in it --------------------------------
CACHE = Path(os.environ.get("REPRO_DOCKER_TEST_CACHE", Path.home() / ".cache" / "repro-docker-test"))
BASE_TAG = "repro-test-base:bookworm-minbase"
IMAGE_TAG = "repro:slow-test"
SOCKET = "/var/run/docker.sock"
WHEEL_PORT = int(os.environ.get("REPRO_DOCKER_TEST_WHEEL_PORT", "18765"))


def _engine_up() -> bool:
    try:
        import docker
        docker.DockerClient(base_url=f"unix://{SOCKET}", timeout=5).ping()
        return True
    except Exception:
        return False


def _storage_driver() -> str:
    # overlay2 when the kernel has overlayfs (fast layer commits); vfs (full copies) everywhere else
    driver = os.environ.get("REPRO_DOCKER_STORAGE_DRIVER")
    if driver:
        return driver
    return "overlay2" if "overlay" in Path("/proc/filesystems").read_text() else "vfs"


@pytest.fixture(scope="module")
def docker_engine():
    """A docker SDK client; starts dockerd (no bridge, no iptables) when none runs, stops only that one."""
    import docker

    started = None
    if not _engine_up():
        prerequisite(shutil.which("dockerd") is not None and os.geteuid() == 0,
                     "no Docker engine runs here and this test cannot start one: it needs root and dockerd "
                     "(apt-get install docker.io, as .ci/run does)")
        CACHE.mkdir(parents=True, exist_ok=True)
        log = open(CACHE / "dockerd.log", "ab")
        started = subprocess.Popen(["dockerd", "--storage-driver", _storage_driver(), "--iptables=false",
                                    "--bridge=none", "--host", f"unix://{SOCKET}"], stdout=log, stderr=log)
        deadline = time.monotonic() + 90
        while not _engine_up():
            if started.poll() is not None or time.monotonic() > deadline:
                started.kill()
                prerequisite(False, f"dockerd did not come up (exit {started.poll()}); see {log.name}")
            time.sleep(0.5)
    client = docker.DockerClient(base_url=f"unix://{SOCKET}", timeout=1800)
    try:
        yield client
    finally:
        client.close()
        if started is not None:
            started.terminate()
            try:
                started.wait(timeout=60)
            except subprocess.TimeoutExpired:
                started.kill()
            log.close()


def _debian_mirror() -> str:
    if mirror := os.environ.get("REPRO_DEBIAN_MIRROR"):
        return mirror
    for source in sorted(Path("/etc/apt").rglob("*.sources")) + [Path("/etc/apt/sources.list")]:
        if source.is_file():
            text = source.read_text()
            if m := re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or \
                    re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s+bookworm\b", text, re.M):
                return m.group(1)
    return "http://deb.debian.org/debian"


def _ensure_base_image(client, timings: dict) -> str:
    """Debian bookworm minbase with python3 + venv, imported once and kept (tarball cached too)."""
    import docker

    try:
        client.images.get(BASE_TAG)
        return BASE_TAG
    except docker.errors.ImageNotFound:
        pass
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / "bookworm-minbase.tar"
    t0 = time.monotonic()
    if not tarball.exists():
        prerequisite(shutil.which("debootstrap") is not None,
                     "debootstrap is needed to make the local base image (apt-get install debootstrap)")
        with tempfile.TemporaryDirectory(dir=CACHE) as rootfs:
            subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv", "bookworm",
                            rootfs, _debian_mirror()], check=True, capture_output=True)
            subprocess.run(["tar", "-C", rootfs, "-cf", f"{tarball}.part", "."], check=True)
        os.replace(f"{tarball}.part", tarball)
    timings["debootstrap_s"] = round(time.monotonic() - t0, 1)
    t0 = time.monotonic()
    repository, tag = BASE_TAG.split(":")
    client.api.import_image_from_file(str(tarball), repository=repository, tag=tag)
    timings["import_s"] = round(time.monotonic() - t0, 1)
    return BASE_TAG


def _ensure_wheelhouse(timings: dict) -> Path:
    """Every locked wheel in one folder (pip skips files it already has, so a second run is quick)."""
    wheelhouse = CACHE / "wheelhouse"
    wheelhouse.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                          "-r", str(LOCK), "-d", str(wheelhouse)], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"pip could not fetch the locked wheels into {wheelhouse}:\n{out.stderr[-3000:]}")
    timings["wheelhouse_s"] = round(time.monotonic() - t0, 1)
    return wheelhouse


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def wheel_server():
    timings: dict = {}
    wheelhouse = _ensure_wheelhouse(timings)
    handler = functools.partial(_QuietHandler, directory=str(wheelhouse))
    # A fixed port keeps the build args, and so docker's layer cache, the same from run to run
    # (the classic builder keys RUN steps on them); any free port when that one is taken.
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", WHEEL_PORT), handler)
    except OSError:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", timings
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_image_builds_and_runs_digits_as_non_root_with_digest_in_provenance(docker_engine, wheel_server, tmp_path):
    client = docker_engine
    find_links, timings = wheel_server
    base = _ensure_base_image(client, timings)

    oci = docker_run.oci_build_args(REPO)          # what build_image passes too; read once, HEAD may move
    t0 = time.monotonic()
    image_id = docker_run.build_image(
        client, REPO, IMAGE_TAG, network_mode="host", log=lambda line: None,
        build_args={**oci, "BASE_IMAGE": base, "PIP_FIND_LINKS": find_links, "PIP_NO_INDEX": "1"})
    timings["build_s"] = round(time.monotonic() - t0, 1)
    image = client.images.get(IMAGE_TAG)
    labels = image.attrs["Config"]["Labels"]
    assert labels["org.opencontainers.image.base.name"] == base
    for key in ("source", "revision", "created"):
        assert labels[f"org.opencontainers.image.{key}"] == oci[key.upper()]
    assert image.attrs["Config"]["Entrypoint"] == ["/usr/bin/tini", "--", "repro"]
    assert image.attrs["Config"]["StopSignal"] == "SIGTERM"

    # the entry point's user, as the kernel sees it
    whoami = client.containers.run(IMAGE_TAG, ["-u"], entrypoint="id", network_mode="none", remove=True)
    assert whoami.decode().strip() == "10001"

    results = tmp_path / "results"
    spec = docker_run.recipe_container(client, IMAGE_TAG, ["digits", "--runs", "1", "--seed", "0", "--epochs", "3",
                                                           "--results", "/results"], results=results)
    assert spec.network == "none" and spec.env[0][0] == docker_run.IMAGE_DIGEST_ENV
    docker_run.prepare_results_dir(client, spec, results)
    output: list[str] = []
    t0 = time.monotonic()
    status = docker_run.run_container(client, spec, log=output.append)
    timings["digits_run_s"] = round(time.monotonic() - t0, 1)
    assert status == 0, "\n".join(output[-30:])

    run_files = list(results.glob("digits/*/run.json"))
    assert len(run_files) == 1, f"expected one run directory, found {run_files}"
    run = json.loads(run_files[0].read_text())
    assert run["status"] == "finished"
    assert run["provenance"]["image_digest"] == docker_run.image_digest(client, IMAGE_TAG) == image_id
    assert run["provenance"]["torch"].startswith("2.14.1")
    assert run["provenance"]["git_sha"] == labels["org.opencontainers.image.revision"]
    # written by the container's user, not by root
    assert run_files[0].stat().st_uid == 10001
    print(f"\nimage test timings (s): {json.dumps(timings)}; image size {image.attrs['Size'] / 1e9:.2f} GB")
    _sigterm_as_docker_stop_sends_it(client, results)


def _sigterm_as_docker_stop_sends_it(client, results: Path) -> None:
    """`docker stop` mid-run and a SIGTERM the moment the container starts (before repro's handlers
    are in place): tini as PID 1 passes both on, and repro exits 143 either way."""
    args = ["digits", "--epochs", "400", "--results", "/results/stop"]
    spec = docker_run.recipe_container(client, IMAGE_TAG, args, results=results)
    container = client.containers.run(spec.image, list(spec.args), detach=True, **spec.sdk_kwargs())
    try:
        deadline = time.monotonic() + 300
        while not [p for p in results.glob("stop/digits/*/run.json")
                   if json.loads(p.read_text())["outcome"]["epochs"]]:
            assert time.monotonic() < deadline, container.logs().decode()[-2000:]
            time.sleep(0.5)
        container.stop(timeout=60)
        assert container.wait()["StatusCode"] == 143, container.logs().decode()[-2000:]
    finally:
        container.remove(force=True)
    record = json.loads(next(results.glob("stop/digits/*/run.json")).read_text())
    assert record["status"] == "interrupted" and "SIGTERM" in record["error"]
    early = client.containers.run(spec.image, list(spec.args), detach=True, **spec.sdk_kwargs())
    try:
        early.kill(signal="SIGTERM")
        assert early.wait(timeout=120)["StatusCode"] == 143, early.logs().decode()[-2000:]
    finally:
        early.remove(force=True)
