"""A checkout of stanford-futuredata/dawn-bench-entries → published records repro can show.

The repository's layout (its README): `<Task>/train/<entry>.json` with author, authorEmail,
framework, codeURL, model, hardware, costPerHour (optional, USD), timestamp (yyyy-mm-dd), misc;
beside it `<entry>.tsv` with a header row `epoch  hours  top1Accuracy [top5Accuracy]`, accuracy
in percent. The time to target is read the DAWNBench way: the `hours` of the first row at or over
the threshold (CIFAR10: top-1 ≥ 94; ImageNet: top-5 ≥ 93), and the reported cost is those hours ×
costPerHour.

Nothing is guessed: an entry whose files cannot be read, whose log never reaches the threshold, or
whose numbers are not finite is left out and named in the problems returned with the records.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable

from repro.pricing.catalog import Snapshot
from repro.pricing.rules import usd_for_seconds
from repro.report.dawnbench_hardware import read_hardware

REPOSITORY = "https://github.com/stanford-futuredata/dawn-bench-entries"
PUBLISHED_SCHEMA_VERSION = 1
# DAWNBench task folder → (repro task, TSV column, metric, threshold in percent)
TASKS = {"CIFAR10": ("cifar10", "top1Accuracy", "top1", 94.0),
         "ImageNet": ("imagenet-top5", "top5Accuracy", "top5", 93.0)}


class EntriesError(ValueError):
    """The folder is not a DAWNBench entries checkout; the message says what to pass instead."""


def checkout_commit(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD commit, whether the entry folders differ from it) of a git checkout; (None, None)
    for a folder that is not one (an unpacked archive)."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None
    sha = git("rev-parse", "--verify", "HEAD")
    if not sha or not re.fullmatch(r"[0-9a-f]{40}", sha):
        return None, None
    status = git("status", "--porcelain", "--", *TASKS)
    return sha, (bool(status) if status is not None else None)


def _read_text(path: Path, root: Path) -> str:
    """The file's text, when it is a regular file inside root (a link out of the checkout is not
    followed); a BOM is dropped (some entries' TSVs start with one)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        raise ValueError("not a file inside the checkout")
    return resolved.read_text(encoding="utf-8-sig")


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def first_at_target(tsv_text: str, column: str, threshold: float) -> dict[str, Any]:
    """{"epoch", "hours", "accuracy"} of the first row at or over the threshold (ValueError with
    what the log does say otherwise)."""
    rows = list(csv.DictReader(io.StringIO(tsv_text), delimiter="\t"))
    if not rows or column not in rows[0] or "hours" not in rows[0]:
        header = ", ".join(rows[0]) if rows else "nothing"
        raise ValueError(f"TSV has no {column} and hours columns (found {header})")
    best = -math.inf
    for row in rows:
        accuracy, hours = _finite(row.get(column)), _finite(row.get("hours"))
        if accuracy is None or hours is None or hours < 0:
            raise ValueError(f"TSV row {row!r} holds a value that is not a finite number")
        best = max(best, accuracy)
        if accuracy >= threshold:
            epoch = _finite(row.get("epoch"))
            return {"epoch": int(epoch) if epoch is not None else None, "hours": hours,
                    "accuracy": round(accuracy / 100, 6)}
    raise ValueError(f"never reaches {threshold:g} % {column} (best {best:g} %)")


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _usd_per_hour(value: Any) -> Decimal | None:
    if value is None:
        return None
    if _finite(value) is None or _finite(value) <= 0:
        raise ValueError(f"costPerHour {value!r} is not a positive number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"costPerHour {value!r} is not a number") from None


def _text_field(entry: dict, key: str) -> str | None:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _source(repository: str, commit: str | None, relative: str) -> str:
    return f"{repository}/blob/{commit or 'master'}/{relative}"


def read_entry(json_path: Path, root: Path, task_dir: str, snapshot: Snapshot | None,
               repository: str, commit: str | None) -> dict[str, Any]:
    """One published record (ValueError saying what is wrong with the entry)."""
    task, column, metric, threshold = TASKS[task_dir]
    try:
        entry = json.loads(_read_text(json_path, root), parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(entry, dict):
        raise ValueError("the JSON is not an object")
    reached = first_at_target(_read_text(json_path.with_suffix(".tsv"), root), column, threshold)
    seconds = reached["hours"] * 3600
    rate = _usd_per_hour(entry.get("costPerHour"))
    hardware, hardware_read = read_hardware(entry.get("hardware"), snapshot)
    relative = json_path.relative_to(root).as_posix()
    stamp = _text_field(entry, "timestamp")
    try:
        day = date.fromisoformat(stamp).isoformat() if stamp else None
    except ValueError:
        day = None
    return {
        "id": relative[: -len(".json")], "task": task, "kind": "dawnbench",
        "model": _text_field(entry, "model"), "author": _text_field(entry, "author"),
        "framework": _text_field(entry, "framework"), "code_url": _text_field(entry, "codeURL"),
        "date": day, "hardware_text": _text_field(entry, "hardware"),
        "hardware": hardware, "hardware_read": hardware_read,
        "target": {"metric": metric, "value": threshold / 100},
        "epoch": reached["epoch"], "accuracy": reached["accuracy"], "hours": reached["hours"],
        "time_to_target_s": seconds,
        "usd_per_hour": str(rate) if rate is not None else None,
        "reported_usd": str(usd_for_seconds(rate, seconds)) if rate is not None else None,
        "source": _source(repository, commit, relative),
        "log": _source(repository, commit, relative[: -len(".json")] + ".tsv"),
    }


def _wanted(task_dir: str, stem: str, names: set[str] | None) -> bool:
    return names is None or stem in names or f"{task_dir}/{stem}" in names


def import_entries(root: Path, *, snapshot: Snapshot | None = None, names: Iterable[str] | None = None,
                   repository: str = REPOSITORY, commit: str | None = None,
                   now: datetime | None = None) -> tuple[dict[str, Any], list[str]]:
    """(the published-records document, one line per entry left out). `names` keeps only the
    entries named by file stem ("fastai_pytorch") or task and stem ("CIFAR10/fastai_pytorch")."""
    root = Path(root)
    folders = [d for d in TASKS if (root / d / "train").is_dir()]
    if not folders:
        raise EntriesError(f"{root}: no CIFAR10/train or ImageNet/train folder; pass a checkout of "
                           f"{REPOSITORY} (git clone {REPOSITORY})")
    head, dirty = checkout_commit(root)
    wanted = set(names) if names is not None else None
    entries, problems, found = [], [], set()
    for task_dir in folders:
        for json_path in sorted((root / task_dir / "train").glob("*.json")):
            if not _wanted(task_dir, json_path.stem, wanted):
                continue
            found.update({json_path.stem, f"{task_dir}/{json_path.stem}"})
            try:
                entries.append(read_entry(json_path, root, task_dir, snapshot, repository, commit or head))
            except (ValueError, OSError) as exc:
                problems.append(f"{task_dir}/train/{json_path.name}: {exc}")
    problems += [f"{name}: no such entry under {root}" for name in sorted((wanted or set()) - found)]
    entries.sort(key=lambda e: (e["task"], e["time_to_target_s"], e["id"]))
    return {"schema_version": PUBLISHED_SCHEMA_VERSION, "kind": "dawnbench", "repository": repository,
            "commit": commit or head, "dirty": dirty,
            "imported_at": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entries": entries}, problems
