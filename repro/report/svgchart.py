"""Small line charts written straight as SVG, for the per-run curves and schedules.

matplotlib draws the few aggregate figures (Pareto fronts, history); at a good part of a second a
figure, drawing two per run would make a report of thousands of runs take hours. These charts
take well under a millisecond and carry the same contract: each series is a <g id="…"> and
each data point one <circle> inside it, so tests count points against the data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 420, 252
# the top margin holds the title and, under it, the key: series names and line labels sit off
# the data, where no curve can run through them
LEFT, RIGHT, TOP, BOTTOM = 58, 22, 38, 40
KEY_Y = 30
CHAR_W = 5.6      # average width of a 10 px sans-serif character, to lay the key out


@dataclass
class Series:
    gid: str
    label: str
    color: str
    xs: list[float]
    ys: list[float]


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    hlines: list[tuple[str, float, str]] = field(default_factory=list)   # (gid, y, label)
    vlines: list[tuple[str, float, str]] = field(default_factory=list)   # (gid, x, label)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 × 10^k steps) covering [low, high]."""
    if type(low) is not float or type(high) is not float or not (low and high):
        return _nice_ticks(low, high, count)   # keys would confuse 0.0 with -0.0, 1 with 1.0
    key = (low, high, count)
    ticks = _TICKS.get(key)
    if ticks is None:
        if len(_TICKS) >= 4096:
            _TICKS.clear()
        ticks = _TICKS[key] = _nice_ticks(low, high, count)
    return list(ticks)


_TICKS: dict[tuple, list[float]] = {}   # runs of one recipe share axes: most lookups hit


def _nice_ticks(low: float, high: float, count: int) -> list[float]:
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10)), key=lambda c: abs(math.log(c / raw)))
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 0.5 and len(ticks) < 50:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _fmt(value: float) -> str:
    """Tick text short enough for the axis: 15000 → 15k."""
    if -10_000 < value < 10_000:
        return f"{value:.4g}"
    if math.isnan(value):    # abs(nan) >= 10_000 is False
        return f"{value:.4g}"
    return f"{value / 1000:.4g}k"


_FRAMES: dict[tuple, list[str]] = {}   # axes, grid and titles: shared by runs with the same ticks


def _frame(chart: Chart, x_ticks: list[float], y_ticks: list[float], px, py) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = [f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#888"/>',
           f'<text x="{WIDTH / 2:.1f}" y="15" text-anchor="middle" font-size="12">'
           f'{escape(chart.title)}</text>',
           '<g class="x-axis">']
    for tick in x_ticks:
        x = px(tick)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#eee"/>'
                   f'<text x="{x:.1f}" y="{TOP + plot_h + 13}" text-anchor="middle">{_fmt(tick)}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
               f'{escape(chart.x_label)}</text></g><g class="y-axis">')
    for tick in y_ticks:
        y = py(tick)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#eee"/>'
                   f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    out.append(f'<text transform="translate(12 {TOP + plot_h / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(chart.y_label)}</text></g>')
    return out


def _body(chart: Chart) -> list[str]:
    xs = [x for s in chart.series for x in s.xs] + [v[1] for v in chart.vlines]
    ys = [y for s in chart.series for y in s.ys] + [h[1] for h in chart.hlines]
    x_ticks = nice_ticks(min(xs, default=0.0), max(xs, default=1.0))
    y_ticks = nice_ticks(min(ys, default=0.0), max(ys, default=1.0))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / ((x1 - x0) or 1.0) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (y - y0) / ((y1 - y0) or 1.0) * plot_h

    frame_key = (chart.title, chart.x_label, chart.y_label, tuple(x_ticks), tuple(y_ticks))
    frame = _FRAMES.get(frame_key)
    if frame is None:
        if len(_FRAMES) >= 4096:
            _FRAMES.clear()
        frame = _FRAMES[frame_key] = _frame(chart, x_ticks, y_ticks, px, py)
    out = list(frame)
    key = _Key()
    for gid, value, label in chart.hlines:
        y = py(value)
        out.append(f'<g id={quoteattr(gid)}><line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" '
                   f'y2="{y:.1f}" stroke="#c2410c" stroke-dasharray="5 3"/>'
                   + key.item(label, "#c2410c", "5 3") + '</g>')
    for gid, value, label in chart.vlines:
        x = px(value)
        out.append(f'<g id={quoteattr(gid)}><line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" '
                   f'y2="{TOP + plot_h}" stroke="#666" stroke-dasharray="2 2"/>'
                   + key.item(label, "#666", "2 2") + '</g>')
    # px/py inlined: the points are most of a run page's drawing time
    x_span = (x1 - x0) or 1.0
    y_span = (y1 - y0) or 1.0
    y_base = TOP + plot_h
    for s in chart.series:
        pxs = [f"{LEFT + (x - x0) / x_span * plot_w:.1f}" for x in s.xs]
        pys = [f"{y_base - (y - y0) / y_span * plot_h:.1f}" for y in s.ys]
        points = " ".join([f"{a},{b}" for a, b in zip(pxs, pys)])
        color = quoteattr(s.color)
        out.append(f'<g id={quoteattr(s.gid)} class="series"><polyline points="{points}" fill="none" '
                   f'stroke={color} stroke-width="1.5"/>')
        tail = f'" r="2.5" fill={color}><title>'
        out += [f'<circle cx="{a}" cy="{b}{tail}{_fmt(x)}, {_fmt(y)}</title></circle>'
                for a, b, x, y in zip(pxs, pys, s.xs, s.ys)]
        out.append('</g>')
        if len(chart.series) > 1:
            out.append(key.item(s.label, s.color, None))
    return out


class _Key:
    """The key row above a chart's plot area, items laid out left to right."""

    def __init__(self) -> None:
        self.x = float(LEFT)

    def item(self, label: str, color: str, dash: str | None) -> str:
        """A line sample (dashed like the line it names, solid for a series) and the label."""
        x = self.x
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self.x += 22 + CHAR_W * len(label) + 10
        return (f'<g class="key"><line x1="{x:.1f}" y1="{KEY_Y - 3}" x2="{x + 16:.1f}" y2="{KEY_Y - 3}" '
                f'stroke={quoteattr(color)} stroke-width="1.5"{style}/>'
                f'<text x="{x + 20:.1f}" y="{KEY_Y}" fill={quoteattr(color)}>{escape(label)}</text></g>')


def render_row(charts: list[Chart]) -> str:
    """Charts side by side in one standalone SVG document."""
    total = WIDTH * len(charts)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT}" '
           f'viewBox="0 0 {total} {HEIGHT}" font-family="sans-serif" font-size="10">',
           f'<title>{escape(" · ".join(c.title for c in charts))}</title>']
    for number, chart in enumerate(charts):
        out.append(f'<svg x="{number * WIDTH}" y="0" width="{WIDTH}" height="{HEIGHT}">')
        out += _body(chart)
        out.append('</svg>')
    out.append('</svg>')
    return "\n".join(out)
