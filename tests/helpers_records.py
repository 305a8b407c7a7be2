"""Shared by the record tests: real records (the golden tree's) copied into a results folder, and
the ways a hostile or unlucky record can be broken."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden" / "results"
GOOD_RUN = GOLDEN / "digits" / "20261101T100000Z-d00000"


def golden_record(name: str = "run.json") -> dict:
    return json.loads((GOOD_RUN / name).read_text())


def copy_run(results: Path, recipe: str = "digits", run_id: str = "20261101T100000Z-d00000",
             source: Path = GOOD_RUN) -> Path:
    """A copy of a golden run directory at results/<recipe>/<run_id>/ with that run id."""
    run_dir = results / recipe / run_id
    shutil.copytree(source, run_dir)
    record = json.loads((run_dir / "run.json").read_text())
    record["run_id"] = run_id
    (run_dir / "run.json").write_text(json.dumps(record))
    return run_dir


def set_path(record: dict, path: str, value) -> dict:
    """`record` with the dotted `path` ("outcome.epochs.0.top1") set to `value`; "-" deletes it."""
    record = copy.deepcopy(record)
    *parents, last = path.split(".")
    node = record
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key = int(last) if isinstance(node, list) else last
    if value == "-":
        del node[key]
    else:
        node[key] = value
    return record


# (file, dotted field, raw JSON text of the value or "-" to delete it): every variant the issue found,
# each a record a reader must list as unreadable and never render
RUN_VARIANTS = [
    ("run.json", "outcome.time_to_target_s", "Infinity"),
    ("run.json", "outcome.time_to_target_s", "NaN"),
    ("run.json", "outcome.time_to_target_s", '"abc"'),
    ("run.json", "outcome.epochs.0.elapsed_s", "Infinity"),
    ("run.json", "outcome.epochs.0.elapsed_s", "-Infinity"),
    ("run.json", "outcome.epochs.0.elapsed_s", "NaN"),
    ("run.json", "outcome.epochs.0.elapsed_s", '"abc"'),
    ("run.json", "started_at", "12345"),
    ("run.json", "target", '"x"'),
    ("run.json", "outcome.epochs", '["x"]'),
    ("run.json", "task", '"a\\u0000b"'),
    ("run.json", "task", '"a/b"'),
    ("run.json", "run_id", "-"),
    ("run.json", "status", "-"),
    ("run.json", "seed", "-"),
    ("run.json", "outcome", "-"),
    ("run.json", "outcome", "[]"),
    ("run.json", "hardware", "null"),
    ("run.json", "seed", '"0"'),
    ("run.json", "status", '"done"'),
    ("run.json", "hardware.gpu_count", '"8"'),
    ("run.json", "outcome.time_to_target_s", "1e999"),
    ("run.json", "schema_version", "2"),
    ("run.json", "provenance.command", '"repro digits"'),
    ("run.json", "provenance.git_sha", "1"),                   # found by a fresh-clone run: crashed the boards
    ("run.json", "provenance.git_dirty", '"yes"'),
]
COST_VARIANTS = [
    ("cost.json", "rows", '"x"'),
    ("cost.json", "rows.0.gpu_count", '"8"'),
    ("cost.json", "rows.0.benchmark_usd", '"abc"'),
    ("cost.json", "rows.0.benchmark_usd", '"NaN"'),
    ("cost.json", "rows.0.usd_per_hour", "0.085"),
]


def break_record(run_dir: Path, name: str, field: str, raw: str) -> None:
    """Write `name` in run_dir with `field` replaced by the raw JSON text `raw` (NaN, Infinity and
    1e999 as Python's json writes them), or deleted for "-"."""
    record = json.loads((run_dir / name).read_text())
    marker = "__REPLACE_ME__"
    record = set_path(record, field, "-" if raw == "-" else marker)
    (run_dir / name).write_text(json.dumps(record).replace(f'"{marker}"', raw))


def deep_json(depth: int) -> str:
    return '{"schema_version": 1, "config": ' + "[" * depth + "]" * depth + "}"
