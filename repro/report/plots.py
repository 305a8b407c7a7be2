"""matplotlib (Agg) → SVG text for the aggregate figures: cost against time with the Pareto front
per task and market, and time to target across code versions. (Per-run curves are drawn by repro.report.run_charts; which
figures a site needs and which are already drawn is repro.report.figures' business.)

Each set of data points is one scatter drawn with a `gid`, which the SVG backend writes as the id of
its <g> element; inside it every point is one <use> (or one <path> when there are few), so a test
can count the points the data says. Connecting lines are separate artists with their own ids.
Text stays text (svg.fonttype none) and ids are salted with a fixed string, so the same data gives
the same file.
"""
from __future__ import annotations

import io
import math
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.ticker import (  # noqa: E402
    FixedFormatter,
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullLocator,
)


STYLE = {"svg.fonttype": "none", "svg.hashsalt": "repro-report", "font.size": 9,
         "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 72}


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points no other point beats on both time and cost, ordered by time."""
    front = []
    best_cost = float("inf")
    for time_s, cost in sorted(points):
        if cost < best_cost:
            front.append((time_s, cost))
            best_cost = cost
    return front


# Ticks of the time axis: seconds people read without arithmetic
TIME_TICKS = ((0.1, "0.1 s"), (1, "1 s"), (10, "10 s"), (60, "1 min"), (600, "10 min"), (3600, "1 h"),
              (36000, "10 h"), (360000, "100 h"))
# Over this many points a scatter is drawn as an image inside the SVG: thousands of vector
# markers make a figure slow to write and to open, and add nothing a reader can tell apart
RASTER_OVER = 400


def pareto_points(board: dict, market: str) -> dict[str, list[tuple[float, float]]]:
    """(time to target s, USD) on `market` of the board's ranked entries and published rows."""
    def points(rows: list[dict]) -> list[tuple[float, float]]:
        pairs = [(r["time_to_target_s"], float(r["market_costs"][market]["usd"]))
                 for r in rows if r["time_to_target_s"] and market in r["market_costs"]]
        # a log axis has no place for $0, nor any axis for NaN
        return [(t, usd) for t, usd in pairs if usd > 0 and math.isfinite(usd) and math.isfinite(t)]
    return {"measured": points(board["entries"]), "published": points(board["published"])}


def _decades(values: list[float]) -> tuple[float, float]:
    """Log-axis limits: whole decades around the values, at least one decade wide."""
    low = 10 ** math.floor(math.log10(min(values) * 0.8))
    high = 10 ** math.ceil(math.log10(max(values) * 1.25))
    return low, high


def _usd_tick(value: float, _position=None) -> str:
    """`$0.0001`, `$1`, `$1,000`: a decade tick as a plain dollar amount (no 1e-05)."""
    if value <= 0:
        return ""
    return f"${Decimal(repr(float(value))).normalize():,f}"


def _axes(ax, xs: list[float], ys: list[float], market_label: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    x_low, x_high = _decades(xs)
    ticks = [(t, text) for t, text in TIME_TICKS if x_low <= t <= x_high]
    ax.set_xlim(x_low, x_high)
    ax.xaxis.set_major_locator(FixedLocator([t for t, _ in ticks]))
    ax.xaxis.set_major_formatter(FixedFormatter([text for _, text in ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_ylim(*_decades(ys))
    ax.yaxis.set_major_locator(LogLocator(base=10))
    ax.yaxis.set_major_formatter(FuncFormatter(_usd_tick))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("time to target (log scale)")
    ax.set_ylabel(f"cost, {market_label} (USD, log scale)")


def pareto_svg(board: dict, market: str) -> str:
    with plt.rc_context(STYLE):
        return _svg(pareto_figure(board, market))


def pareto_figure(board: dict, market: str):
    """Cost on one market against time, measured and published points told apart, the Pareto
    front over both drawn; the legend sits under the axes, off the data. (Call inside
    rc_context(STYLE); the caller closes the figure.)"""
    points = pareto_points(board, market)
    measured, published = points["measured"], points["published"]
    label = dict(zip(board["markets"], board["market_labels"])).get(market, market)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.26, top=0.92)
    ax.scatter([p[0] for p in measured], [p[1] for p in measured], s=22, color="#0b5cad",
               label="measured here" if measured else None, gid="points", zorder=3,
               rasterized=len(measured) > RASTER_OVER)
    ax.scatter([p[0] for p in published], [p[1] for p in published], s=34, marker="D",
               facecolors="none", edgecolors="#6b4e16", gid="published", zorder=3,
               label="published, priced today" if published else None)
    front = pareto_front(measured + published)
    ax.plot([p[0] for p in front], [p[1] for p in front], "-", color="#c2410c", lw=1.2,
            gid="pareto-front-line", zorder=4, drawstyle="steps-post")
    ax.scatter([p[0] for p in front], [p[1] for p in front], s=70, facecolors="none",
               edgecolors="#c2410c", label="Pareto front", gid="pareto-front", zorder=4)
    _axes(ax, [p[0] for p in measured + published], [p[1] for p in measured + published], label)
    ax.set_title(f"{board['title']}: cost on {label} against time")
    fig.legend(loc="lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def history_svg(series: dict) -> str:
    """Olympic-mean time to target per code version, spread as error bars, regressions marked."""
    versions = [v for v in series["versions"] if v["olympic_mean_s"] is not None]
    xs = list(range(len(versions)))
    ys = [v["olympic_mean_s"] for v in versions]
    lows = [v["olympic_mean_s"] - (v["min_s"] if v["min_s"] is not None else v["olympic_mean_s"])
            for v in versions]
    highs = [(v["max_s"] if v["max_s"] is not None else v["olympic_mean_s"]) - v["olympic_mean_s"]
             for v in versions]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 2.8))
        fig.subplots_adjust(left=0.12, right=0.97, bottom=0.27, top=0.88)
        ax.errorbar(xs, ys, yerr=[lows, highs], fmt="none", ecolor="#999", capsize=3)
        ax.plot(xs, ys, "-", color="#0b5cad", gid="history-line")
        ax.scatter(xs, ys, s=20, color="#0b5cad", gid="history-mean", zorder=3)
        bad = [(x, v["olympic_mean_s"]) for x, v in zip(xs, versions) if v["regression"]]
        if bad:
            ax.scatter([b[0] for b in bad], [b[1] for b in bad], s=80, marker="x",
                       color="#a4251b", gid="regressions", label="regression", zorder=4)
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        ax.set_xticks(xs, [(v["git_sha"] or "?")[:8] for v in versions], rotation=30)
        ax.set_ylabel("time to target (s)")
        ax.set_title(f"{series['recipe']} on {series['hardware']}", loc="left")
        return _svg(fig)
