"""One page per run: curves, schedules, epochs, cost rows, provenance, and the run's own files
copied beside it so the page works as plain files offline.

A run page is a pure function of its run directory, so it is redrawn only when a file in that
directory changed (or this renderer did): re-rendering a 10,000-run tree after one new run touches
one page. A cold build spreads the pages over the machine's cores.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shlex
import shutil
from pathlib import Path

from repro.harness.store import COST_FILE, METRICS_FILE, MLLOG_FILE, RUN_FILE
from repro.report.run_charts import curves_svg, schedule_svg

RUN_FILES = (RUN_FILE, COST_FILE, METRICS_FILE, MLLOG_FILE)
FINGERPRINT_FILE = ".rendered-from"
RENDERER_VERSION = "1"  # bump when the run page or its charts change: every page is redrawn
PARALLEL_THRESHOLD = 400  # below this many pages, starting worker processes costs more than it saves

_JOBS: tuple[list[dict], list[dict], Path] | None = None  # shared with forked workers


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


def fingerprint(source_dir: Path) -> str:
    """What the page was rendered from: size and mtime of each run file, and the renderer version.
    The harness and pricing replace files atomically, so any rewrite changes the mtime."""
    parts = [RENDERER_VERSION]
    for name in RUN_FILES:
        try:
            st = os.stat(source_dir / name)
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            parts.append(f"{name}:-")
    return "|".join(parts)


def _write(path: Path, text: str) -> None:
    # Site files are regenerated from results at will; a crash mid-build leaves a stale
    # fingerprint-less page that the next build redraws, so no fsync per file.
    path.write_text(text, encoding="utf-8")


def render_run_page(template, run: dict, run_data: dict, out_dir: Path) -> Path:
    page_dir = Path(out_dir) / run["page_dir"]
    page_dir.mkdir(parents=True, exist_ok=True)
    marker = page_dir / FINGERPRINT_FILE
    marker.unlink(missing_ok=True)
    source_dir = Path(run["source_dir"])
    stamp = fingerprint(source_dir)
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
    _write(marker, stamp)
    return page


def _is_current(run: dict, out_dir: Path) -> bool:
    page_dir = out_dir / run["page_dir"]
    try:
        rendered = (page_dir / FINGERPRINT_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return rendered == fingerprint(Path(run["source_dir"])) and (page_dir / "index.html").is_file()


def _render_chunk(indices: list[int]) -> int:
    from repro.report.build import make_environment
    runs, run_data, out_dir = _JOBS
    template = make_environment().get_template("run.html.j2")
    for i in indices:
        render_run_page(template, runs[i], run_data[i], out_dir)
    return len(indices)


def write_run_pages(runs: list[dict], run_data: list[dict], out_dir: Path) -> dict:
    """Render every run page whose run files changed since it was last rendered.
    Returns counts: {"rendered": n, "unchanged": m}."""
    global _JOBS
    out_dir = Path(out_dir)
    pending = [i for i, run in enumerate(runs) if not _is_current(run, out_dir)]
    _JOBS = (runs, run_data, out_dir)
    try:
        workers = min(os.cpu_count() or 1, 8)
        if len(pending) >= PARALLEL_THRESHOLD and workers > 1 and \
                "fork" in multiprocessing.get_all_start_methods():
            chunks = [pending[k::workers] for k in range(workers)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pool.map(_render_chunk, chunks)
        elif pending:
            _render_chunk(pending)
    finally:
        _JOBS = None
    return {"rendered": len(pending), "unchanged": len(runs) - len(pending)}
