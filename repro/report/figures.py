"""The matplotlib figures of a site, in plots/: which ones its boards and history need, which are
already drawn from the same data (plots/.drawn.json), and drawing the rest, in processes of their
own while the caller writes the pages when the site is big enough for that to pay.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from repro.report.plots import history_svg, pareto_points, pareto_svg
from repro.report.pool import Background, can_fork, start_map

PLOT_VERSION = "4"  # bump when a drawing changes, so cached figures are redrawn
PLOT_PROCESSES = 2


class DrawnCache:
    """Which data each SVG in plots/ was drawn from: a figure whose data did not change since the
    last build of this site is not drawn again (matplotlib takes a good part of a second a figure)."""

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / "plots" / ".drawn.json"
        try:
            self.previous = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            self.previous = {}
        self.current: dict[str, str] = {}
        self.pending: list[tuple[Path, Callable[[], str]]] = []

    def draw(self, name: str, data, render) -> None:
        """Queue `render` for `name` unless the figure there was drawn from the same data."""
        # repr, not json.dumps: the data is plain lists, tuples, strings and floats, whose repr is
        # exact and stable, and a board's points are tens of thousands of numbers
        key = hashlib.sha256(repr([PLOT_VERSION, data]).encode()).hexdigest()
        target = self.out_dir / name
        if self.previous.get(name) != key or not target.is_file():
            self.pending.append((target, render))
        self.current[name] = key

    def draw_one(self, index: int) -> None:
        target, render = self.pending[index]
        target.write_text(render(), encoding="utf-8")

    def draw_pending(self) -> None:
        for index in range(len(self.pending)):
            self.draw_one(index)
        self.pending = []

    def save(self) -> None:
        self.path.write_text(json.dumps(self.current, sort_keys=True), encoding="utf-8")


class PlotJob:
    """Figures being drawn: `finish()` waits for them (re-raising a drawing error) and then saves
    the record of what was drawn; `cancel()` stops a background drawing and saves nothing."""

    def __init__(self, cache: DrawnCache, drawing: Background | None = None):
        self.cache, self.drawing = cache, drawing

    def finish(self) -> None:
        if self.drawing is not None:
            drawing, self.drawing = self.drawing, None
            drawing.wait()
        self.cache.save()

    def cancel(self) -> None:
        if self.drawing is not None:
            drawing, self.drawing = self.drawing, None
            drawing.cancel()


def _queue_figures(context: dict, cache: DrawnCache) -> None:
    """A Pareto SVG per task and market with a priced entry, a history SVG per series with two
    measured versions: queued in `cache`, the Pareto fronts (the most points) first; sets
    board['pareto'][market] and series['svg']."""
    for board in context["tasks"]:
        board["pareto"] = {}
        for market in board["markets"]:
            points = pareto_points(board, market)
            if not points["measured"] and not points["published"]:
                continue
            name = f"plots/pareto-{board['task']}-{market}.svg"
            cache.draw(name, [board["title"], market, points], partial(pareto_svg, board, market))
            board["pareto"][market] = name
    for number, series in enumerate(context["history"], start=1):
        if sum(1 for v in series["versions"] if v["olympic_mean_s"] is not None) >= 2:
            name = f"plots/history-{number}.svg"
            data = [series["recipe"], series["hardware"],
                    [(v["git_sha"], v["olympic_mean_s"], v["min_s"], v["max_s"], v["regression"])
                     for v in series["versions"]]]
            cache.draw(name, data, partial(history_svg, series))
            series["svg"] = name


def write_plots(context: dict, out_dir: Path, *, background: bool = False) -> PlotJob:
    """The figures the context's boards and history need, in out_dir/plots (see _queue_figures).

    The caller must finish() the returned job before the site is done: with background=True the
    figures are drawn in forked processes meanwhile, one figure at a time each, while the caller
    writes the pages. The record of what was drawn is saved only once every figure is on disk."""
    (Path(out_dir) / "plots").mkdir(parents=True, exist_ok=True)
    cache = DrawnCache(out_dir)
    _queue_figures(context, cache)
    if background and cache.pending and can_fork():
        processes = min(PLOT_PROCESSES, len(cache.pending), os.cpu_count() or 1)
        return PlotJob(cache, start_map(cache.draw_one, range(len(cache.pending)), processes))
    cache.draw_pending()
    return PlotJob(cache)
