"""The leaderboard rows of index.html, formatted in Python like the run pages' tables.

A board can hold thousands of entries, and per-cell attribute lookups, filter calls and
autoescaping in Jinja would make up most of the index's render. Every value taken as it is gets
escaped here (format.html_text); formatted numbers and dashes need none. The markup is what
index.html.j2 would draw around these rows.
"""
from __future__ import annotations

from markupsafe import Markup

from repro.report.format import duration, percent
from repro.report.format import html_text as _text

_ROW = ('    <tr class="entry" data-group="{group}" data-recipe="{recipe}">\n'
        '      <td class="rank">{rank}</td>\n'
        '      <td class="recipe">{recipe}</td>\n'
        '      <td class="hardware">{hardware}</td>\n'
        '      <td class="time" data-value="{time_value}">{time}</td>\n'
        '      <td class="spread">{spread}</td>\n'
        '      <td class="converged">{converged}/{n}</td>\n'
        '      <td class="accuracy">{accuracy} {metric}</td>\n'
        '{costs}'
        '      <td class="date">{date}</td>\n'
        '      <td class="runs">seed{plural} {runs}</td>\n'
        '    </tr>\n')


def _cost_cell(cell: dict) -> str:
    why = f'<small class="why">{_text(cell["reason"])}</small>' if cell["reason"] else ""
    return (f'      <td class="cost" data-market="{_text(cell["key"])}" data-value="{_text(cell["usd"] or "")}">'
            f'{_text(cell["label"])}{why}</td>\n')


def _estimate(entry: dict) -> str:
    """The estimate the runs kept, under the measured time: `est. 0.66 s (+2 %)`."""
    est = entry.get("estimate")
    if not est:
        return ""
    error = f" ({_text(est['error_text'])})" if est.get("error_text") else ""
    return (f'<small class="estimate" title="estimated before the run ({_text(est["basis"])})">'
            f'est. {_text(duration(est["time_to_target_s"]))}{error}</small>')


def _run_link(run: dict) -> str:
    return (f'<a href="{_text(run["href"])}" title="{_text(run["run_id"])} ({_text(run["status"])})">'
            f'{_text(run["seed"])}</a>')


def entry_rows(entries: list[dict]) -> Markup:
    """The <tr class="entry"> rows of one board, each ending in a newline."""
    rows = []
    for e in entries:
        time_s = e["time_to_target_s"]
        rows.append(_ROW.format(
            group=_text(e["group_id"]), recipe=_text(e["recipe"]),
            rank=_text(e["rank"]) if e["rank"] is not None else "—",
            hardware=_text(e["hardware"]),
            time_value=_text(time_s) if time_s is not None else "",
            time=(_text(duration(time_s)) if time_s is not None else "did not reach target") + _estimate(e),
            spread=_text(duration(e["spread_s"])) if e["converged"] > 1 else "—",
            converged=_text(e["converged"]), n=_text(e["n"]),
            accuracy=_text(percent(e["final_metric"], 2)), metric=_text(e["target_metric"]),
            costs="".join(_cost_cell(cell) for cell in e["cost_cells"]),
            date=_text(e["date"] or "—"),
            plural="s" if len(e["runs"]) > 1 else "",
            runs=" · ".join(_run_link(r) for r in e["runs"])))
    return Markup("".join(rows))
