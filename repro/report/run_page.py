"""One run → its page's HTML: curves, schedule, epochs, cost rows, provenance.

A pure function of the run's summary and run.json; where the page and the run's files go is
repro.report.pages' business. The tables are formatted here rather than by filters in the template:
at a few dozen epochs a run, per-cell lookups and filter calls would be most of a page's render.
"""
from __future__ import annotations

import json
import shlex
from numbers import Number

from jinja2 import Template
from jinja2.exceptions import UndefinedError
from markupsafe import Markup

from repro.pricing.money import format_usd
from repro.report.format import duration, percent, safe_url, usd_rate
from repro.report.format import html_text as _text
from repro.report.run_charts import curves_svg


def flatten(value, prefix: str = "") -> list[tuple[str, str]]:
    """Nested provenance → (dotted key, text) rows, in the order the record has them."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            rows += flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and prefix.endswith("command"):
        rows.append((prefix, shlex.join(str(v) for v in value)))
    elif isinstance(value, list):
        rows.append((prefix, ", ".join(str(v) for v in value)))
    else:
        rows.append((prefix, "—" if value is None else str(value)))
    return rows


def _required(epoch, key: str):
    """An epoch field the table cannot do without: missing, the page fails as the template's
    strict undefined made it fail when it looked the field up itself."""
    try:
        return epoch[key]
    except (KeyError, TypeError, IndexError):
        raise UndefinedError(f"{type(epoch).__name__} object has no attribute {key!r}") from None


def _fixed(pattern: str, value) -> str:
    """`pattern % value` for numbers (Jinja's `is number`: bools and Decimals too), else —."""
    if type(value) is float or type(value) is int or isinstance(value, Number):
        return pattern % (value,)
    return "—"


def _percent2(value) -> str:
    if type(value) is float or type(value) is int or isinstance(value, Number):
        return percent(value, 2)
    return "—"


def _or_dash(value) -> str:
    return _text(value) if value else "—"


_EPOCH_ROW = ("<tr><td>{}</td><td>{}</td><td>{}</td>\n"
              "    <td>{}</td><td>{}</td>\n"
              "    <td>{}</td><td>{}</td>\n"
              "    <td>{}</td><td>{}</td>\n"
              "    <td>{}</td><td>{}</td></tr>")


def epoch_rows(epochs: list) -> Markup:
    """The epochs table's rows, as HTML. Values taken as they are get escaped; formatted numbers
    and dashes need no escaping."""
    rows = []
    for e in epochs:
        number, elapsed = _required(e, "epoch"), _required(e, "elapsed_s")
        image_size, batch_size = _required(e, "image_size"), _required(e, "batch_size")
        get = e.get
        rows.append(_EPOCH_ROW.format(
            _text(number), _text(duration(elapsed)), _fixed("%.4f", get("train_loss")),
            _fixed("%.4f", get("eval_loss")), _percent2(get("top1")),
            _percent2(get("top5")), _fixed("%.4g", get("lr")),
            _fixed("%.3g", get("momentum")),
            _text(image_size) if image_size is not None else "—",
            _text(batch_size) if batch_size is not None else "—",
            _fixed("%.0f", get("images_per_s"))))
    return Markup("\n  ".join(rows))


_COST_ROW = ('<tr class="cost-row"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\n'
             "    <td>{}</td><td>{} ({})</td>\n"
             "    <td>{} ({})</td><td>{}</td>\n"
             "    <td>{}</td></tr>")


def cost_rows(costs: list[dict], unmatched: list) -> Markup:
    """The cost table's rows (one per offer priced, one per market with no offer), as HTML."""
    rows = []
    for c in costs:
        url = safe_url(c.get("source"))
        if url:
            source = f'<a href="{_text(url)}">{_text(c.get("fetched_at") or "source")}</a>'
        else:
            source = f'{_text(c.get("source") or "—")} {_text(c.get("fetched_at") or "")}'
        rows.append(_COST_ROW.format(
            _text(c.get("provider")), _text(c.get("market")), _text(c.get("instance_type")),
            _or_dash(c.get("region")), _text(usd_rate(c.get("usd_per_hour"))),
            _text(format_usd(c.get("benchmark_usd"))), _text(duration(c.get("benchmark_seconds"))),
            _text(format_usd(c.get("billed_usd"))), _text(duration(c.get("billed_seconds"))),
            _or_dash(c.get("billing_rule")), source))
    for u in unmatched:
        get = u.get if isinstance(u, dict) else (lambda key: _required(u, key))
        rows.append(f'<tr class="unmatched"><td>{_text(get("provider"))}</td>'
                    f'<td>{_text(get("market"))}</td><td colspan="7">no offer: '
                    f'{_text(get("reason"))}</td></tr>')
    return Markup("\n  ".join(rows))


_SEGMENT_ROW = ("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\n"
                "    <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>")


def segment_rows(segments: list) -> Markup:
    """One row per process that worked on the run (a resumed run has several): when it ran, how it
    ended, the seconds it ran, those counted in the run's time and those lost (work after its last
    checkpoint), and the downtime before it."""
    rows = []
    for seg in segments:
        get = seg.get
        rows.append(_SEGMENT_ROW.format(
            _text(get("segment")), _text(get("started_at") or "—"), _text(get("ended_at") or "—"),
            _text(get("status")), _text(duration(get("run_s"))), _text(duration(get("counted_s"))),
            _text(duration(get("lost_s"))), _text(duration(get("downtime_before_s")))))
    return Markup("\n  ".join(rows))


def provenance_rows(provenance: dict) -> Markup:
    return Markup("\n  ".join(f"<tr><th>{_text(key)}</th><td><code>{_text(value)}</code></td></tr>"
                              for key, value in flatten(provenance)))


def render_run_page(template: Template, run: dict, data: dict, files: list[tuple[str, str]],
                    schedule_href: str) -> str:
    """The page of a run: `run` its summary, `data` its run.json, `files` (name, href) of the
    run's files placed beside the page, `schedule_href` where its schedule figure is."""
    epochs = (data.get("outcome") or {}).get("epochs") or []
    segments = data.get("segments") or []
    return template.render(
        root="../" * run["page"].count("/"), run=run, data=data, epochs=epochs,
        epoch_rows=epoch_rows(epochs), files=files,
        cost_rows=cost_rows(run["costs"], run["unmatched"]), schedule_href=schedule_href,
        curves_svg=Markup(curves_svg(data)) if epochs else None,
        provenance_rows=provenance_rows(data.get("provenance") or {}),
        segments=segments, segment_rows=segment_rows(segments),
        lost_s=(data.get("outcome") or {}).get("lost_s"),
        config_json=json.dumps(data.get("config"), indent=2, sort_keys=True, default=str),
        has_plots=bool(epochs))
