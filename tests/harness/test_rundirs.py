"""Run directories appear whole (with their first run.json), hidden leftovers of killed processes
go, a running run whose process is gone reads as stale, and the reserve keeps room for the end."""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys

import pytest

from repro.harness import rundirs, store
from tests.helpers_records import golden_record


def _record(run_id: str) -> dict:
    return {**golden_record(), "run_id": run_id, "status": "running", "process": rundirs.process_info()}


def test_a_run_directory_appears_with_its_first_run_json(tmp_path):
    run_dir = rundirs.create_run_dir(tmp_path, "digits", _record)
    assert run_dir.parent == tmp_path / "digits"
    assert store.read_json(run_dir / store.RUN_FILE)["run_id"] == run_dir.name
    assert sorted(p.name for p in (tmp_path / "digits").iterdir()) == [run_dir.name]


def _make_dirs(args):
    results, n = args
    return [rundirs.create_run_dir(results, "digits", _record).name for _ in range(n)]


def test_concurrent_processes_never_share_a_run_dir(tmp_path):
    with mp.get_context("spawn").Pool(4) as pool:
        names = sum(pool.map(_make_dirs, [(tmp_path, 25)] * 4), [])
    assert len(names) == 100 and len(set(names)) == 100
    assert len(os.listdir(tmp_path / "digits")) == 100


def test_unwritable_results_dir_is_refused(tmp_path):
    blocker = tmp_path / "not-a-dir"      # a path below a regular file can't be created, even by root
    blocker.write_text("")
    with pytest.raises(store.StoreError, match="writable --results"):
        rundirs.create_run_dir(blocker / "results", "digits", _record)


KILLED_WHILE_MAKING = """
import os, signal, sys
from repro.harness import rundirs

def first_record(run_id):
    os.kill(os.getpid(), signal.SIGKILL)   # between the folder's mkdir and its first run.json

rundirs.create_run_dir(sys.argv[1], "digits", first_record)
"""


def test_kill_9_between_mkdir_and_the_first_record_leaves_no_run_directory(tmp_path):
    proc = subprocess.run([sys.executable, "-c", KILLED_WHILE_MAKING, str(tmp_path)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    leftovers = list((tmp_path / "digits").iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(rundirs.STAGING_PREFIX)   # hidden
    assert store.scan_results(tmp_path).run_dirs == [] and store.scan_results(tmp_path).skipped == []
    assert rundirs.remove_stale_staging(tmp_path) == []          # too young to tell from a live one
    os.utime(leftovers[0], (0, 0))
    assert rundirs.remove_stale_staging(tmp_path) == [str(leftovers[0])]
    assert list((tmp_path / "digits").iterdir()) == []


def test_staging_of_a_live_process_stays(tmp_path):
    live = tmp_path / "digits" / f"{rundirs.STAGING_PREFIX}{os.getpid()}-20261101T000000Z-aaaaaa"
    live.mkdir(parents=True)
    os.utime(live, (0, 0))
    store.atomic_write_json(live / store.RUN_FILE, _record(live.name.split("-", 2)[-1]))
    assert rundirs.remove_stale_staging(tmp_path) == [] and live.exists()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_liveness_tells_running_from_stale():
    record = _record("20261101T000000Z-aaaaaa")
    assert rundirs.liveness(record) == "running"
    assert rundirs.liveness({**record, "process": {**record["process"], "pid": _dead_pid()}}) == rundirs.STALE
    rebooted = {**record["process"], "boot_id": "00000000-0000-0000-0000-000000000000"}
    assert rundirs.liveness({**record, "process": rebooted}) == rundirs.STALE
    reused = {**record["process"], "started_unix_s": record["process"]["started_unix_s"] - 3600}
    assert rundirs.liveness({**record, "process": reused}) == rundirs.STALE   # the pid is someone else's now
    assert rundirs.liveness({**record, "process": {**record["process"], "hostname": "elsewhere"}}) is None
    assert rundirs.liveness({**record, "status": "finished"}) is None
    assert rundirs.liveness({k: v for k, v in record.items() if k != "process"}) is None
    assert record["process"]["hostname"] == socket.gethostname()


def test_the_reserve_is_freed_and_falls_back_to_what_the_disk_has(tmp_path):
    assert rundirs.reserve_space(tmp_path, 4096)
    assert os.path.getsize(tmp_path / rundirs.RESERVE_FILE) == 4096
    rundirs.release_space(tmp_path)
    rundirs.release_space(tmp_path)                      # twice: nothing left to free
    assert not (tmp_path / rundirs.RESERVE_FILE).exists()
    assert rundirs.reserve_space(tmp_path, 1 << 62)      # more than any disk: the largest fallback that fits
    assert os.path.getsize(tmp_path / rundirs.RESERVE_FILE) == rundirs.RESERVE_FALLBACKS[0]


def test_the_first_record_is_redacted(tmp_path, monkeypatch):
    from repro.harness.run import initial_record
    from repro.recipes import apply_overrides, get_recipe

    monkeypatch.setenv("DATABASE_URL", "postgres://admin:Pa55w0rdDB@db/x")
    recipe = apply_overrides(get_recipe("digits"), ["description=see postgres://admin:Pa55w0rdDB@db/x"])
    run_dir = rundirs.create_run_dir(tmp_path, "digits", lambda run_id: initial_record(
        run_id, recipe=recipe, seed=0, group_id=None, device="cpu", world_size=1, synthetic_data=False))
    text = (run_dir / store.RUN_FILE).read_text()
    assert "Pa55w0rdDB" not in text and "postgres://admin:***@db/x" in json.loads(text)["config"]["description"]
