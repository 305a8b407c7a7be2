"""The Jinja environment every page is rendered with: the package's templates, the report's filters."""
from __future__ import annotations

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    Template,
    select_autoescape,
)

from repro.report.board_rows import apart_rows, cost_rows, time_rows
from repro.report.format import FILTERS


class ReportEnvironment(Environment):
    """`row.key` in a template reads a dict item first. Jinja's default tries the attribute first
    and falls back to the item, which for the leaderboard's plain dicts costs an exception per
    lookup, a large share of rendering a big board."""

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def make_environment() -> Environment:
    env = ReportEnvironment(loader=PackageLoader("repro.report", "templates"),
                            autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
                            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                            # templates ship in the package and do not change during a build;
                            # auto_reload would stat base.html.j2 twice per page rendered
                            auto_reload=False)
    env.filters.update(FILTERS)
    env.globals.update(time_rows=time_rows, cost_rows=cost_rows, apart_rows=apart_rows)
    return env


_RUN_TEMPLATE: Template | None = None


def run_template() -> Template:
    """run.html.j2, compiled once per process (processes forked later inherit it)."""
    global _RUN_TEMPLATE
    if _RUN_TEMPLATE is None:
        _RUN_TEMPLATE = make_environment().get_template("run.html.j2")
    return _RUN_TEMPLATE
