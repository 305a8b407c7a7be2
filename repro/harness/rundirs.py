"""Run directories: made whole, and told apart as running or stale.

- **Made whole.** `create_run_dir` builds a new run under a hidden name
  (`results/<recipe>/.new-<pid>-<run id>/`), writes its first run.json there and renames the folder
  into place: a visible run directory always holds a readable run.json, whatever instant the
  process is killed at. Readers skip names that start with a dot; a hidden folder left by a killed
  process is removed by the next run or report once its process is gone.
- **Running or stale.** A running run's record names its process (pid, host, boot id, process start
  time) and a heartbeat, refreshed with every snapshot. On the same host a reader can tell a run
  still at work from one whose process is gone (killed, the machine rebooted): `liveness`.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Callable

from repro.harness import store

STAGING_PREFIX = store.STAGING_PREFIX
# a staging folder is empty only between its mkdir and its first run.json (milliseconds); one
# older than this whose process is gone was left by a killed process
EMPTY_STAGING_GRACE_S = 5.0
BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"
STALE = "stale (process gone)"
RESERVE_FILE = ".reserve"
# space a run keeps for its last writes (run.json, metrics.tsv, the MLPerf run_stop, cost.json,
# the group file): a run.json of a few hundred epochs is ≈ 100 kB
RESERVE_BYTES = 256 << 10
# on a disk with less room, the most of these it has: even 8 kB keeps the final run.json writable
RESERVE_FALLBACKS = (64 << 10, 16 << 10, 8 << 10)


def boot_id() -> str | None:
    try:
        with open(BOOT_ID_FILE, encoding="ascii") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def _process_start_s(pid: int) -> float | None:
    import psutil
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


def process_info() -> dict[str, Any]:
    """The `process` block of a running run's record (docs/run-directory.md)."""
    return {"pid": os.getpid(), "hostname": socket.gethostname(), "boot_id": boot_id(),
            "started_unix_s": _process_start_s(os.getpid()), "heartbeat_at": store.iso(store.utc_now())}


def liveness(record: dict) -> str | None:
    """For a record with status running: "running" when its process is alive on this host,
    STALE when it is gone, None when this host cannot tell (another host, or no process block).
    None for any other status."""
    if record.get("status") != "running":
        return None
    proc = record.get("process")
    if not isinstance(proc, dict) or proc.get("hostname") != socket.gethostname():
        return None
    recorded_boot, here = proc.get("boot_id"), boot_id()
    if recorded_boot and here and recorded_boot != here:
        return STALE   # the machine rebooted since: no process of that boot is alive
    pid = proc.get("pid")
    if type(pid) is not int or pid <= 0:
        return None
    started = _process_start_s(pid)
    if started is None:
        return STALE
    recorded_start = proc.get("started_unix_s")
    if isinstance(recorded_start, (int, float)) and abs(started - recorded_start) > 1.0:
        return STALE   # the pid now belongs to another process
    return "running"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (it may be another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _staging_is_dead(path: str) -> bool:
    """A hidden staging folder whose process is gone (see the module's docstring)."""
    try:
        pid = int(os.path.basename(path)[len(STAGING_PREFIX):].split("-", 1)[0])
        age_s = time.time() - os.lstat(path).st_mtime
    except (ValueError, OSError):
        return False
    run_json = f"{path}/{store.RUN_FILE}"
    if os.path.lexists(run_json):
        try:
            return liveness(store.read_json(run_json)) == STALE
        except store.StoreError:
            pass   # the first run.json is written atomically: a damaged one is not a live run's
    return age_s > EMPTY_STAGING_GRACE_S and not pid_alive(pid)


def remove_stale_staging(results_dir: Path | str) -> list[str]:
    """Remove hidden staging folders (results/<recipe>/.new-*) left by killed processes; returns
    their paths. Errors (a read-only results folder) leave them where they are."""
    removed = []
    try:
        recipes = [e.path for e in os.scandir(results_dir) if e.is_dir(follow_symlinks=False)
                   and not e.name.startswith(".")]
    except OSError:
        return removed
    for recipe in recipes:
        try:
            staging = [e.path for e in os.scandir(recipe) if e.name.startswith(STAGING_PREFIX)
                       and e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for path in staging:
            if _staging_is_dead(path):
                shutil.rmtree(path, ignore_errors=True)
                if not os.path.lexists(path):
                    removed.append(path)
    return removed


def create_run_dir(results_dir: Path | str, recipe_name: str,
                   first_record: Callable[[str], dict] | None = None) -> Path:
    """store.create_run_dir (the directory appears with its first run.json, first_record(run_id)),
    after removing what killed processes left under results_dir."""
    remove_stale_staging(results_dir)
    return store.create_run_dir(results_dir, recipe_name, first_record)


def reserve_space(run_dir: Path | str, nbytes: int = RESERVE_BYTES) -> bool:
    """Allocate `nbytes` (or the largest of RESERVE_FALLBACKS there is room for) in a hidden file of
    the run directory, for release_space to free before the run's last writes; False (and no file)
    when the disk has not even that. A filesystem that cannot allocate ahead gets zeros written."""
    for size in (nbytes, *(f for f in RESERVE_FALLBACKS if f < nbytes)):
        if _reserve(run_dir, size):
            return True
    return False


def _reserve(run_dir: Path | str, nbytes: int) -> bool:
    path = os.path.join(run_dir, RESERVE_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError:
        return False
    try:
        try:
            os.posix_fallocate(fd, 0, nbytes)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            os.write(fd, bytes(nbytes))
        return True
    except OSError:
        os.close(fd)
        fd = -1
        release_space(run_dir)
        return False
    finally:
        if fd != -1:
            os.close(fd)


def release_space(run_dir: Path | str) -> None:
    try:
        os.unlink(os.path.join(run_dir, RESERVE_FILE))
    except FileNotFoundError:
        pass


def overwrite_in_place(path: Path | str, data: Any) -> None:
    """The last resort when an atomic write finds the disk full: truncate the file (freeing its
    blocks) and write the new content into it. A kill mid-write could tear it; only used when the
    alternative is a record that never says how the run ended."""
    text = json.dumps(data, separators=(",", ":"), default=str).encode("utf-8") + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        os.ftruncate(fd, 0)
        view = memoryview(text)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
