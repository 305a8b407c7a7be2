"""A checkout of stanford-futuredata/dawn-bench-entries → published records repro can show.

The repository's layout (its README): `<Task>/train/<entry>.json` and `<entry>.tsv`. Each entry is
read by repro.pricing.dawnbench_entries, the one reader `repro price ENTRY.json` uses too (time to
target under the DAWNBench rule, epoch, accuracy, hardware, costPerHour); this module walks the
layout, names each entry's board task and source at the checkout's commit, and writes the
published-records document (docs/run-directory.md). The reported cost is those hours × costPerHour.

Nothing is guessed: an entry the reader turns away (unreadable files, a log that never reaches the
threshold, numbers that are not finite) is left out and named in the problems returned with the
records.
"""
from __future__ import annotations

import re
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from repro.pricing.catalog import Snapshot
from repro.pricing.dawnbench_entries import Entry, read_entry, text_field
from repro.pricing.rules import usd_for_seconds

REPOSITORY = "https://github.com/stanford-futuredata/dawn-bench-entries"
PUBLISHED_SCHEMA_VERSION = 1
# DAWNBench task folder (the reader's TARGETS) → the board's task (repro.report.comparable.TASKS)
TASKS = {"CIFAR10": "cifar10", "ImageNet": "imagenet-top5"}


class EntriesError(ValueError):
    """The folder is not a DAWNBench entries checkout; the message says what to pass instead."""


def checkout_commit(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD commit, whether the entry folders differ from it) of a git checkout; (None, None)
    for a folder that is not one (an unpacked archive), nor the top of one: a folder inside
    another repository (a copy of the entries in a project) is not at that repository's commit."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None
    top = git("rev-parse", "--show-toplevel")
    if not top or Path(top).resolve() != Path(root).resolve():
        return None, None
    sha = git("rev-parse", "--verify", "HEAD")
    if not sha or not re.fullmatch(r"[0-9a-f]{40}", sha):
        return None, None
    status = git("status", "--porcelain", "--", *TASKS)
    return sha, (bool(status) if status is not None else None)


def _source(repository: str, commit: str | None, relative: str) -> str:
    return f"{repository}/blob/{commit or 'master'}/{relative}"


def _record_hardware(hardware: dict | None) -> dict | None:
    """The record's hardware: one node's GPUs ({gpu_model, gpu_count, nodes}) or {vcpus, nodes}."""
    if hardware is None:
        return None
    if hardware.get("gpu_count"):
        return {"gpu_model": hardware["gpu_model"], "gpu_count": hardware["gpus_per_node"],
                "nodes": hardware["nodes"]}
    return {"vcpus": hardware["vcpus"], "nodes": hardware["nodes"]}


def published_record(entry: Entry, task_dir: str, root: Path, repository: str,
                     commit: str | None) -> dict[str, Any]:
    """One entry of the published-records document."""
    fields, (metric, value) = entry.fields, entry.target
    relative = entry.path.relative_to(root).as_posix()
    stamp = text_field(fields, "timestamp")
    try:
        day = date.fromisoformat(stamp).isoformat() if stamp else None
    except ValueError:
        day = None
    rate = entry.usd_per_hour
    return {
        "id": relative[: -len(".json")], "task": TASKS[task_dir], "kind": "dawnbench",
        "model": text_field(fields, "model"), "author": text_field(fields, "author"),
        "framework": text_field(fields, "framework"), "code_url": text_field(fields, "codeURL"),
        "date": day, "hardware_text": entry.hardware_text,
        "hardware": _record_hardware(entry.hardware), "hardware_read": entry.hardware_read,
        "target": {"metric": metric, "value": value},
        "epoch": entry.epoch, "accuracy": round(entry.accuracy, 6), "hours": entry.hours,
        "time_to_target_s": entry.time_to_target_s,
        "usd_per_hour": str(rate) if rate is not None else None,
        "reported_usd": str(usd_for_seconds(rate, entry.time_to_target_s)) if rate is not None else None,
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
                entry = read_entry(json_path, snapshot=snapshot, checkout=root)
                entries.append(published_record(entry, task_dir, root, repository, commit or head))
            except (ValueError, OSError) as exc:
                problems.append(f"{task_dir}/train/{json_path.name}: {exc}")
    problems += [f"{name}: no such entry under {root}" for name in sorted((wanted or set()) - found)]
    entries.sort(key=lambda e: (e["task"], e["time_to_target_s"], e["id"]))
    return {"schema_version": PUBLISHED_SCHEMA_VERSION, "kind": "dawnbench", "repository": repository,
            "commit": commit or head, "dirty": dirty,
            "imported_at": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entries": entries}, problems
