"""Published DAWNBench entries: the one reader of an entry's JSON and its per-epoch TSV, for
`repro price ENTRY.json` and the report's `repro import dawnbench`.

The format is stanford-futuredata/dawn-bench-entries' (README at commit
fb27b827bd83eff9021698ffe576b33a100e0b78): `<Task>/train/<entry>.json` with author, authorEmail,
framework, codeURL, model, hardware (free text), costPerHour (optional, USD), timestamp
(yyyy-mm-dd) and misc; beside it `<entry>.tsv` with `epoch  hours  top1Accuracy [top5Accuracy]`,
accuracy in percent (read by repro.harness.metrics, which takes the files' other column orders and
byte-order marks). `repro export dawnbench` writes the same pair. The README defines `logFilename`
as a URL to training logs, so it is not taken for a file name: the TSV is the one with the entry's
stem.

The time to target is the DAWNBench rule's (repro.harness.clock): the hours of the first row at or
over the target, CIFAR10 top-1 ≥ 94 % and ImageNet top-5 ≥ 93 % by the task folder the entry sits
in, or the target repro's own export recorded in `misc.target` for an entry outside those folders.

Nothing is guessed: a file that cannot be read, a log that never reaches the target, a number that
is not finite or a costPerHour that is not a positive number is an EntryError saying what is wrong;
hardware the text does not state plainly is None with the reason (repro.pricing.dawnbench_hardware).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from repro.harness import clock, metrics
from repro.harness.hardware import label
from repro.pricing.catalog import Snapshot
from repro.pricing.dawnbench_hardware import Hardware, parse_spec, read_hardware

# The DAWNBench v1 training rules by task folder (dawn-bench-entries README, commit fb27b827…)
TARGETS: dict[str, tuple[str, float]] = {"CIFAR10": ("top1", 0.94), "ImageNet": ("top5", 0.93)}
COLUMNS = {"top1": "top1Accuracy", "top5": "top5Accuracy"}


class EntryError(ValueError):
    """An entry cannot be read; the message says what is wrong (the caller names the file)."""


@dataclass(frozen=True)
class Entry:
    path: Path
    fields: dict[str, Any]             # the entry's JSON object as published
    target: tuple[str, float]          # (metric, fraction)
    epoch: int | float                 # of the first row at or over the target, as the log counts
    accuracy: float                    # fraction, at that epoch
    hours: float                       # the log's hours at that epoch
    time_to_target_s: float            # hours × 3600
    hardware_text: str | None
    hardware: Hardware | None          # run.json-like, or None: not priced
    hardware_read: str                 # how the text was read, or why it is not priced
    usd_per_hour: Decimal | None       # costPerHour as published

    @property
    def not_priced(self) -> str | None:
        """Why the entry cannot be priced (its hardware is not known), or None."""
        return None if self.hardware is not None else self.hardware_read


def task_folder(path: Path) -> str | None:
    """The DAWNBench task an entry's place names: `<Task>/train/<entry>.json` or `<Task>/<entry>.json`."""
    folder = Path(os.path.abspath(path)).parent
    if folder.name.lower() == "train":
        folder = folder.parent
    return next((task for task in TARGETS if task.lower() == folder.name.lower()), None)


def parse_target(text: str) -> tuple[str, float]:
    """`top1:94` or `top5:0.93` as (metric, fraction); EntryError saying how to write it."""
    metric, _, value = text.partition(":")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if metric not in COLUMNS or not 0 < number <= 100:
        raise EntryError(f"target {text!r}: write top1:94 or top5:93 (percent)")
    return metric, number / 100 if number > 1 else number


def _recorded_target(fields: dict) -> tuple[str, float] | None:
    """The target `repro export dawnbench` wrote into misc (run.json's {"metric", "value"})."""
    misc = fields.get("misc")
    recorded = misc.get("target") if isinstance(misc, dict) else None
    if not isinstance(recorded, dict) or recorded.get("metric") not in COLUMNS:
        return None
    value = recorded.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        return None
    return recorded["metric"], float(value)


def _target(path: Path, fields: dict, target: str | None) -> tuple[str, float]:
    if target:
        return parse_target(target)
    task = task_folder(path)
    found = TARGETS[task] if task else _recorded_target(fields)
    if found is None:
        raise EntryError(f"no target known for this entry (not under {' or '.join(f'{t}/' for t in TARGETS)}, "
                         "no misc.target); pass --target top1:94")
    return found


def _read_text(path: Path, checkout: Path | None) -> str:
    """A regular file's text (a byte-order mark dropped); inside `checkout` when one is given,
    so a link out of a cloned repository is not followed."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):            # Python 3.11 raises RuntimeError for a link loop
        raise EntryError("a link that loops back on itself") from None
    if checkout is not None and not resolved.is_relative_to(checkout.resolve()):
        raise EntryError("not a file inside the checkout")
    if not resolved.is_file():
        raise EntryError("no such file" if not resolved.exists() else "not a regular file")
    try:
        return resolved.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EntryError(f"unreadable ({exc})") from None


def _no_constant(name: str) -> None:
    raise EntryError(f"{name} is not a number JSON allows")


def _read_fields(path: Path, checkout: Path | None) -> dict[str, Any]:
    try:
        fields = json.loads(_read_text(path, checkout), parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise EntryError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise EntryError("not valid JSON (nested too deeply)") from None
    if not isinstance(fields, dict):
        raise EntryError("the JSON is not an object")
    if "run_id" in fields and "schema_version" in fields:
        raise EntryError("a run's run.json, not a DAWNBench entry; pass the run's directory")
    return fields


def _reached(path: Path, checkout: Path | None, metric: str, value: float) -> tuple[dict, float]:
    """(the log's first row at or over the target, the DAWNBench time in seconds); EntryError with
    what the log does say otherwise."""
    tsv = path.with_suffix(".tsv")
    try:
        rows = metrics.as_mappings(metrics.parse(_read_text(tsv, checkout)))
    except ValueError as exc:
        raise EntryError(f"its TSV {tsv.name}: {exc}") from None
    scores = [row[metric] for row in rows if row[metric] is not None]
    if not scores:
        raise EntryError(f"its TSV {tsv.name} has no {COLUMNS[metric]} values")
    first = clock.dawnbench_first_at_target(rows, value, metric)
    if first is None:
        raise EntryError(f"never reaches {value * 100:g} % {COLUMNS[metric]} (best {max(scores) * 100:g} %)")
    return first, clock.dawnbench_time_to_target_s(rows, value, metric)


def _usd_per_hour(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        # the float check turns away what no rate is ("Infinity", "1e999"), Decimal keeps the digits
        number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else math.nan
        rate = Decimal(str(value).strip())
    except (ValueError, InvalidOperation):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise EntryError(f"costPerHour {value!r} is not a positive number")
    return rate


def text_field(fields: dict, key: str) -> str | None:
    """A text field of the entry, stripped; None when it is missing, blank or not text."""
    value = fields.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_entry(path: str | Path, *, snapshot: Snapshot | None = None, hardware: str | None = None,
               nodes: int = 1, target: str | None = None, checkout: Path | None = None) -> Entry:
    """An entry's time to target under the DAWNBench rule, its hardware (the text read against
    `snapshot`'s instance types, or `hardware` "MODEL:COUNT" per node on `nodes` nodes), and its
    published rate. `target` ("top1:94") replaces the folder's; `checkout` keeps every file read
    inside that folder. EntryError says what is wrong."""
    path = Path(path)
    fields = _read_fields(path, checkout)
    metric, value = _target(path, fields, target)
    row, seconds = _reached(path, checkout, metric, value)
    text = text_field(fields, "hardware")
    if hardware:
        try:
            found = parse_spec(hardware, nodes)
        except ValueError as exc:
            raise EntryError(str(exc)) from None
        read = f"{label(found)} as given"
    else:
        found, read = read_hardware(text, snapshot)
    return Entry(path=path, fields=fields, target=(metric, value), epoch=row["epoch"],
                 accuracy=row[metric], hours=row["hours"], time_to_target_s=seconds,
                 hardware_text=text, hardware=found, hardware_read=read,
                 usd_per_hour=_usd_per_hour(fields.get("costPerHour")))
