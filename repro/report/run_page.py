"""One page per run: curves, schedules, epochs, cost rows, provenance, and the run's own files
copied beside it so the page works as plain files offline.

A run page is a pure function of its run directory; repro.report.collect decides which pages are
stale, and a cold build spreads them over the machine's cores.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shlex
import shutil
from pathlib import Path

from repro.harness.store import RUN_FILE, read_json
from repro.report.collect import RUN_FILES
from repro.report.run_charts import curves_svg, schedule_svg

PARALLEL_THRESHOLD = 400  # below this many pages, starting worker processes costs more than it saves

_JOBS: tuple[list[dict], Path] | None = None  # shared with forked workers


def flatten(value, prefix: str = "") -> list[tuple[str, str]]:
    """Nested provenance → (dotted key, text) rows, in the order the record has them."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            rows += flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and prefix.endswith("command"):
        rows.append((prefix, shlex.join(str(v) for v in value)))
    elif isinstance(value, list):
        rows.append((prefix, ", ".join(str(v) for v in value)))
    else:
        rows.append((prefix, "—" if value is None else str(value)))
    return rows


def _write(path: Path, text: str) -> None:
    # Run pages are regenerated from results at will and the manifest that vouches for them is
    # written last, so a crash mid-build costs a redraw, not a wrong page: no fsync per file.
    path.write_text(text, encoding="utf-8")


def render_run_page(template, run: dict, out_dir: Path) -> Path:
    source_dir = Path(run["source_dir"])
    run_data = read_json(source_dir / RUN_FILE)
    page_dir = Path(out_dir) / run["page_dir"]
    page_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name in RUN_FILES:
        if (source_dir / name).is_file():
            shutil.copyfile(source_dir / name, page_dir / name)
            files.append(name)
        else:
            (page_dir / name).unlink(missing_ok=True)
    epochs = (run_data.get("outcome") or {}).get("epochs") or []
    if epochs:
        _write(page_dir / "curves.svg", curves_svg(run_data))
        _write(page_dir / "schedule.svg", schedule_svg(run_data))
    root = "../" * (run["page_dir"].count("/") + 1)
    page = page_dir / "index.html"
    _write(page, template.render(
        root=root, run=run, data=run_data, epochs=epochs, files=files,
        provenance=flatten(run_data.get("provenance") or {}),
        config_json=json.dumps(run_data.get("config"), indent=2, sort_keys=True, default=str),
        has_plots=bool(epochs)))
    return page


def _render_chunk(indices: list[int]) -> int:
    from repro.report.build import make_environment
    runs, out_dir = _JOBS
    template = make_environment().get_template("run.html.j2")
    for i in indices:
        render_run_page(template, runs[i], out_dir)
    return len(indices)


def write_run_pages(runs: list[dict], stale: list[int], out_dir: Path) -> None:
    """Render the pages of runs[i] for i in stale, in worker processes when there are many."""
    global _JOBS
    _JOBS = (runs, Path(out_dir))
    try:
        workers = min(os.cpu_count() or 1, 8)
        if len(stale) >= PARALLEL_THRESHOLD and workers > 1 and \
                "fork" in multiprocessing.get_all_start_methods():
            chunks = [stale[k::workers] for k in range(workers)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pool.map(_render_chunk, chunks)
        elif stale:
            _render_chunk(stale)
    finally:
        _JOBS = None
