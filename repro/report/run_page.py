"""One page per run: curves, schedules, epochs, cost rows, provenance, and the run's own files
copied beside it so the page works as plain files offline."""
from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

from jinja2 import Template

from repro.harness.store import COST_FILE, METRICS_FILE, MLLOG_FILE, RUN_FILE, atomic_write_text
from repro.report.run_charts import curves_svg, schedule_svg

RUN_FILES = (RUN_FILE, COST_FILE, METRICS_FILE, MLLOG_FILE)


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


def _copy_files(source_dir: Path, page_dir: Path) -> list[str]:
    copied = []
    for name in RUN_FILES:
        source = source_dir / name
        if source.is_file():
            shutil.copyfile(source, page_dir / name)
            copied.append(name)
    return copied


def write_run_page(template: Template, run: dict, run_data: dict, out_dir: Path,
                   ctx: dict) -> Path:
    page_dir = Path(out_dir) / run["page_dir"]
    page_dir.mkdir(parents=True, exist_ok=True)
    source_dir = Path(run["source_dir"])
    files = _copy_files(source_dir, page_dir)
    epochs = (run_data.get("outcome") or {}).get("epochs") or []
    if epochs:
        atomic_write_text(page_dir / "curves.svg", curves_svg(run_data))
        atomic_write_text(page_dir / "schedule.svg", schedule_svg(run_data))
    root = "../" * run["page_dir"].count("/") + "../"
    page = page_dir / "index.html"
    atomic_write_text(page, template.render(
        ctx=ctx, root=root, run=run, data=run_data, epochs=epochs, files=files,
        provenance=flatten(run_data.get("provenance") or {}),
        config_json=json.dumps(run_data.get("config"), indent=2, sort_keys=True, default=str),
        has_plots=bool(epochs)))
    return page
