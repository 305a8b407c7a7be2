"""The run pages in the site folder: each page with the run's own files beside it (hard-linked where
that is safe, else copied) and its schedule figure, so a page works as plain files offline.

A page is drawn while its run is read (see RunPages.draw, handed to collect_runs as on_read), or
afterwards by write_run_pages for cached runs whose page went missing.
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from jinja2 import Template

from repro.harness.store import RUN_FILE, read_json
from repro.report import files
from repro.report.collect import RUN_FILES, Collected
from repro.report.environment import run_template
from repro.report.pool import ordered_map, worker_count
from repro.report.run_charts import schedule_svg
from repro.report.run_page import render_run_page
from repro.report.summary import ENDED_STATUSES

STATIC_DIR = Path(__file__).parent / "static"

# What a run page consists of, by suffix on its stem runs/<recipe>/<run>: the page, the run's
# own files, its schedule figure (the curves are inline in the page).
PAGE_SUFFIXES = (".html", ".schedule.svg", *(f".{name}" for name in RUN_FILES))


def make_out_dir(out_dir: Path) -> None:
    """The site folder and its plots/ (OSError when it cannot be made)."""
    (Path(out_dir) / "plots").mkdir(parents=True, exist_ok=True)


def copy_static(out_dir: Path) -> None:
    target = Path(out_dir) / "static"
    target.mkdir(parents=True, exist_ok=True)
    for item in STATIC_DIR.iterdir():
        if item.is_file():
            shutil.copyfile(item, target / item.name)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _place_run_files(run: dict, stem: str, redraw: bool,
                     stats: dict[str, os.stat_result | None] | None) -> list[tuple[str, str]]:
    """The run's files beside its page, as (name, href) for the page to link; with `redraw`, the
    files a previous drawing placed and the run no longer has go."""
    source_dir = run["source_dir"]
    linkable = run["status"] in ENDED_STATUSES   # the harness writes no more into these
    name_here = os.path.basename(stem)
    placed = []
    for name in RUN_FILES:
        source = f"{source_dir}/{name}"
        info = stats[name] if stats is not None else _lstat(source)
        mode = None if info is None else info.st_mode
        inode = None if info is None else (info.st_ino, info.st_dev)
        if mode is not None and stat.S_ISREG(mode) and files.place_file(source, f"{stem}.{name}", linkable, mode,
                                                                        inode):
            placed.append((name, f"{name_here}.{name}"))
        elif redraw:
            files.remove(f"{stem}.{name}")
    return placed


def write_run_page(template: Template, run: dict, out_dir: Path | str, data: dict | None = None,
                   stats: dict[str, os.stat_result | None] | None = None) -> None:
    """Draw one run's page into out_dir; `data` is its parsed run.json and `stats` the os.stat of
    its files (collect.stat_run_files) when the caller has them."""
    run_data = read_json(f"{run['source_dir']}/{RUN_FILE}") if data is None else data
    stem = f"{out_dir}/{run['page']}"
    page = stem + ".html"
    files.ensure_folder(os.path.dirname(stem))
    redraw = os.path.lexists(page)    # then files of the last drawing may need to go
    placed = _place_run_files(run, stem, redraw, stats)
    if (run_data.get("outcome") or {}).get("epochs"):
        # the schedule (a function of the recipe) is one file hard-linked across runs; the
        # curves differ per run and go inline, so a page costs one new file, not two
        files.write_shared(f"{stem}.schedule.svg", schedule_svg(run_data))
    elif redraw:
        files.remove(f"{stem}.schedule.svg")
    schedule_href = f"{os.path.basename(stem)}.schedule.svg"
    files.write_staged(out_dir, page, render_run_page(template, run, run_data, placed, schedule_href))


class RunPages:
    """Drawing run pages into one site during a build: `with RunPages(out) as pages:` then
    pages.draw as collect_runs' on_read, and pages.write_stale once the runs are collected."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.template = run_template()   # compiled before any worker is forked

    def __enter__(self) -> RunPages:
        files.new_build()
        files.clear_staging(self.out_dir)   # what a build killed half-way left
        return self

    def __exit__(self, *exc) -> None:
        files.clear_staging(self.out_dir)

    def draw(self, run: dict, data: dict, stats: dict[str, os.stat_result | None]) -> None:
        write_run_page(self.template, run, self.out_dir, data, stats)

    def write_stale(self, collected: Collected) -> None:
        """Draw the pages of runs taken from the manifest whose page is missing (the others were
        drawn as they were read), in worker processes when there are many."""
        stale = [run for run in collected.runs if run["page"] not in collected.fresh
                 and not os.path.isfile(f"{self.out_dir}/{run['page']}.html")]
        workers = worker_count(len(stale))
        # each worker a stride of the list: the items sent to it are ranges, not summaries
        chunks = [range(k, len(stale), workers) for k in range(workers)] if stale else []

        def draw_chunk(indices: range) -> None:
            for i in indices:
                write_run_page(self.template, stale[i], self.out_dir)

        ordered_map(draw_chunk, chunks, workers)


def remove_run_page(out_dir: Path, page: str) -> None:
    """Delete every file of a run's page (the run left results/)."""
    for suffix in PAGE_SUFFIXES:
        files.remove(f"{out_dir}/{page}{suffix}")
    try:
        os.rmdir(os.path.dirname(f"{out_dir}/{page}"))   # the recipe's last run went
    except OSError:
        pass
