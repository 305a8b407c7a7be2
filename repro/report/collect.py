"""Results folder → one summary per run, re-using what the previous build of the same site read.

A site folder keeps a manifest (runs/.rendered.json): for each run page, the fingerprint of the run
files it was drawn from and the run's summary. A run whose files have the same size and mtime is not
read again; a re-render of 10,000 runs then reads only the new or rewritten ones. The harness and
pricing replace files atomically, so any rewrite changes the fingerprint.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
from dataclasses import dataclass, field
from pathlib import Path

from repro.harness.store import (COST_FILE, METRICS_FILE, MLLOG_FILE, RUN_FILE, RunRecord,
                                 StoreError, compact_json, parse_json, read_json)
from repro.report.runs import page_for, summarize_run

RUN_FILES = (RUN_FILE, COST_FILE, METRICS_FILE, MLLOG_FILE)
MANIFEST_FILE = "runs/.rendered.json"
RENDERER_VERSION = "3"  # bump when summaries, run pages or run charts change: all are redrawn


def stat_run_files(run_dir: Path | str) -> dict[str, os.stat_result | None]:
    """os.stat of each of a run's files (None where missing), taken once per run and handed on
    to whatever else needs them (the fingerprint, the cost lookup, placing files beside the page)."""
    stats: dict[str, os.stat_result | None] = {}
    for name in RUN_FILES:   # plain strings, not Path objects: four per run on every build
        try:
            stats[name] = os.stat(f"{run_dir}/{name}")
        except (FileNotFoundError, NotADirectoryError):
            stats[name] = None
    return stats


def fingerprint(run_dir: Path | str, stats: dict[str, os.stat_result | None] | None = None) -> str:
    if stats is None:
        stats = stat_run_files(run_dir)
    parts = [RENDERER_VERSION]
    for name in RUN_FILES:
        st = stats[name]
        parts.append(f"{name}:-" if st is None else f"{name}:{st.st_size}:{st.st_mtime_ns}")
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
        data = parse_json((Path(site_dir) / MANIFEST_FILE).read_bytes())
    except (FileNotFoundError, ValueError):
        return {}
    # anything else (another renderer's manifest, a hand-edited file) means: redraw everything
    if not isinstance(data, dict) or data.get("renderer") != RENDERER_VERSION:
        if isinstance(data, dict) and isinstance(data.get("renderer"), str):
            _drop_old_pages(Path(site_dir))
        return {}
    runs = data.get("runs")
    if not isinstance(runs, dict):
        return {}
    return {key: entry for key, entry in runs.items()
            if isinstance(entry, dict) and isinstance(entry.get("summary"), dict)}


def _drop_old_pages(site_dir: Path) -> None:
    """Another renderer drew runs/ (an older layout may have put each page in a folder of its
    own): all of it goes, every page is drawn again."""
    import shutil
    shutil.rmtree(site_dir / "runs", ignore_errors=True)


def write_manifest(site_dir: Path, collected: Collected) -> None:
    manifest = {run["page"]: {"fingerprint": collected.fingerprints[run["page"]], "summary": run}
                for run in collected.runs if run["page"] in collected.fingerprints}
    path = Path(site_dir) / MANIFEST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compact_json({"renderer": RENDERER_VERSION, "runs": manifest}))


def forget_manifest(site_dir: Path) -> None:
    """Drop the manifest before pages change, so a build that dies half-way redraws them all."""
    (Path(site_dir) / MANIFEST_FILE).unlink(missing_ok=True)


PARALLEL_THRESHOLD = 400  # below this many runs to read, starting worker processes costs more

_READ_JOBS: tuple[list[tuple[str, str, str | None]], Path | None] | None = None  # forked workers


def _read_one(run_dir: str, page: str, stamp: str | None, render_to: Path | None,
              template) -> tuple[dict | None, list[str], str | None]:
    """(summary or None, errors, fingerprint to vouch for it or None) for one run directory; with
    render_to, its page is drawn from the run.json just parsed (read once, not once per stage)."""
    errors: list[str] = []
    stats = None
    if stamp is None:   # before reading: a rewrite meanwhile shows next time
        stats = stat_run_files(run_dir)
        stamp = fingerprint(run_dir, stats)
    try:   # run_dirs() listed only folders holding a run.json: no load_run checks again
        record = RunRecord(Path(run_dir), read_json(f"{run_dir}/{RUN_FILE}"))
    except StoreError as exc:
        return None, [str(exc)], None
    summary = summarize_run(record, errors, page,
                            has_cost=None if stats is None else stats[COST_FILE] is not None)
    if render_to is not None:
        from repro.report.run_page import render_run_page
        render_run_page(template, summary, render_to, record.data, stats)
    return summary, errors, None if errors else stamp


def _read_chunk(bounds: tuple[int, int]) -> list[tuple[dict | None, list[str], str | None]]:
    from repro.report.run_page import run_template
    jobs, render_to = _READ_JOBS
    template = run_template() if render_to is not None else None
    return [_read_one(*job, render_to, template) for job in jobs[bounds[0]:bounds[1]]]


def _read_all(jobs: list[tuple[str, str, str | None]], render_to: Path | None) -> list:
    """_read_one over jobs, in job order, in worker processes when there are many."""
    global _READ_JOBS
    _READ_JOBS = (jobs, render_to)
    if render_to is not None:
        from repro.report.run_page import new_build
        new_build()
    try:
        workers = min(os.cpu_count() or 1, 8)
        if len(jobs) >= PARALLEL_THRESHOLD and workers > 1 and \
                "fork" in multiprocessing.get_all_start_methods():
            if render_to is not None:
                from repro.report.run_page import run_template
                run_template()   # compiled once here, inherited by every worker
            # small contiguous chunks: results come back in order, and a slow recipe's runs
            # (long epoch tables) do not all land on one worker
            size = max(20, len(jobs) // (workers * 16))
            bounds = [(k, min(k + size, len(jobs))) for k in range(0, len(jobs), size)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return [item for part in pool.imap(_read_chunk, bounds) for item in part]
        return _read_chunk((0, len(jobs))) if jobs else []
    finally:
        _READ_JOBS = None
        if render_to is not None:
            from repro.report.run_page import clear_staging
            clear_staging(render_to)


def collect_runs(results_dir: Path, site_dir: Path | None = None,
                 render_to: Path | None = None, before_render=None) -> Collected:
    """Summaries of every run under results_dir. Unreadable runs are listed in `errors`; runs whose
    cost.json is damaged are shown unpriced, reported, and never cached.

    With render_to (the site folder, already created), the page of every run read afresh is
    drawn during the same pass, so its run.json is parsed once; those pages are left out of
    `stale`, which then lists only cached runs whose page is missing. before_render(render_to) is
    called once the previous manifest is read and before any page changes."""
    previous = read_manifest(site_dir)
    if render_to is not None and before_render is not None:
        before_render(render_to)
    out = Collected()
    taken: set[str] = set()
    slots: list[dict | int] = []     # a cached summary, or the index of a job to read
    jobs: list[tuple[str, str, str | None]] = []
    for run_dir in run_dirs(results_dir):
        page = page_for(run_dir)
        if page in taken:   # two folder names that differ only in characters slug() replaces
            page += "-" + hashlib.sha256(str(run_dir).encode()).hexdigest()[:8]
        taken.add(page)
        cached = previous.get(page)
        stamp = fingerprint(run_dir) if cached else None
        if cached and cached.get("fingerprint") == stamp and \
                cached["summary"].get("source_dir") == str(run_dir):
            slots.append(cached["summary"])
            out.fingerprints[page] = stamp
            continue
        slots.append(len(jobs))
        jobs.append((str(run_dir), page, stamp))
    results = _read_all(jobs, render_to)
    drawn: set[str] = set()
    for slot in slots:
        if isinstance(slot, dict):
            out.runs.append(slot)
            continue
        summary, errors, stamp = results[slot]
        out.errors += errors
        if summary is None:
            continue
        out.runs.append(summary)
        if render_to is not None:
            drawn.add(summary["page"])
        if stamp is not None:
            out.fingerprints[summary["page"]] = stamp
    out.removed = sorted(set(previous) - taken)
    order = sorted(range(len(out.runs)),
                   key=lambda i: (out.runs[i]["started_at"] or "", out.runs[i]["run_id"]))
    out.runs = [out.runs[i] for i in order]
    out.stale = [i for i, run in enumerate(out.runs)
                 if run["page"] not in drawn
                 and (previous.get(run["page"], {}).get("fingerprint")
                      != out.fingerprints.get(run["page"])
                      or not os.path.isfile(f"{site_dir}/{run['page']}.html"))] \
        if site_dir is not None else [i for i, run in enumerate(out.runs)
                                      if run["page"] not in drawn]
    return out
