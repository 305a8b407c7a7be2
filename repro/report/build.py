"""results/ → a static site: index.html (one leaderboard per task), index.json (the data it was
rendered from), a page per run with its curves and provenance, history across code versions.

A pure function of the files on disk: it reads run.json / cost.json / metrics.tsv / mllog.log, never
imports the trainer and never fetches prices. The folder it writes works offline from file://.

The steps go one way: reading (collect, summary: results folder → summaries), then the boards and
history drawn from them, then rendering (environment, run_page, board_rows, plots: data → text),
then writing (pages, figures, files, manifest: text → files in the site folder). This module puts
the pages' data together and calls the steps in that order.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from repro.harness.rundirs import remove_stale_staging
from repro.harness.store import compact_json
from repro.pricing.catalog import PriceSnapshotError, Snapshot, load_snapshot
from repro.report import files
from repro.report.collect import (
    Collected,
    OnRead,
    ReportError,
    check_results_dir,
    collect_runs,
)
from repro.report.environment import make_environment
from repro.report.figures import write_plots
from repro.report.history import build_history
from repro.report.leaderboard import build_task_boards
from repro.report.manifest import forget_manifest, load_manifest, save_manifest
from repro.report.pages import RunPages, copy_static, make_out_dir, remove_run_page
from repro.report.pool import worth_forking
from repro.report.published import load_published, price_published, published_by_task

__all__ = ["ReportError", "build_context", "build_site", "index_data"]

INDEX_SCHEMA_VERSION = 1

# Where a run lives on this disk and its raw cost rows stay out of index.json: the run pages
# carry the run's own files, and the leaderboard entries carry the costs the page shows.
PRIVATE_RUN_KEYS = ("source_dir", "page", "costs", "unmatched")


def _named_snapshot(snapshot_path: Path | None) -> Snapshot | None:
    """The snapshot the user named (ReportError when it cannot be read), or None."""
    if snapshot_path is None:
        return None
    snapshot_path = Path(snapshot_path)
    if not snapshot_path.is_file():
        raise ReportError(f"price snapshot {snapshot_path} not found; pass --snapshot with an "
                          "existing snapshot file, or leave it out to show the prices each "
                          "run's cost.json recorded")
    try:
        return load_snapshot(snapshot_path)
    except PriceSnapshotError as exc:
        raise ReportError(f"--snapshot {snapshot_path}: {exc}") from None


def _snapshot_info(snapshot_path: Path | None, snapshot: Snapshot | None, runs: list[dict]) -> dict | None:
    """The snapshot the user named, read through repro.pricing (its id and fetch time), and the runs
    priced with another one. Prices of runs always come from each run's cost.json."""
    if snapshot is None:
        return None
    snapshot_path = Path(snapshot_path)
    others = sorted(r["run_id"] for r in runs if r["priced"] and r["snapshot_id"] != snapshot.id)
    return {"id": snapshot.id, "fetched_at": snapshot.fetched_at.isoformat(),
            "file": snapshot_path.name,
            "sha256": hashlib.sha256(snapshot_path.read_bytes()).hexdigest(),
            "runs_priced_with_other_snapshots": others}


def _published(results_dir: Path, named: Snapshot | None, published: list[dict] | None,
               errors: list[str]) -> tuple[dict[str, list[dict]], dict | None]:
    """(published rows per task, priced on the named snapshot or else the default one; that
    snapshot's id, fetch time and age)."""
    if published is None:
        published, problems = load_published(results_dir)
        errors += problems
    snapshot = named
    if snapshot is None and published:
        try:
            snapshot = load_snapshot()
        except PriceSnapshotError as exc:
            errors.append(f"{exc} (published results shown at their reported cost only)")
    info = None if snapshot is None else {
        "id": snapshot.id, "fetched_at": snapshot.fetched_at.isoformat(),
        "age_days": round(snapshot.age_days(), 1), "stale": snapshot.stale()}
    return published_by_task(price_published(published, snapshot)), info


def _context(results_dir: Path, snapshot_path: Path | None, published: list[dict] | None,
             previous: dict[str, dict] | None = None,
             on_read: OnRead | None = None) -> tuple[dict, Collected]:
    """The pages' data and what collect_runs found (see there for `previous` and `on_read`)."""
    named = _named_snapshot(snapshot_path)
    collected = collect_runs(results_dir, previous, on_read)
    runs = collected.runs
    errors = list(collected.errors)
    published_rows, priced_on = _published(results_dir, named, published, errors)
    context = {
        "schema_version": INDEX_SCHEMA_VERSION,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "results_dir": str(results_dir),
        "run_count": len(runs),
        "snapshot": _snapshot_info(snapshot_path, named, runs),
        "price_snapshot_ids": sorted({r["snapshot_id"] for r in runs if r["snapshot_id"]}),
        "published_priced_on": priced_on,
        "errors": errors,
        "unreadable": collected.unreadable,
        "tasks": build_task_boards(runs, published_rows),
        "history": build_history(runs),
        "runs": runs,
    }
    return context, collected


def build_context(results_dir: Path, snapshot_path: Path | None = None,
                  published: list[dict] | None = None) -> dict:
    """Everything the pages show, as JSON-ready data (USD as strings); what index.json holds."""
    return _context(results_dir, snapshot_path, published)[0]


def index_data(context: dict) -> dict:
    """The data the pages were rendered from, as written to index.json."""
    public = dict(context)
    public["runs"] = [{k: v for k, v in run.items() if k not in PRIVATE_RUN_KEYS}
                      for run in context["runs"]]
    return public


def _read_and_draw(results_dir: Path, out_dir: Path, snapshot_path: Path | None,
                   published: list[dict] | None) -> tuple[dict, Collected]:
    """The context, with the page of every run read afresh drawn as it is read (its run.json
    parsed once); the record of the last build is dropped before any page changes."""
    check_results_dir(results_dir)   # before anything is written
    # the one thing a build removes from results: hidden folders of runs killed before their first
    # run.json (never a run, never shown), once their process is gone
    remove_stale_staging(results_dir)
    try:
        make_out_dir(out_dir)
    except OSError as exc:
        raise ReportError(f"cannot create output folder {out_dir}: {exc.strerror}; "
                          "pass a writable --out DIR") from None
    previous = load_manifest(out_dir)
    forget_manifest(out_dir)
    with RunPages(out_dir) as pages:
        return _context(results_dir, snapshot_path, published, previous, pages.draw)


def build_site(results_dir: Path, out_dir: Path, snapshot_path: Path | None = None, *,
               published: list[dict] | None = None) -> Path:
    """Render the whole site into out_dir and return the path of its index.html.

    `published` replaces the published records shipped and imported (tests pass their own)."""
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    context, collected = _read_and_draw(results_dir, out_dir, snapshot_path, published)
    env = make_environment()
    copy_static(out_dir)
    # figures are drawn in other processes while this one writes the pages below, when the site
    # is big enough for the start-up to pay
    plots = write_plots(context, out_dir, background=worth_forking(len(context["runs"])))
    try:
        for page in collected.removed:      # runs deleted from results since the last build
            remove_run_page(out_dir, page)
        with RunPages(out_dir) as pages:
            pages.write_stale(collected)
        save_manifest(out_dir, collected)
        files.publish(out_dir / "history.html",
                      env.get_template("history.html.j2").render(ctx=context, root=""))
        files.publish(out_dir / "index.json", compact_json(index_data(context)).decode("utf-8"))
        index_html = env.get_template("index.html.j2").render(ctx=context, root="")
    except BaseException:
        plots.cancel()
        raise
    plots.finish()
    index = out_dir / "index.html"       # last: the page that links to all the others
    files.publish(index, index_html)
    return index
