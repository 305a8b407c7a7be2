"""Results folder → one summary per run, re-using what the previous build of the same site read.

Read-only: nothing here writes, into the results tree or anywhere else (a caller that wants each
run's page drawn as the run is read passes an on_read that does it). The caller hands in what the
previous build recorded (page → fingerprint of the run files and summary); a run whose files have
the same size and mtime is not read again, so a re-render reads only the new or rewritten runs.
The harness and pricing replace files atomically, so any rewrite changes the fingerprint. A
running run is always read again: whether its process is still there changes without its files.

Hostile or broken input never stops a build: the results folder is listed without following a
symbolic link (repro.harness.store.scan_results), every record is checked against its published
schema, and whatever is passed over is listed in `errors` as "<path>: unreadable: <field>: <reason>"
or "<path>: skipped: <why>", with paths relative to the results folder.
"""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from repro.harness.store import (
    COST_FILE,
    METRICS_FILE,
    MLLOG_FILE,
    RUN_FILE,
    RunRecord,
    StoreError,
    UnreadableRecord,
    read_json,
    scan_results,
)
from repro.report.pool import ordered_map, worker_count
from repro.report.summary import page_for, summarize_run

RUN_FILES = (RUN_FILE, COST_FILE, METRICS_FILE, MLLOG_FILE)

# Given each run read afresh: its summary, its parsed run.json and the os.stat of its files (None
# where missing). Called in the process that read the run, so the run.json is parsed only once.
OnRead = Callable[[dict, dict, dict], None]


class ReportError(ValueError):
    """The results or output folder cannot be used; the message says which and what to do."""


def check_results_dir(results_dir: Path | str) -> Path:
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ReportError(f"results directory {results_dir} does not exist; run a recipe first "
                          "(`repro digits`) or pass --results DIR")
    return results_dir


def stat_run_files(run_dir: Path | str) -> dict[str, os.stat_result | None]:
    """os.lstat of each of a run's files (None where missing), taken once per run and handed on
    to whatever else needs them (the fingerprint, the cost lookup, placing files beside the page).
    lstat, not stat: a symbolic link is seen as one, and never published or read through."""
    stats: dict[str, os.stat_result | None] = {}
    for name in RUN_FILES:   # plain strings, not Path objects: four per run on every build
        try:
            stats[name] = os.lstat(f"{run_dir}/{name}")
        except (FileNotFoundError, NotADirectoryError):
            stats[name] = None
    return stats


def relative(path: Path | str, results_dir: Path | str) -> str:
    """A path as the report shows it: relative to the results folder (the site never tells where
    the results lie on the machine that built it)."""
    try:
        return os.path.relpath(path, results_dir)
    except ValueError:
        return str(path)


def problem(exc: StoreError, results_dir: Path | str) -> str:
    """One line for a record that could not be read, its path relative to the results folder."""
    if isinstance(exc, UnreadableRecord):
        return f"{relative(exc.path, results_dir)}: unreadable: {exc.detail}"
    return str(exc).replace(f"{results_dir}/", "", 1)


def odd_files(run_dir: Path | str, stats: dict[str, os.stat_result | None], results_dir: Path | str) -> list[str]:
    """A run's files that are there but are no regular file (a symbolic link planted in the run
    directory): never read, never published, listed."""
    return [f"{relative(f'{run_dir}/{name}', results_dir)}: skipped: "
            f"{'a symbolic link, not followed' if stat.S_ISLNK(st.st_mode) else 'not a regular file'}"
            for name, st in stats.items() if st is not None and not stat.S_ISREG(st.st_mode)]


def fingerprint(stats: dict[str, os.stat_result | None]) -> str:
    parts = []
    for name in RUN_FILES:
        st = stats[name]
        parts.append(f"{name}:-" if st is None else f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def run_dirs(results_dir: Path, skipped: list[str] | None = None) -> list[Path]:
    """results/<recipe>/<run>/ folders holding a regular run.json, sorted (scan_results: no
    symbolic link followed); what was passed over goes to `skipped`."""
    scan = scan_results(results_dir)
    if skipped is not None:
        skipped += [f"{relative(path, results_dir)}: skipped: {why}" for path, why in scan.skipped]
    return scan.run_dirs


@dataclass
class Collected:
    runs: list[dict] = field(default_factory=list)         # summaries, oldest first
    fingerprints: dict[str, str] = field(default_factory=dict)   # page → files it vouches for
    fresh: set[str] = field(default_factory=set)           # pages of the runs read (not cached)
    errors: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)      # previous pages of runs no longer on disk
    # runs whose run.json could not be read: {"path": the run folder relative to results, "problem":
    # the line listed in errors}
    unreadable: list[dict] = field(default_factory=list)


# (run directory, page, stat_run_files of it when already taken)
Job = tuple[str, str, "dict[str, os.stat_result | None] | None"]


def _read_one(job: Job, on_read: OnRead | None, results_dir: str) -> tuple[dict | None, list[str], str | None]:
    """(summary or None, errors, fingerprint to vouch for it or None) for one run directory."""
    run_dir, page, stats = job
    if stats is None:   # taken before reading: a rewrite meanwhile shows next time
        stats = stat_run_files(run_dir)
    errors = odd_files(run_dir, stats, results_dir)
    stamp = fingerprint(stats)
    try:   # run_dirs() listed only folders holding a regular run.json: no load_run checks again
        record = RunRecord(Path(run_dir), read_json(f"{run_dir}/{RUN_FILE}"))
    except StoreError as exc:
        return None, [problem(exc, results_dir)], None
    cost_stat = stats[COST_FILE]
    summary = summarize_run(record, errors, page, has_cost=cost_stat is not None and stat.S_ISREG(cost_stat.st_mode),
                            results_dir=results_dir)
    if on_read is not None:
        on_read(summary, record.data, stats)
    return summary, errors, None if errors or summary["status"] == "running" else stamp


def _read_all(jobs: list[Job], on_read: OnRead | None, results_dir: str) -> list:
    """_read_one over jobs, in job order, in worker processes when there are many."""
    workers = worker_count(len(jobs))
    # small contiguous chunks: results come back in order, and a slow recipe's runs (long epoch
    # tables) do not all land on one worker
    size = max(20, len(jobs) // (workers * 16)) if workers > 1 else max(len(jobs), 1)
    bounds = [(k, min(k + size, len(jobs))) for k in range(0, len(jobs), size)]

    def read_chunk(span: tuple[int, int]) -> list:
        return [_read_one(job, on_read, results_dir) for job in jobs[span[0]:span[1]]]

    return [item for part in ordered_map(read_chunk, bounds, workers) for item in part]


def _plan(results_dir: Path, previous: dict[str, dict], out: Collected) -> tuple[list, list[Job]]:
    """(one slot per run: its cached summary or the index of the job that reads it, the jobs)."""
    taken: set[str] = set()
    slots: list[dict | int] = []
    jobs: list[Job] = []
    for run_dir in run_dirs(results_dir, out.errors):
        page = page_for(run_dir)
        if page in taken:   # two folder names that differ only in characters slug() replaces
            page += "-" + hashlib.sha256(str(run_dir).encode()).hexdigest()[:8]
        taken.add(page)
        cached = previous.get(page)
        stats = stat_run_files(run_dir) if cached else None
        if cached and cached.get("fingerprint") == fingerprint(stats) and \
                cached["summary"].get("source_dir") == str(run_dir):
            slots.append(cached["summary"])
            out.fingerprints[page] = cached["fingerprint"]
            continue
        slots.append(len(jobs))
        jobs.append((str(run_dir), page, stats))
    out.removed = sorted(set(previous) - taken)
    return slots, jobs


def collect_runs(results_dir: Path, previous: dict[str, dict] | None = None,
                 on_read: OnRead | None = None) -> Collected:
    """Summaries of every run under results_dir, oldest first. Unreadable runs are listed in
    `errors`; runs whose cost.json is damaged are shown unpriced, reported, and never vouched for.

    `previous` maps each page of the last build to {"fingerprint", "summary"}; a run whose files
    still match is taken from there. on_read is called for every run read afresh (see OnRead)."""
    results_dir = check_results_dir(results_dir)
    out = Collected()
    slots, jobs = _plan(results_dir, previous or {}, out)
    results = _read_all(jobs, on_read, str(results_dir))
    for slot in slots:
        if isinstance(slot, dict):
            out.runs.append(slot)
            continue
        summary, errors, stamp = results[slot]
        out.errors += errors
        if summary is None:
            out.unreadable.append({"path": relative(jobs[slot][0], results_dir), "problem": errors[-1]})
            continue
        out.runs.append(summary)
        out.fresh.add(summary["page"])
        if stamp is not None:
            out.fingerprints[summary["page"]] = stamp
    out.runs.sort(key=lambda run: (run["started_at"] or "", run["run_id"]))
    return out
