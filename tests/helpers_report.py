"""Shared by the report tests: build the golden site once, read its tables back."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from bs4 import BeautifulSoup

GOLDEN = Path(__file__).resolve().parent / "golden" / "results"


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


def board_rows(page: BeautifulSoup, task: str) -> list[dict]:
    """The leaderboard rows of one task as {column header: cell text}, in page order."""
    table = page.find("table", id=f"board-{task}")
    headers = [th.get_text(" ", strip=True) for th in table.thead.find_all("th")]
    rows = []
    for tr in table.tbody.find_all("tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        rows.append(dict(zip(headers, cells)))
    return rows


def golden_runs() -> list[dict]:
    """Every golden run.json with its cost.json (or None), read straight from the tree."""
    runs = []
    for run_json in sorted(GOLDEN.glob("*/*/run.json")):
        data = json.loads(run_json.read_text())
        cost_path = run_json.parent / "cost.json"
        data["_cost"] = json.loads(cost_path.read_text()) if cost_path.exists() else None
        data["_dir"] = run_json.parent
        runs.append(data)
    return runs


def benchmark_usd(run: dict, provider: str, market: str) -> Decimal:
    for row in run["_cost"]["rows"]:
        if row["provider"] == provider and row["market"] == market:
            return Decimal(row["benchmark_usd"])
    raise KeyError((run["run_id"], provider, market))
