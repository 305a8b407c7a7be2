"""docs/recipes.md, rendered from the fidelity records and the recipes.

    python -m repro.recipes.fidelity_doc docs/recipes.md      # rewrite it
    python -m repro.recipes.fidelity_doc                      # print it

tests/recipes/test_fidelity.py renders it again and fails when the file differs.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from repro.recipes import RECIPES
from repro.recipes.fidelity import Fidelity, Published, Setting, same
from repro.recipes.fidelity_index import FIDELITY

HEADER = """# Recipes and the entries they reproduce

<!-- Generated from repro/recipes/fidelity_*.py by `python -m repro.recipes.fidelity_doc docs/recipes.md`.
     Do not edit by hand: tests/recipes/test_fidelity.py fails when this file is stale. -->

Each recipe named after a published entry is listed setting by setting: the value in the entry's own
files (linked at the commit and line it was read from), the value in repro's recipe, and, where they
differ, why. `repro recipes --json` carries the same records. The published results are the entries'
own figures, not measurements of this kit; how their clocks ran is in [timing-rules.md](timing-rules.md).
A test fails when a recipe's value drifts from its record, or when a record differs from its source
without a reason.
"""


def fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _published_rows(record: Fidelity) -> list[str]:
    rows = ["| Result | Epoch | Time | Accuracy | Hardware | USD/h | Cost | Date | Source |",
            "|---|---|---|---|---|---|---|---|---|"]
    for p in record.published:
        rows.append("| " + " | ".join(_cell(c) for c in _published_cells(record, p)) + " |")
    notes = [f"- {p.note}" for p in record.published if p.note]
    return rows + ([""] + notes if notes else [])


def _published_cells(record: Fidelity, p: Published) -> list[str]:
    time = f"{p.time} h ({p.seconds():.1f} s)" if p.unit == "h" else f"{p.time} s"
    usd = p.usd()
    return [p.what, "—" if p.epoch is None else str(p.epoch), time, f"{p.accuracy_percent} % {p.metric}",
            p.hardware, "—" if p.usd_per_hour is None else str(p.usd_per_hour), "—" if usd is None else f"USD {usd}",
            p.date, f"[{record.source(p.where).title}, line {p.lines}]({record.source(p.where).url(p.lines)})"]


def _setting_row(record: Fidelity, s: Setting) -> str:
    differs = not same(s.source_value, s.recipe_value)
    source = record.source(s.where)
    where = f"[{source.title}, {s.lines}]({source.url(s.lines)})"
    why = s.reason if differs else s.note
    if differs and s.note:
        why = f"{s.reason}. {s.note}"
    mark = "**differs:** " if differs else ""
    return "| " + " | ".join(_cell(c) for c in (s.name, fmt(s.source_value), fmt(s.recipe_value), where,
                                                  mark + why)) + " |"


def render_record(record: Fidelity) -> list[str]:
    recipe = RECIPES[record.recipe]
    lines = [f"## {record.recipe}", "", f"**Entry:** {record.entry}. {record.summary}", "",
             f"repro: `repro {_command(recipe)} --recipe {record.recipe}` — {recipe.description}", "",
             "Sources, at the commits read:", ""]
    lines += [f"- {s.key}: [{s.title}]({s.url()})" for s in record.sources]
    if record.published:
        lines += ["", "Published result:", ""] + _published_rows(record)
    differing = sum(1 for s in record.settings if not same(s.source_value, s.recipe_value))
    lines += ["", f"{len(record.settings)} settings, {differing} differing from the source:", "",
              "| Setting | Source | repro | Read from | Why it differs / note |", "|---|---|---|---|---|"]
    lines += [_setting_row(record, s) for s in record.settings]
    return lines + [""]


def _command(recipe) -> str:
    from repro.recipes import command_for
    return command_for(recipe)


def render() -> str:
    lines = HEADER.splitlines() + [""]
    lines += [f"- [{name}](#{name}): {FIDELITY[name].entry}" for name in FIDELITY]
    others = [r for name, r in RECIPES.items() if name not in FIDELITY]
    if others:
        lines += ["- [Recipes without a source record](#recipes-without-a-source-record)"]
    lines.append("")
    for record in FIDELITY.values():
        lines += render_record(record)
    if others:
        lines += ["## Recipes without a source record", "",
                  "These are repro's own; they reproduce no published entry, so nothing is compared.", ""]
        lines += [f"- `{r.name}` (`repro {_command(r)}`): {r.description}" for r in others]
        lines.append("")
    return "\n".join(lines)


def write(path: Path) -> None:
    """Atomically replace `path` with the rendered page."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(render())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    if len(sys.argv) > 1:
        write(Path(sys.argv[1]))
    else:
        sys.stdout.write(render())
