"""Shared fixtures. Runs use the real digits recipe, shortened with --epochs, in-process (torch loads once).

System prerequisites (a Docker engine, Chromium) are not Python packages: a fresh machine with Python
alone skips the tests that need them, with the reason in pytest's summary (`-ra`). CI installs them
and sets REPRO_TEST_STRICT=1 (.ci/run), under which a missing prerequisite fails instead."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REPRO_BIN = Path(sys.executable).with_name("repro")
STRICT = os.environ.get("REPRO_TEST_STRICT") == "1"


def prerequisite(available: bool, reason: str) -> None:
    """Skip the calling test with `reason` when a system prerequisite is missing; fail under
    REPRO_TEST_STRICT=1, where it must be there."""
    if available:
        return
    if STRICT:
        pytest.fail(f"{reason} (REPRO_TEST_STRICT=1: .ci/run installs it, so it must be here)")
    pytest.skip(f"{reason}; set REPRO_TEST_STRICT=1 to make this a failure")


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 300
            ) -> subprocess.CompletedProcess:
    """The real `repro` entry point in a subprocess, as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(REPRO_BIN), *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=timeout)


@pytest.fixture(scope="session", autouse=True)
def isolated_prices(tmp_path_factory):
    """No test reads or writes the developer's default price snapshot (~/.cache/repro/prices), nor
    takes a snapshot or a price-source URL from the developer's environment; subprocesses inherit."""
    names = ("REPRO_PRICES_DIR", "REPRO_PRICE_SNAPSHOT", "REPRO_AWS_URL", "REPRO_AWS_SPOT_URL", "REPRO_AZURE_URL")
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ["REPRO_PRICES_DIR"] = str(tmp_path_factory.mktemp("prices-dir"))
    yield
    for name, value in saved.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


@pytest.fixture(scope="session")
def digits_group(tmp_path_factory):
    """Two 3-epoch digits runs (seeds 0 and 1), trained once for the whole session: (results, GroupResult)."""
    from repro import api

    results = tmp_path_factory.mktemp("results")
    group = api.train("digits", runs=2, seed=0, epochs=3, results_dir=results)
    return results, group


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on a shared 2-core box: one thread is faster than two contended ones."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
