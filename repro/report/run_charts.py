"""A run's curves (accuracy and loss against time) and schedules (LR, momentum, image size per
epoch), from run.json outcome.epochs, as SVG rows drawn by repro.report.svgchart."""
from __future__ import annotations

from repro.report.svgchart import Chart, Series, render_row


def _pairs(epochs: list[dict], x_key: str, y_key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for epoch in epochs:
        x, y = epoch.get(x_key), epoch.get(y_key)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) \
                and not isinstance(y, bool) and y == y and abs(y) != float("inf"):
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


def schedule_svg(run_data: dict) -> str:
    epochs = (run_data.get("outcome") or {}).get("epochs") or []
    charts = []
    for key, title, color in (("lr", "learning rate", "#0b5cad"), ("momentum", "momentum", "#2f855a"),
                              ("image_size", "image size (px)", "#b45309")):
        xs, ys = _pairs(epochs, "epoch", key)
        if xs or key != "image_size":
            chart = Chart(title, "epoch", title)
            chart.series.append(Series(key.replace("_", "-"), title, color, xs, ys))
            charts.append(chart)
    return render_row(charts)
