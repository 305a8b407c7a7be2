"""A run's curves (accuracy and loss against time) and schedules (LR, momentum, image size per
epoch), from run.json outcome.epochs, as SVG rows drawn by repro.report.svgchart."""
from __future__ import annotations

import math

from repro.report.svgchart import Chart, Series, render_row

_INF = float("inf")
# beyond this a value is no point on a chart (a loss of 1e308 is a diverged run's), and the axis
# arithmetic of such ranges overflows a float: such points are left out
PLOTTABLE = 1e100


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and not math.isnan(value) and abs(value) < PLOTTABLE


def _pairs(epochs: list[dict], x_key: str, y_key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for epoch in epochs:
        x, y = epoch.get(x_key), epoch.get(y_key)
        # exact float/int first (what JSON gives), the general test for anything else; a NaN fails
        # every comparison, so the range test leaves it out too
        if type(y) is float or type(y) is int:
            if not -PLOTTABLE < y < PLOTTABLE:
                continue
        elif not _number(y):
            continue
        if (type(x) is float or type(x) is int) and -PLOTTABLE < x < PLOTTABLE or _number(x):
            xs.append(float(x))
            ys.append(float(y))
    return xs, ys


def curves_svg(run_data: dict) -> str:
    outcome = run_data.get("outcome") or {}
    epochs = outcome.get("epochs") or []
    target = run_data.get("target") or {}
    accuracy = Chart("validation accuracy", "time since run start (s)", "accuracy")
    for key, color in (("top1", "#0b5cad"), ("top5", "#2f855a")):
        xs, ys = _pairs(epochs, "elapsed_s", key)
        if xs:
            accuracy.series.append(Series(f"accuracy-{key}", key, color, xs, ys))
    if isinstance(target.get("value"), (int, float)):
        accuracy.hlines.append(("target", float(target["value"]),
                                f"target {target.get('metric', '')} {target['value']:g}"))
    time_to_target = outcome.get("time_to_target_s")
    if outcome.get("reached") and isinstance(time_to_target, (int, float)):
        accuracy.vlines.append(("time-to-target", float(time_to_target), "target reached"))
    loss = Chart("loss", "time since run start (s)", "loss")
    for key, name, color in (("train_loss", "train", "#7c3aed"), ("eval_loss", "eval", "#b45309")):
        xs, ys = _pairs(epochs, "elapsed_s", key)
        if xs:
            loss.series.append(Series(f"loss-{name}", f"{name} loss", color, xs, ys))
    return render_row([accuracy, loss])


_SCHEDULES: dict[tuple, str] = {}   # runs of one recipe share their schedule: drawn once


def schedule_svg(run_data: dict) -> str:
    epochs = (run_data.get("outcome") or {}).get("epochs") or []
    parts = []
    for key, title, color in (("lr", "learning rate", "#0b5cad"), ("momentum", "momentum", "#2f855a"),
                              ("image_size", "image size (px)", "#b45309")):
        xs, ys = _pairs(epochs, "epoch", key)
        parts.append((key, title, color, xs, ys))
    # the drawing is a function of these numbers alone; zeros stay out of the key (0.0 and -0.0
    # are equal keys but print differently)
    cache_key = tuple((tuple(xs), tuple(ys)) for _, _, _, xs, ys in parts)
    cacheable = all(v for _, _, _, xs, ys in parts for v in (*xs, *ys))
    if cacheable and cache_key in _SCHEDULES:
        return _SCHEDULES[cache_key]
    charts = []
    for key, title, color, xs, ys in parts:
        if xs or key != "image_size":
            chart = Chart(title, "epoch", title)
            chart.series.append(Series(key.replace("_", "-"), title, color, xs, ys))
            charts.append(chart)
    svg = render_row(charts)
    if cacheable:
        if len(_SCHEDULES) >= 1024:
            _SCHEDULES.clear()
        _SCHEDULES[cache_key] = svg
    return svg
