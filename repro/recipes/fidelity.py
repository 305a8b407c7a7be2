"""Fidelity records: for a recipe named after a published entry, every setting the entry's own files
specify, the source's value, the recipe's value, the file and line it was read from (at a commit), and,
where the two differ, why.

A record is data (one module per family: fidelity_imagenet, fidelity_cifar, fidelity_cifar_modern).
`check(record, recipe)` lists what no longer holds: a recipe value that drifted from the recorded one,
or a difference from the source without a recorded reason. docs/recipes.md is rendered from the records
(repro.recipes.fidelity_doc), and `repro recipes --json` carries them.

How a setting's recipe value is read (`Setting.field`):
  "optim.weight_decay"        a dotted key of the resolved recipe (Recipe.to_dict())
  "derived:lr_knots"          a value computed from the recipe here (DERIVED), e.g. the LR in epochs
  "code:repro.train.x.NAME"   a constant in repro's code; the fidelity test imports and compares it
  None                        repro has no such setting: the reason must say what it does instead
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from repro.recipes.base import Recipe


@dataclass(frozen=True)
class Source:
    """A file read for a record: `repo` on GitHub at `commit`, or a page (`url`, `commit` empty)."""
    key: str
    title: str
    repo: str = ""
    path: str = ""
    commit: str = ""
    url_override: str = ""

    def url(self, lines: str = "") -> str:
        if self.url_override:
            return self.url_override
        first = lines.split(",")[0].split("-")[0].strip()
        anchor = f"#L{first}" if first.isdigit() else ""
        return f"https://github.com/{self.repo}/blob/{self.commit}/{self.path}{anchor}"


@dataclass(frozen=True)
class Setting:
    name: str
    field: str | None
    source_value: Any
    recipe_value: Any
    where: str                  # Source.key
    lines: str                  # line numbers (or a symbol) in that source
    reason: str = ""            # required when the recipe's value differs from the source's
    note: str = ""              # a remark that holds either way


@dataclass(frozen=True)
class Published:
    """The entry's published result, as its own files state it."""
    what: str                   # e.g. "first epoch ≥ 93 % top-5"
    epoch: int | None           # as numbered in the source (DAWNBench TSVs count from 0)
    time: str                   # verbatim: the TSV's hours column, or a time in seconds
    unit: str                   # "h" or "s"
    accuracy_percent: str       # verbatim
    metric: str
    hardware: str
    usd_per_hour: Decimal | None
    date: str                   # the entry's timestamp
    where: str
    lines: str
    note: str = ""

    def hours(self) -> Decimal:
        return Decimal(self.time) if self.unit == "h" else Decimal(self.time) / 3600

    def seconds(self) -> float:
        return float(self.hours() * 3600)

    def usd(self) -> Decimal | None:
        """Published cost: hours × the entry's hourly price, to the cent (None without a price)."""
        if self.usd_per_hour is None:
            return None
        return (self.hours() * self.usd_per_hour).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Fidelity:
    recipe: str
    entry: str
    summary: str
    sources: tuple[Source, ...]
    settings: tuple[Setting, ...]
    published: tuple[Published, ...] = field(default=())

    def source(self, key: str) -> Source:
        for s in self.sources:
            if s.key == key:
                return s
        raise KeyError(f"{self.recipe}: no source {key!r}")


# -- values derived from a recipe ------------------------------------------------------------------
def _train_epochs(r: Recipe) -> float:
    return r.epochs - 1 + r.final_epoch_fraction


def _lr_knots(r: Recipe) -> list[list[float]]:
    """[epoch, LR] knots, linear between; a repeated epoch is a step."""
    s, peak, length = r.schedule, r.optim.peak_lr, _train_epochs(r)
    if s.kind == "one_cycle":
        xs = (0.0, s.pct_start, 1.0 - s.final_phase, 1.0)
        ys = (peak / s.div, peak, peak / s.div, peak / s.final_div)
        return [[x * length, y] for x, y in zip(xs, ys)]
    return [[x * length, y * peak] for x, y in zip(s.knots_x, s.knots_y)]


def _momentum_knots(r: Recipe) -> list[list[float]]:
    s, length = r.schedule, _train_epochs(r)
    if s.kind == "one_cycle":
        xs = (0.0, s.pct_start, 1.0 - s.final_phase, 1.0)
        return [[x * length, m] for x, m in zip(xs, (s.momentum_max, s.momentum_min, s.momentum_max, s.momentum_max))]
    return [[0.0, s.momentum_max], [length, s.momentum_max]]


def _size_knots(r: Recipe) -> list[list[float]]:
    return [[x * r.epochs, size] for x, size in r.data.size_knots]


def _batch_at(r: Recipe, size: int | None) -> int:
    ratio = dict(r.data.batch_ratio_per_size).get(size)
    return max(1, round(r.data.batch_size * ratio)) if ratio is not None else r.data.batch_size


def _per_gpu(total: int, gpus: int) -> float:
    return total / max(1, gpus)


DERIVED: dict[str, Callable[[Recipe, str], Any]] = {
    "train_epochs": lambda r, _: _train_epochs(r),
    "lr_knots": lambda r, _: _lr_knots(r),
    "lr_multiplier_knots": lambda r, _: [[x, y] for x, y in zip(r.schedule.knots_x, r.schedule.knots_y)],
    "momentum_knots": lambda r, _: _momentum_knots(r),
    "size_knots": lambda r, _: _size_knots(r),
    "batch_per_gpu": lambda r, arg: _per_gpu(_batch_at(r, int(arg) if arg else None), r.gpus),
    "eval_batch_per_gpu": lambda r, _: _per_gpu(r.data.eval_batch_size, r.gpus),
    "lr_per_example": lambda r, _: r.optim.peak_lr / r.data.batch_size,
    "decay_per_step": lambda r, _: r.optim.peak_lr * r.optim.weight_decay,
    "weight_decay_on": lambda r, _: "weights only" if r.optim.no_bn_weight_decay else "all parameters",
}


def recipe_value(recipe: Recipe, field_name: str) -> Any:
    """The recipe's value for a setting's `field` (see the module docstring); code fields are not
    read here (the recipes layer imports no code above it): the fidelity test reads them."""
    if field_name.startswith("derived:"):
        name, _, arg = field_name[len("derived:"):].partition("@")
        return DERIVED[name](recipe, arg)
    value: Any = recipe.to_dict()
    for part in field_name.split("."):
        value = value[part]
    return value


def same(a: Any, b: Any) -> bool:
    """Equal as data: numbers to 1e-9 relative, sequences element by element."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def check(record: Fidelity, recipe: Recipe, code_value: Callable[[str], Any] | None = None) -> list[str]:
    """What no longer holds between the record and the recipe, one line each; [] when all is well.
    `code_value(dotted_name)` reads "code:" fields; without it they are checked for a reason only."""
    problems = []
    if record.recipe != recipe.name:
        problems.append(f"record for {record.recipe!r} checked against recipe {recipe.name!r}")
    for s in record.settings:
        label = f"{recipe.name}: {s.name}"
        record.source(s.where)  # an unknown source key raises
        if s.field is None:
            if not s.reason:
                problems.append(f"{label}: repro has no such setting and the record gives no reason")
            continue
        if s.field.startswith("code:"):
            actual = code_value(s.field[len("code:"):]) if code_value else s.recipe_value
        else:
            actual = recipe_value(recipe, s.field)
        if not same(_plain(actual), s.recipe_value):
            problems.append(f"{label}: the recipe has {_plain(actual)!r}, the record says {s.recipe_value!r} "
                            f"({s.field}); update the record with a reason, or restore the value")
        if not same(s.source_value, s.recipe_value) and not s.reason:
            problems.append(f"{label}: {s.recipe_value!r} differs from the source's {s.source_value!r} "
                            f"({record.source(s.where).title}, {s.lines}) and no reason is recorded")
    return problems


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def as_json(record: Fidelity) -> dict[str, Any]:
    """The record as JSON data (numbers as numbers, money as a decimal string)."""
    return {
        "entry": record.entry,
        "summary": record.summary,
        "sources": [{"key": s.key, "title": s.title, "url": s.url(), "repo": s.repo or None,
                     "path": s.path or None, "commit": s.commit or None} for s in record.sources],
        "published": [{"what": p.what, "epoch": p.epoch, "time": float(p.time), "unit": p.unit,
                       "seconds": p.seconds(), "accuracy_percent": float(p.accuracy_percent), "metric": p.metric,
                       "hardware": p.hardware,
                       "usd_per_hour": str(p.usd_per_hour) if p.usd_per_hour is not None else None,
                       "usd": str(p.usd()) if p.usd() is not None else None, "date": p.date,
                       "source": record.source(p.where).url(p.lines), "lines": p.lines, "note": p.note or None}
                      for p in record.published],
        "settings": [{"name": s.name, "source_value": s.source_value, "recipe_value": s.recipe_value,
                      "same": same(s.source_value, s.recipe_value), "field": s.field,
                      "source": record.source(s.where).url(s.lines), "source_title": record.source(s.where).title,
                      "lines": s.lines, "reason": s.reason or None, "note": s.note or None}
                     for s in record.settings],
    }
