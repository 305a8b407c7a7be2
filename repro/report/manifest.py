"""The site folder's record of its run pages (runs/.rendered.json): for each page, the fingerprint
of the run files it was drawn from and the run's summary, so the next build of the same site reads
and draws only the runs that changed (repro.report.collect takes it as `previous`).

It is dropped before any page changes and written after all are on disk, so a build that dies
half-way leaves no record and the next one draws every page again.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from repro.harness.store import compact_json, parse_json
from repro.report.collect import Collected

MANIFEST_FILE = "runs/.rendered.json"
RENDERER_VERSION = "5"  # bump when summaries, run pages or run charts change: all are redrawn


def load_manifest(site_dir: Path) -> dict[str, dict]:
    """page → {"fingerprint", "summary"} as the last build of site_dir left them; {} when there is
    nothing usable. A site drawn by another renderer loses its run pages here, since they may be
    laid out differently (a folder per run, say): every page is drawn again."""
    try:
        data = parse_json((Path(site_dir) / MANIFEST_FILE).read_bytes())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return {}
    # anything else (another renderer's manifest, a hand-edited file) means: redraw everything
    if not isinstance(data, dict) or data.get("renderer") != RENDERER_VERSION:
        if isinstance(data, dict) and isinstance(data.get("renderer"), str):
            shutil.rmtree(Path(site_dir) / "runs", ignore_errors=True)
        return {}
    runs = data.get("runs")
    if not isinstance(runs, dict):
        return {}
    return {key: entry for key, entry in runs.items()
            if isinstance(entry, dict) and isinstance(entry.get("summary"), dict)}


def forget_manifest(site_dir: Path) -> None:
    """Drop the record before pages change, so a build that dies half-way redraws them all."""
    (Path(site_dir) / MANIFEST_FILE).unlink(missing_ok=True)


def save_manifest(site_dir: Path, collected: Collected) -> None:
    """Record every page drawn from files that could vouch for it (see Collected.fingerprints)."""
    manifest = {run["page"]: {"fingerprint": collected.fingerprints[run["page"]], "summary": run}
                for run in collected.runs if run["page"] in collected.fingerprints}
    path = Path(site_dir) / MANIFEST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(compact_json({"renderer": RENDERER_VERSION, "runs": manifest}))
