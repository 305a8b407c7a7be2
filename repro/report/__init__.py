"""Static HTML leaderboards built from the run directories on disk (see repro.report.build)."""
from repro.report.build import ReportError, build_context, build_site

__all__ = ["build_site", "build_context", "ReportError"]
