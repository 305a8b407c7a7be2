"""The results directory: one folder per run, written atomically, read back with a schema check.

Layout (DESIGN.md, "the run directory"):

    results/<recipe>/<UTC-time>-<short-id>/
      run.json      schema_version, recipe, config, provenance, outcome, status
      mllog.log     MLPerf-format events (mlperf-logging), one line each
      metrics.tsv   DAWNBench format: epoch, hours, top1 (and top5)
      cost.json     written by repro.pricing
      checkpoint.pt optional, for resume

Every JSON file is written to a temporary file in the same folder, fsynced and renamed over the
target, so a reader (or a crash at any instant) sees either the old or the new file, never half.
"""
from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from repro.harness import records

SCHEMA_VERSION = 1
RUN_FILE = "run.json"
COST_FILE = "cost.json"
MLLOG_FILE = "mllog.log"
METRICS_FILE = "metrics.tsv"
CHECKPOINT_FILE = "checkpoint.pt"
GROUP_PREFIX = "group-"

STATUSES = ("running", "finished", "diverged", "failed", "interrupted")


class StoreError(ValueError):
    """A results file is missing, unreadable or of another schema version."""




def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    """Write via a temp file + rename: readers and a killed process see the old or the new file.
    `durable` also fsyncs before the rename, so the new content survives a power loss too; per-epoch
    snapshots skip it (an fsync costs milliseconds per epoch) and the final write of a run makes it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: Path, data: Any, *, durable: bool = True) -> None:
    """Durable writes are indented for people; the per-epoch snapshots (durable=False) are compact,
    because only the compact form goes through json's C encoder (≈10× faster on a growing run.json)."""
    text = (json.dumps(data, indent=2, default=str) if durable
            else json.dumps(data, separators=(",", ":"), default=str))
    atomic_write_text(path, text + "\n", durable=durable)


def compact_json(data: Any) -> bytes:
    """Compact JSON through orjson (5-10× json.dumps on a 10,000-run index): anything it has no
    encoding for is written as str(), as json.dumps(default=str) would; NaN and infinities
    become null (json.dumps would write NaN, which is not JSON)."""
    return orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)


def parse_json(raw: bytes | str) -> Any:
    """orjson (≈ 3× json on a run.json, whose epochs are mostly floats), falling back to json for
    what only json reads: the NaN / Infinity literals json.dumps writes for a diverged loss, and
    integers beyond 64 bits. A text neither accepts raises json's JSONDecodeError."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


_READ_CHUNK = 1 << 16
MAX_RECORD_BYTES = 64 << 20   # a run.json of 10,000 epochs is ≈ 5 MB
# record kind by file name: what read_json checks a file against (repro.harness.records)
KIND_BY_NAME = {RUN_FILE: "run", COST_FILE: "cost"}


class UnreadableRecord(StoreError):
    """A record that is not a regular file, not JSON, or fails its schema. `detail` is
    "<field>: <reason>" (or the reason alone when the whole file is at fault)."""

    def __init__(self, path: Path | str, detail: str) -> None:
        super().__init__(f"{path}: unreadable: {detail}")
        self.path, self.detail = str(path), detail


class SchemaMismatch(UnreadableRecord):
    """A record of another schema version (or none)."""


def record_kind(path: Path | str) -> str | None:
    name = os.path.basename(path)
    if name.startswith(GROUP_PREFIX) and name.endswith(".json"):
        return "group"
    return KIND_BY_NAME.get(name)


def read_bytes(path: Path | str, *, limit: int = MAX_RECORD_BYTES) -> bytes:
    """A regular file's bytes, never through a symbolic link (O_NOFOLLOW: a link planted in a run
    directory is refused, not followed out of it), nor from a FIFO or device (O_NONBLOCK, then
    fstat); at most `limit` bytes. Three system calls for a small file (open, read, close): a
    10,000-run report reads 20,000 of them."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableRecord(path, "a symbolic link, not followed") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableRecord(path, "not a regular file")
        if info.st_size > limit:
            raise UnreadableRecord(path, f"{info.st_size} bytes, more than a record may hold ({limit})")
        chunks = []
        while True:
            chunk = os.read(fd, _READ_CHUNK)
            chunks.append(chunk)
            if len(chunk) < _READ_CHUNK:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            if sum(map(len, chunks)) > limit:
                raise UnreadableRecord(path, f"more than {limit} bytes")
    finally:
        os.close(fd)


def _parse_record(path: Path | str, raw: bytes) -> Any:
    """orjson, else json for the NaN/Infinity literals (as records.NonFinite, which no schema
    accepts) and integers beyond 64 bits."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            raise UnreadableRecord(path, "nested too deeply to be a repro record") from None
    try:
        return records.parse_lenient(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableRecord(path, f"not valid JSON ({exc}); the file is damaged") from None


def read_json(path: Path | str, *, expect_schema: bool = True) -> dict:
    """A record read safely (read_bytes) and parsed; with `expect_schema`, of this repro's schema
    version and, for run.json, cost.json and group files, checked against the published schema
    (UnreadableRecord names the field and the reason)."""
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        raise StoreError(f"{path}: no such file; is this a repro run directory?") from None
    except OSError as exc:
        raise UnreadableRecord(path, exc.strerror or str(exc)) from None
    data = _parse_record(path, raw)
    if not expect_schema:
        return data
    if not isinstance(data, dict):
        raise UnreadableRecord(path, f"a JSON {type(data).__name__}, not an object")
    found = data.get("schema_version")
    if found != SCHEMA_VERSION:
        raise SchemaMismatch(path, f"schema_version: {records.shown(found)}, this repro reads version "
                                   f"{SCHEMA_VERSION}; use the repro release that wrote it, or re-run the recipe")
    kind = record_kind(path)
    if kind is not None:
        try:
            records.validate(data, kind)
        except records.RecordInvalid as exc:
            raise UnreadableRecord(path, str(exc)) from None
    return data


class BackgroundWriter:
    """Writes per-epoch snapshots off the training thread: the caller encodes (a consistent copy),
    a daemon thread does the file work, newest-wins per path. `flush()` waits until all is on disk;
    a run calls it before its final, durable write. Every write is still atomic, so a kill at any
    instant leaves the previous or the newer snapshot, never half of one."""

    def __init__(self) -> None:
        import threading

        self._pending: dict[Path, str] = {}
        self._cond = threading.Condition()
        self._busy = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="repro-writer", daemon=True)
        self._thread.start()

    def submit(self, path: Path, text: str) -> None:
        with self._cond:
            self._raise_pending_error()
            self._pending[Path(path)] = text
            self._cond.notify()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait()
                self._busy = True
                path, text = self._pending.popitem()
            try:
                atomic_write_text(path, text, durable=False)
            except BaseException as exc:  # surfaced to the training thread at the next submit/flush
                with self._cond:
                    self._error = exc

    def flush(self) -> None:
        with self._cond:
            while self._pending or self._busy:
                self._cond.wait(timeout=0.1)
            self._raise_pending_error()

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            exc, self._error = self._error, None
            raise StoreError(f"writing a run snapshot failed: {exc}") from exc


def new_run_id(now: datetime | None = None) -> str:
    """`<UTC-time>-<short-id>`: sorts by start time; 6 random hex digits keep concurrent runs apart."""
    now = now or utc_now()
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


STAGING_PREFIX = ".new-"


def create_run_dir(results_dir: Path | str, recipe_name: str, first_record=None) -> Path:
    """A new run directory results/<recipe>/<run id>/, made under a hidden name
    (.new-<pid>-<run id>) and renamed into place with its first run.json (first_record(run_id))
    already in it; never reuses an existing one. repro.harness.rundirs.create_run_dir also clears
    what killed processes left."""
    parent = Path(results_dir) / recipe_name
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create results directory {parent}: {exc.strerror}; "
                         "pass a writable --results DIR") from None
    if not os.access(parent, os.W_OK):
        raise StoreError(f"results directory {parent} is not writable; pass a writable --results DIR")
    for _ in range(100):
        run_id = new_run_id()
        staging, final = parent / f"{STAGING_PREFIX}{os.getpid()}-{run_id}", parent / run_id
        if os.path.lexists(final):
            continue
        staging.mkdir()
        try:
            if first_record is not None:
                atomic_write_json(staging / RUN_FILE, first_record(run_id))
            os.rename(staging, final)   # fails on a non-empty folder of that name: try another id
            return final
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if os.path.lexists(final):
                continue
            raise StoreError(f"cannot create a run directory under {parent}: {exc.strerror}") from None
    raise StoreError(f"could not allocate a unique run directory under {parent}")


@dataclass(frozen=True)
class RunRecord:
    path: Path
    data: dict

    @property
    def run_id(self) -> str:
        return self.data["run_id"]

    @property
    def status(self) -> str:
        return self.data["status"]

    def cost(self) -> dict | None:
        p = self.path / COST_FILE
        return read_json(p) if os.path.lexists(p) else None


def load_run(run_dir: Path) -> RunRecord:
    run_dir = Path(run_dir)
    if run_dir.is_symlink():
        raise UnreadableRecord(run_dir, "a symbolic link, not followed; pass the run directory itself")
    if not run_dir.is_dir():
        raise StoreError(f"{run_dir}: not a directory; pass a run directory such as "
                         "results/digits/20261125T120000Z-a1b2c3")
    return RunRecord(run_dir, read_json(run_dir / RUN_FILE))


@dataclass
class Scan:
    """What scan_results found: run directories holding a run.json, and what it passed over."""
    run_dirs: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)   # (path, why)


def _check_run_dir(entry: os.DirEntry, scan: Scan) -> None:
    if entry.is_symlink():
        scan.skipped.append((Path(entry.path), "a symbolic link, not followed"))
        return
    if not entry.is_dir(follow_symlinks=False):
        return   # group files and anything else beside the runs
    try:
        mode = os.lstat(f"{entry.path}/{RUN_FILE}").st_mode
    except FileNotFoundError:
        scan.skipped.append((Path(entry.path), "no run.json: not a run directory, or one made before "
                                               "repro wrote run.json first"))
        return
    except OSError as exc:
        scan.skipped.append((Path(entry.path), f"run.json: {exc.strerror}"))
        return
    if stat.S_ISLNK(mode):
        scan.skipped.append((Path(entry.path) / RUN_FILE, "a symbolic link, not followed"))
    elif not stat.S_ISREG(mode):
        scan.skipped.append((Path(entry.path) / RUN_FILE, "not a regular file"))
    else:
        scan.run_dirs.append(Path(entry.path))


def scan_results(results_dir: Path | str) -> Scan:
    """Every results/<recipe>/<run>/ holding a regular run.json, sorted by path. No symbolic link
    is followed anywhere (a linked recipe folder, run folder or run.json is skipped, with the
    reason), so no file outside the results folder is read through one; names starting with a dot
    (a run being created, temporary files) are passed over in silence."""
    scan = Scan()
    try:
        with os.scandir(results_dir) as entries:
            recipes = sorted(entries, key=lambda e: e.name)
    except FileNotFoundError:
        return scan
    for recipe in recipes:
        if recipe.name.startswith("."):
            continue
        if recipe.is_symlink():
            scan.skipped.append((Path(recipe.path), "a symbolic link, not followed"))
            continue
        if not recipe.is_dir(follow_symlinks=False):
            continue
        try:
            with os.scandir(recipe.path) as entries:
                runs = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            scan.skipped.append((Path(recipe.path), exc.strerror or str(exc)))
            continue
        for run in runs:
            if not run.name.startswith("."):
                _check_run_dir(run, scan)
    return scan


def list_runs(results_dir: Path, *, errors: list[str] | None = None) -> list[RunRecord]:
    """All readable runs under results_dir, sorted by path (run ids sort by start time). Runs that
    cannot be read and folders passed over are reported in `errors` (raised without it)."""
    scan = scan_results(results_dir)
    problems = [f"{path}: skipped: {why}" for path, why in scan.skipped]
    runs = []
    for run_dir in scan.run_dirs:
        try:
            runs.append(RunRecord(run_dir, read_json(run_dir / RUN_FILE)))
        except StoreError as exc:
            problems.append(str(exc))
    if problems and errors is None:
        raise StoreError(problems[0])
    if errors is not None:
        errors.extend(problems)
    return runs
