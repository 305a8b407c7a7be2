"""The leaderboard rows of index.html, formatted in Python like the run pages' tables.

A board can hold thousands of entries, and per-cell attribute lookups, filter calls and
autoescaping in Jinja would make up most of the index's render. Every value taken as it is gets
escaped here (format.html_text); formatted numbers and dashes need none. The markup is what
index.html.j2 would draw around these rows. Every cell carries a class naming its column, which
the stylesheet uses to label cells when a narrow screen shows each row as a card.
"""
from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup

from repro.pricing.money import format_usd
from repro.report.format import hms, safe_url
from repro.report.format import html_text as _text
from repro.report.markets import LABELS

STALE = " (prices from a snapshot past its age limit)"


@lru_cache(maxsize=1 << 16)
def _usd(amount: str) -> str:
    """format_usd of a cost string, once per distinct amount (a board repeats many)."""
    return _text(format_usd(amount))


# a group of hand-made example runs (a test fixture): marked, so it never reads as a measurement
_EXAMPLE = (' <span class="badge example" title="hand-made example data (a test fixture), '
            'not a measurement">example, not measured</span>')


def _estimate(entry: dict) -> str:
    """The estimate the runs kept, under the measured time: `est. 0.66 s (+2 %)`."""
    est = entry.get("estimate")
    if not est:
        return ""
    error = f" ({_text(est['error_text'])})" if est.get("error_text") else ""
    return (f'<small class="estimate" title="estimated before the run ({_text(est["basis"])})">'
            f'est. {_text(hms(est["time_to_target_s"]))}{error}</small>')


def _cost_cell(row: dict, market: str, measured: bool) -> str:
    cost = row["market_costs"].get(market)
    if cost is not None:
        stale = STALE if measured and row.get("stale_prices") else ""
        title = f"{cost['key']} {cost['instance_type'] or ''}{stale}"
        mark = ' class="stale"' if stale else ""
        return (f'<td class="cost m-{market}" data-value="{_text(cost["usd"])}" title="{_text(title)}">'
                f'<span{mark}>{_usd(cost["usd"])}</span></td>')
    if measured and not row["priced"]:
        why, text = "no cost.json in the run directory", "not priced"
    elif not measured and row.get("not_priced"):
        why, text = row["not_priced"], "not priced"
    else:
        why, text = row["no_offer"].get(market) or f"no {LABELS[market]} offer for this hardware", "no offer"
    return f'<td class="cost m-{market} none" data-value="" title="{_text(why)}">{text}</td>'


def _seed_links(entry: dict) -> str:
    links = " ".join(f'<a href="{_text(r["href"])}" title="{_text(r["run_id"])} ({_text(r["status"])})">'
                     f'{_text(r["seed"])}</a>' for r in entry["runs"])
    plural = "s" if len(entry["runs"]) > 1 else ""
    return f'{_text(entry["converged"])}/{_text(entry["n"])} <small>seed{plural} {links}</small>'


def _recipe_cell(entry: dict) -> str:
    model = f' <small class="model">{_text(entry["model"])}</small>' if entry.get("model") else ""
    example = _EXAMPLE if entry.get("fixture") else ""
    return f'<td class="recipe"><span class="recipe-name">{_text(entry["recipe"])}</span>{model}{example}</td>'


def _hardware_cell(entry: dict) -> str:
    instance = f' <small>{_text(entry["instance"])}</small>' if entry.get("instance") else ""
    return f'<td class="hardware">{_text(entry["hardware"])}{instance}</td>'


def _meta_measured(entry: dict, columns: list[str]) -> str:
    """The framework and code version cells of a measured entry, where the board shows them."""
    cells = []
    if "framework" in columns:
        cells.append(f'<td class="framework">{_text(entry["framework"] or "—")}</td>')
    if "version" in columns:
        dirty = ' <small class="dirty" title="uncommitted changes">dirty</small>' if entry["git_dirty"] else ""
        version = (f'<code title="{_text(" ".join(entry["git_shas"]))}">{_text(entry["version"])}</code>{dirty}'
                   if entry["version"] else "—")
        cells.append(f'<td class="version">{version}</td>')
    return "".join(cells)


def _measured_row(entry: dict, markets: list[str], columns: list[str]) -> str:
    time_s = entry["time_to_target_s"]
    kind = "entry fixture" if entry.get("fixture") else "entry"
    return (f'<tr class="{kind}" data-group="{_text(entry["group_id"])}" data-recipe="{_text(entry["recipe"])}">'
            f'<td class="rank">{_text(entry["rank"]) if entry["rank"] is not None else "—"}</td>'
            f'<td class="time" data-value="{_text(time_s) if time_s is not None else ""}">'
            f'{_text(hms(time_s)) if time_s is not None else "did not reach target"}{_estimate(entry)}</td>'
            + "".join(_cost_cell(entry, m, True) for m in markets)
            + ('<td class="reported" data-value="">—</td>' if "reported" in columns else "")
            + _recipe_cell(entry) + _hardware_cell(entry) + _meta_measured(entry, columns)
            + f'<td class="date">{_text(entry["date"] or "—")}</td>'
            f'<td class="runs">{_seed_links(entry)}</td></tr>\n')


def _link(url, text: str) -> str:
    safe = safe_url(url)
    return f'<a href="{_text(safe)}">{_text(text)}</a>' if safe else _text(text)


def _published_optional(row: dict, columns: list[str], where: str) -> str:
    cells = []
    if where == "reported" and "reported" in columns:
        amount = row.get("reported_usd")
        title = (f"${row['usd_per_hour']}/h × {row['hours']:.4f} h, as its authors priced it"
                 if amount else "no costPerHour reported")
        cells.append(f'<td class="reported" data-value="{_text(amount or "")}" title="{_text(title)}">'
                     f'{_text(format_usd(amount)) if amount else "—"}</td>')
    if where == "rest" and "framework" in columns:
        cells.append(f'<td class="framework">{_text(row.get("framework") or "—")}</td>')
    if where == "rest" and "version" in columns:
        code = _link(row.get("code_url"), "code") if row.get("code_url") else "—"
        cells.append(f'<td class="version">{code}</td>')
    return "".join(cells)


def _published_cells(row: dict) -> tuple[str, str]:
    """(entry cell, hardware cell) of a published row."""
    author = f' <small class="model">{_text(row["author"])}</small>' if row.get("author") else ""
    entry = f'<td class="recipe">{_link(row["source"], row.get("model") or row["id"])}{author}</td>'
    read = row.get("hardware_read") or ""
    note = f' <small title="how repro read it">priced as {_text(read)}</small>' if row.get("hardware") else ""
    return entry, f'<td class="hardware">{_text(row.get("hardware_text") or "—")}{note}</td>'


def _published_row(row: dict, markets: list[str], columns: list[str]) -> str:
    entry, hardware = _published_cells(row)
    epoch = f' <small>epoch {_text(row["epoch"])}</small>' if row.get("epoch") is not None else ""
    log = _link(row.get("log"), "log") if row.get("log") else _link(row["source"], "source")
    rule = row.get("rule") or (f"DAWNBench rule: epoch {row['epoch']} of the log, the first at or over "
                               "the target" if row.get("epoch") is not None else "as published")
    return (f'<tr class="published-row" data-id="{_text(row["id"])}">'
            f'<td class="rank"><span class="badge">published</span></td>'
            f'<td class="time" data-value="{_text(row["time_to_target_s"])}" title="{_text(rule)}">'
            f'{_text(hms(row["time_to_target_s"]))}</td>'
            + "".join(_cost_cell(row, m, False) for m in markets)
            + _published_optional(row, columns, "reported") + entry + hardware
            + _published_optional(row, columns, "rest")
            + f'<td class="date">{_text(row.get("date") or "—")}</td>'
            f'<td class="runs">{log}{epoch}</td></tr>\n')


def time_rows(board: dict) -> Markup:
    """Ranked entries and published rows together, by time to target (published ones unranked)."""
    rows = [(e["time_to_target_s"] is None, e["time_to_target_s"] or 0.0, 0, i, e)
            for i, e in enumerate(board["entries"])]
    rows += [(False, p["time_to_target_s"], 1, i, p) for i, p in enumerate(board["published"])]
    rows.sort(key=lambda r: r[:4])
    markets, columns = board["markets"], board["columns"]
    return Markup("".join(_published_row(r[4], markets, columns) if r[2] else
                          _measured_row(r[4], markets, columns) for r in rows))


def cost_rows(board: dict, market: str) -> Markup:
    """The ranking by cost on one market (board["by_cost"][market])."""
    out = []
    for item in board["by_cost"][market]:
        row = board["entries" if item["kind"] == "measured" else "published"][item["index"]]
        if item["kind"] == "measured":
            out.append(f'<tr class="entry"><td class="rank">{item["rank"]}</td>'
                       + _cost_cell(row, market, True)
                       + f'<td class="time" data-value="{_text(row["time_to_target_s"])}">'
                       f'{_text(hms(row["time_to_target_s"]))}</td>'
                       + _recipe_cell(row) + _hardware_cell(row) + '</tr>\n')
        else:
            entry, hardware = _published_cells(row)
            out.append('<tr class="published-row"><td class="rank"><span class="badge">published</span></td>'
                       + _cost_cell(row, market, False)
                       + f'<td class="time" data-value="{_text(row["time_to_target_s"])}">'
                       f'{_text(hms(row["time_to_target_s"]))}</td>' + entry + hardware + '</tr>\n')
    return Markup("".join(out))


def apart_rows(board: dict) -> Markup:
    """Groups listed apart: not comparable with the board's standard, with the reasons."""
    out = []
    for e in board["apart"]:
        time_s = e["time_to_target_s"]
        target = f'{_text(e["target_metric"])} ≥ {_text(e["target_value"])}'
        why = "".join(f"<li>{_text(reason)}</li>" for reason in e["reasons"])
        out.append(f'<tr class="apart-row" data-group="{_text(e["group_id"])}" data-recipe="{_text(e["recipe"])}">'
                   + _recipe_cell(e) + _hardware_cell(e)
                   + f'<td class="time" data-value="{_text(time_s) if time_s is not None else ""}">'
                   f'{_text(hms(time_s)) if time_s is not None else "did not reach target"}</td>'
                   f'<td class="target">{target}</td><td class="why"><ul>{why}</ul></td>'
                   f'<td class="runs">{_seed_links(e)}</td></tr>\n')
    return Markup("".join(out))
