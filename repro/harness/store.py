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

import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import orjson

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


class SchemaMismatch(StoreError):
    pass


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


def read_bytes(path: Path | str) -> bytes:
    """A small file's bytes in three system calls (open, read, close): a run directory's JSON
    files are a few kB, and io.open's buffered reader adds an fstat, an ioctl and lseeks, which
    a 10,000-run report pays 20,000 times. A read shorter than asked is the end of the file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        chunks = []
        while True:
            chunk = os.read(fd, _READ_CHUNK)
            chunks.append(chunk)
            if len(chunk) < _READ_CHUNK:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def read_json(path: Path | str, *, expect_schema: bool = True) -> dict:
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        raise StoreError(f"{path}: no such file; is this a repro run directory?") from None
    try:
        data = parse_json(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: not valid JSON ({exc}); the file is damaged") from None
    if expect_schema:
        found = data.get("schema_version") if isinstance(data, dict) else None
        if found != SCHEMA_VERSION:
            raise SchemaMismatch(
                f"{path}: schema_version {found!r}, this repro reads version {SCHEMA_VERSION}; "
                "use the repro release that wrote it, or re-run the recipe"
            )
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


def create_run_dir(results_dir: Path, recipe_name: str) -> Path:
    """Make a fresh, empty run directory; never reuses an existing one."""
    parent = Path(results_dir) / recipe_name
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create results directory {parent}: {exc.strerror}; "
                         "pass a writable --results DIR") from None
    if not os.access(parent, os.W_OK):
        raise StoreError(f"results directory {parent} is not writable; pass a writable --results DIR")
    for _ in range(100):
        run_dir = parent / new_run_id()
        try:
            run_dir.mkdir()  # atomic: fails if another process took the name
            return run_dir
        except FileExistsError:
            continue
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
        return read_json(p) if p.exists() else None


def load_run(run_dir: Path) -> RunRecord:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise StoreError(f"{run_dir}: not a directory; pass a run directory such as "
                         "results/digits/20261125T120000Z-a1b2c3")
    return RunRecord(run_dir, read_json(run_dir / RUN_FILE))


def iter_run_dirs(results_dir: Path) -> Iterator[Path]:
    results_dir = Path(results_dir)
    if not results_dir.exists():
        return
    for run_json in sorted(results_dir.glob(f"*/*/{RUN_FILE}")):
        yield run_json.parent


def list_runs(results_dir: Path, *, errors: list[str] | None = None) -> list[RunRecord]:
    """All readable runs under results_dir, oldest first. Unreadable ones are reported in `errors`."""
    runs = []
    for run_dir in iter_run_dirs(results_dir):
        try:
            runs.append(load_run(run_dir))
        except StoreError as exc:
            if errors is None:
                raise
            errors.append(str(exc))
    return runs
