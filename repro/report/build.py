"""results/ → a static site: index.html (one leaderboard per task), index.json (the data it was
rendered from), a page per run with its curves and provenance, history across code versions.

A pure function of the files on disk: it reads run.json / cost.json / metrics.tsv / mllog.log, never
imports the trainer and never fetches prices. The folder it writes works offline from file://.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from repro.harness.store import atomic_write_text, compact_json
from repro.pricing.catalog import PriceSnapshotError, load_snapshot
from repro.report.collect import PARALLEL_THRESHOLD, Collected, collect_runs, forget_manifest, write_manifest
from repro.report.board_rows import entry_rows
from repro.report.format import FILTERS
from repro.report.history import build_history
from repro.report.leaderboard import build_task_boards
from repro.report.plots import write_plots
from repro.report.reference import published_by_task
from repro.report.run_page import remove_run_page, write_run_pages

INDEX_SCHEMA_VERSION = 1
STATIC_DIR = Path(__file__).parent / "static"


class ReportError(ValueError):
    """The results or output folder cannot be used; the message says which and what to do."""


class ReportEnvironment(Environment):
    """`row.key` in a template reads a dict item first. Jinja's default tries the attribute first
    and falls back to the item, which for the leaderboard's plain dicts costs an exception per
    lookup: a quarter of a 10,000-run render."""

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def make_environment() -> Environment:
    env = ReportEnvironment(loader=PackageLoader("repro.report", "templates"),
                            autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
                            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                            # templates ship in the package and do not change during a build;
                            # auto_reload would stat base.html.j2 twice per page rendered
                            auto_reload=False)
    env.filters.update(FILTERS)
    env.globals["entry_rows"] = entry_rows
    return env


def _snapshot_info(snapshot_path: Path | None, runs: list[dict]) -> dict | None:
    """The snapshot the user named, read through repro.pricing (its id and fetch time), and the runs
    priced with another one. Prices themselves always come from each run's cost.json."""
    if snapshot_path is None:
        return None
    snapshot_path = Path(snapshot_path)
    if not snapshot_path.is_file():
        raise ReportError(f"price snapshot {snapshot_path} not found; pass --snapshot with an "
                          "existing snapshot file, or leave it out to show the prices each "
                          "run's cost.json recorded")
    try:
        snapshot = load_snapshot(snapshot_path)
    except PriceSnapshotError as exc:
        raise ReportError(f"--snapshot {snapshot_path}: {exc}") from None
    others = sorted(r["run_id"] for r in runs if r["priced"] and r["snapshot_id"] != snapshot.id)
    return {"id": snapshot.id, "fetched_at": snapshot.fetched_at.isoformat(),
            "file": snapshot_path.name,
            "sha256": hashlib.sha256(snapshot_path.read_bytes()).hexdigest(),
            "runs_priced_with_other_snapshots": others}


def _make_out_dir(out_dir: Path) -> None:
    try:
        (out_dir / "plots").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create output folder {out_dir}: {exc.strerror}; "
                          "pass a writable --out DIR") from None


def _collect(results_dir: Path, snapshot_path: Path | None,
             published: dict[str, list[dict]] | None,
             site_dir: Path | None = None, out_dir: Path | None = None) -> tuple[dict, Collected]:
    """With out_dir, the page of each run read afresh is drawn while it is read (the manifest
    that vouched for the old pages is dropped first)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ReportError(f"results directory {results_dir} does not exist; run a recipe first "
                          "(`repro digits`) or pass --results DIR")
    if out_dir is not None:
        _make_out_dir(out_dir)
    collected = collect_runs(results_dir, site_dir, render_to=out_dir,
                             before_render=forget_manifest if out_dir is not None else None)
    runs = collected.runs
    published = published_by_task() if published is None else published
    context = {
        "schema_version": INDEX_SCHEMA_VERSION,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "results_dir": str(results_dir),
        "run_count": len(runs),
        "snapshot": _snapshot_info(snapshot_path, runs),
        "price_snapshot_ids": sorted({r["snapshot_id"] for r in runs if r["snapshot_id"]}),
        "errors": collected.errors,
        "tasks": build_task_boards(runs, published),
        "history": build_history(runs),
        "runs": runs,
    }
    return context, collected


def build_context(results_dir: Path, snapshot_path: Path | None = None,
                  published: dict[str, list[dict]] | None = None) -> dict:
    """Everything the pages show, as JSON-ready data (USD as strings); what index.json holds."""
    return _collect(results_dir, snapshot_path, published)[0]


# Where a run lives on this disk and its raw cost rows stay out of index.json: the run pages
# carry the run's own files, and the leaderboard entries carry the costs the page shows.
PRIVATE_RUN_KEYS = ("source_dir", "page", "costs", "unmatched")


def index_data(context: dict) -> dict:
    """The data the pages were rendered from, as written to index.json."""
    public = dict(context)
    public["runs"] = [{k: v for k, v in run.items() if k not in PRIVATE_RUN_KEYS}
                      for run in context["runs"]]
    return public


def _publish(path: Path, text: str) -> None:
    """Replace a top-level page atomically (a reader never sees half of it), readable by a web
    server (the temp file behind the atomic write is created private)."""
    atomic_write_text(path, text)
    os.chmod(path, 0o644)


def _copy_static(out_dir: Path) -> None:
    target = out_dir / "static"
    target.mkdir(parents=True, exist_ok=True)
    for item in STATIC_DIR.iterdir():
        if item.is_file():
            shutil.copyfile(item, target / item.name)


def build_site(results_dir: Path, out_dir: Path, snapshot_path: Path | None = None, *,
               published: dict[str, list[dict]] | None = None) -> Path:
    """Render the whole site into out_dir and return the path of its index.html.

    `published` replaces the shipped reference rows (tests pass their own)."""
    out_dir = Path(out_dir)
    context, collected = _collect(results_dir, snapshot_path, published,
                                  out_dir if out_dir.is_dir() else None, out_dir)
    env = make_environment()
    _copy_static(out_dir)
    # figures are drawn in two other processes while this one writes the pages below, when the
    # site is big enough for the start-up to pay (every core is busy drawing run pages before)
    plots = write_plots(context, out_dir, background=len(context["runs"]) >= PARALLEL_THRESHOLD)
    try:
        for page in collected.removed:      # runs deleted from results since the last build
            remove_run_page(out_dir, page)
        write_run_pages(context["runs"], collected.stale, out_dir)
        write_manifest(out_dir, collected)
        _publish(out_dir / "history.html",
                 env.get_template("history.html.j2").render(ctx=context, root=""))
        _publish(out_dir / "index.json", compact_json(index_data(context)).decode("utf-8"))
        index_html = env.get_template("index.html.j2").render(ctx=context, root="")
    except BaseException:
        plots.cancel()
        raise
    plots.finish()
    index = out_dir / "index.html"       # last: the page that links to all the others
    _publish(index, index_html)
    return index
