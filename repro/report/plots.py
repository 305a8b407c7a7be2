"""matplotlib (Agg) → SVG text for the aggregate figures: time-vs-cost Pareto front per task and
time to target across code versions. (Per-run curves are drawn by repro.report.run_charts; which
figures a site needs and which are already drawn is repro.report.figures' business.)

Each set of data points is one scatter drawn with a `gid`, which the SVG backend writes as the id of
its <g> element; inside it every point is one <use> (or one <path> when there are few), so a test
can count the points the data says. Connecting lines are separate artists with their own ids.
Text stays text (svg.fonttype none) and ids are salted with a fixed string, so the same data gives
the same file.
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from repro.pricing.money import to_decimal  # noqa: E402

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


def _maybe_log(ax, xs: list[float], ys: list[float]) -> None:
    if xs and min(xs) > 0 and max(xs) / min(xs) > 20:
        ax.set_xscale("log")
    if ys and min(ys) > 0 and max(ys) / min(ys) > 20:
        ax.set_yscale("log")


def pareto_market(board: dict) -> str | None:
    """The cost column most entries are priced in (ties go to the column order)."""
    best, best_n = None, 0
    for key in board["cost_columns"]:
        n = sum(1 for e in board["entries"]
                if e["time_to_target_s"] is not None and e["costs"].get(key))
        if n > best_n:
            best, best_n = key, n
    return best


def pareto_svg(board: dict, market: str) -> str:
    points = [(e["time_to_target_s"], float(to_decimal(e["costs"][market]["usd"])))
              for e in board["entries"]
              if e["time_to_target_s"] is not None and e["costs"].get(market)]
    published = [(p["time_to_target_s"], float(to_decimal(p["cost_usd"])))
                 for p in board["published"] if p.get("cost_usd") and p.get("time_to_target_s")]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        fig.subplots_adjust(left=0.15, right=0.97, bottom=0.14, top=0.9)
        ax.scatter([p[0] for p in points], [p[1] for p in points], s=22, color="#0b5cad",
                   label="measured entries", gid="points", zorder=3)
        front = pareto_front(points)
        ax.plot([p[0] for p in front], [p[1] for p in front], "-", color="#c2410c", lw=1.2,
                gid="pareto-front-line", zorder=4)
        ax.scatter([p[0] for p in front], [p[1] for p in front], s=60, facecolors="none",
                   edgecolors="#c2410c", label="Pareto front", gid="pareto-front", zorder=4)
        if published:
            ax.scatter([p[0] for p in published], [p[1] for p in published], s=30,
                       marker="D", facecolors="none", edgecolors="#666", label="published",
                       gid="published", zorder=2)
        xs = [p[0] for p in points + published]
        ys = [p[1] for p in points + published]
        _maybe_log(ax, xs, ys)
        ax.set_xlabel("time to target (s)")
        ax.set_ylabel(f"cost, {market} (USD)")
        ax.set_title(f"{board['title']}: time vs cost")
        # a fixed corner: loc="best" scores every candidate place against all the points, slow on
        # a board of thousands of entries; upper left (fast but dear) is where time × price puts
        # fewest
        ax.legend(loc="upper left", fontsize=8)
        return _svg(fig)


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
            ax.legend(loc="best", fontsize=8)
        ax.set_xticks(xs, [(v["git_sha"] or "?")[:8] for v in versions], rotation=30)
        ax.set_ylabel("time to target (s)")
        ax.set_title(f"{series['recipe']} on {series['hardware']}")
        return _svg(fig)
