"""Results folder → one summary per run, re-using what the previous build of the same site read.

A site folder keeps a manifest (runs/.rendered.json): for each run page, the fingerprint of the run
files it was drawn from and the run's summary. A run whose files have the same size and mtime is not
read again; a re-render of 10,000 runs then reads only the new or rewritten ones. The harness and
pricing replace files atomically, so any rewrite changes the fingerprint.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from repro.harness.store import (COST_FILE, METRICS_FILE, MLLOG_FILE, RUN_FILE, StoreError,
                                 load_run)
from repro.report.runs import page_dir_for, summarize_run

RUN_FILES = (RUN_FILE, COST_FILE, METRICS_FILE, MLLOG_FILE)
MANIFEST_FILE = "runs/.rendered.json"
RENDERER_VERSION = "2"  # bump when summaries, run pages or run charts change: all are redrawn


def fingerprint(run_dir: Path | str) -> str:
    # plain strings, not Path objects: this runs four times per run on every build
    parts = [RENDERER_VERSION]
    for name in RUN_FILES:
        try:
            st = os.stat(f"{run_dir}/{name}")
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            parts.append(f"{name}:-")
    return "|".join(parts)


def run_dirs(results_dir: Path) -> list[Path]:
    """results/<recipe>/<run>/ folders holding a run.json, sorted: the layout
    repro.harness.store.iter_run_dirs reads, listed with os.scandir (a glob over 10,000 runs
    costs more than the rest of a re-render's reading)."""
    found = []
    with os.scandir(results_dir) as recipes:
        for recipe in recipes:
            if not recipe.is_dir():
                continue
            with os.scandir(recipe.path) as runs:
                found += [run.path for run in runs
                          if run.is_dir() and os.path.isfile(f"{run.path}/{RUN_FILE}")]
    return [Path(p) for p in sorted(found)]


@dataclass
class Collected:
    runs: list[dict] = field(default_factory=list)         # summaries, oldest first
    stale: list[int] = field(default_factory=list)         # indices whose page must be redrawn
    fingerprints: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)      # pages of runs no longer on disk


def read_manifest(site_dir: Path | None) -> dict[str, dict]:
    if site_dir is None:
        return {}
    try:
        data = json.loads((Path(site_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    # anything else (another renderer's manifest, a hand-edited file) means: redraw everything
    if not isinstance(data, dict) or data.get("renderer") != RENDERER_VERSION:
        return {}
    runs = data.get("runs")
    if not isinstance(runs, dict):
        return {}
    return {key: entry for key, entry in runs.items()
            if isinstance(entry, dict) and isinstance(entry.get("summary"), dict)}


def write_manifest(site_dir: Path, collected: Collected) -> None:
    manifest = {run["page_dir"]: {"fingerprint": collected.fingerprints[run["page_dir"]],
                                  "summary": run}
                for run in collected.runs if run["page_dir"] in collected.fingerprints}
    path = Path(site_dir) / MANIFEST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"renderer": RENDERER_VERSION, "runs": manifest},
                               separators=(",", ":")), encoding="utf-8")


def forget_manifest(site_dir: Path) -> None:
    """Drop the manifest before pages change, so a build that dies half-way redraws them all."""
    (Path(site_dir) / MANIFEST_FILE).unlink(missing_ok=True)


def collect_runs(results_dir: Path, site_dir: Path | None = None) -> Collected:
    """Summaries of every run under results_dir. Unreadable runs are listed in `errors`; runs whose
    cost.json is damaged are shown unpriced, reported, and never cached."""
    previous = read_manifest(site_dir)
    out = Collected()
    taken: set[str] = set()
    for run_dir in run_dirs(results_dir):
        page_dir = page_dir_for(run_dir)
        if page_dir in taken:   # two folder names that differ only in characters slug() replaces
            page_dir += "-" + hashlib.sha256(str(run_dir).encode()).hexdigest()[:8]
        taken.add(page_dir)
        stamp = fingerprint(run_dir)
        cached = previous.get(page_dir)
        if cached and cached.get("fingerprint") == stamp and \
                cached["summary"].get("source_dir") == str(run_dir):
            out.runs.append(cached["summary"])
            out.fingerprints[page_dir] = stamp
            continue
        try:
            record = load_run(run_dir)
        except StoreError as exc:
            out.errors.append(str(exc))
            continue
        errors_before = len(out.errors)
        summary = summarize_run(record, out.errors)
        summary["page_dir"], summary["href"] = page_dir, page_dir + "/index.html"
        out.runs.append(summary)
        if len(out.errors) == errors_before:
            out.fingerprints[page_dir] = stamp
    out.removed = sorted(set(previous) - taken)
    order = sorted(range(len(out.runs)),
                   key=lambda i: (out.runs[i]["started_at"] or "", out.runs[i]["run_id"]))
    out.runs = [out.runs[i] for i in order]
    out.stale = [i for i, run in enumerate(out.runs)
                 if previous.get(run["page_dir"], {}).get("fingerprint")
                 != out.fingerprints.get(run["page_dir"])
                 or not os.path.isfile(f"{site_dir}/{run['page_dir']}/index.html")] \
        if site_dir is not None else list(range(len(out.runs)))
    return out
