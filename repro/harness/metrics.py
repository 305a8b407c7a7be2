"""metrics.tsv, the DAWNBench per-epoch log: `epoch  hours  top1Accuracy  [top5Accuracy]`, accuracies
in percent, hours since the run's start at the end of each epoch's evaluation, evaluation included (the
column the DAWNBench time is read from; docs/timing-rules.md).

The only writer and reader of the format; the run session writes it, exports and imports read it.
The reader also takes the TSVs of the published entries (stanford-futuredata/dawn-bench-entries at
fb27b827bd83eff9021698ffe576b33a100e0b78): headers in other cases and orders (`hours  epoch  ...`),
a byte-order mark, CRLF line ends, and fractional epochs (its TensorFlow CIFAR10 logs count 1.00096).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricsRow:
    epoch: int | float             # whole for repro's runs; some published logs count fractions
    hours: float
    top1: float | None             # fractions in memory, percent in the file
    top5: float | None = None


def to_text(rows: Iterable[MetricsRow]) -> str:
    rows = list(rows)
    top5 = any(r.top5 is not None for r in rows)
    lines = ["epoch\thours\ttop1Accuracy" + ("\ttop5Accuracy" if top5 else "")]
    for r in rows:
        cells = [str(r.epoch), f"{r.hours:.8f}", _percent(r.top1)]
        if top5:
            cells.append(_percent(r.top5))
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def _percent(fraction: float | None) -> str:
    return f"{100 * fraction:.4f}" if fraction is not None and math.isfinite(fraction) else ""


def parse(text: str) -> list[MetricsRow]:
    """Rows of a metrics.tsv (or a DAWNBench entry's TSV, whose header names may differ in case and
    order). ValueError naming the line when a row is not finite numbers; an empty accuracy cell is
    None (no evaluation that epoch)."""
    lines = [ln for ln in text.removeprefix("\ufeff").splitlines() if ln.strip()]
    if not lines:
        return []
    header = [h.strip().lower() for h in lines[0].split("\t")]
    col = {name: i for i, name in enumerate(header)}
    if "epoch" not in col or "hours" not in col:
        raise ValueError(f"TSV header {lines[0]!r} lacks the epoch and hours columns")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        try:
            hours = _finite(cells[col["hours"]])
            if hours < 0:
                raise ValueError("negative hours")
            rows.append(MetricsRow(epoch=_epoch(cells[col["epoch"]]), hours=hours,
                                   top1=_fraction(cells, col.get("top1accuracy")),
                                   top5=_fraction(cells, col.get("top5accuracy"))))
        except (ValueError, IndexError):
            raise ValueError(f"TSV line {n} is not a row of finite numbers: {line!r}") from None
    return rows


def _finite(cell: str) -> float:
    value = float(cell)
    if not math.isfinite(value):
        raise ValueError(f"{cell!r} is not finite")
    return value


def _epoch(cell: str) -> int | float:
    value = _finite(cell)
    return int(value) if value.is_integer() else value


def _fraction(cells: list[str], index: int | None) -> float | None:
    if index is None or index >= len(cells) or not cells[index].strip():
        return None
    return _finite(cells[index]) / 100.0


def as_mappings(rows: Iterable[MetricsRow]) -> list[Mapping]:
    """Rows as the dicts harness.clock's DAWNBench rule reads."""
    return [{"epoch": r.epoch, "hours": r.hours, "top1": r.top1, "top5": r.top5} for r in rows]
