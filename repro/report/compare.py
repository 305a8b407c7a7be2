"""`repro compare A B`: two runs or two groups side by side, from their run directories alone.

Each side is a run (a run directory, or a run id under the results folder) or a group (a group id,
or a group-<id>.json file): the runs one `--runs N` started. Shown: the settings that differ, the
provenance (git, image, torch, GPU, data checksum …) with what differs marked, and time to target
and cost on each market with the ratio B / A (above 1: B is slower or dearer).
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from repro.harness import store
from repro.harness.stats import summarize
from repro.pricing.money import to_decimal
from repro.report.comparable import counted_time, flatten
from repro.report.environment import make_environment
from repro.report.leaderboard import group_costs
from repro.report.markets import LABELS, MARKETS, cheapest
from repro.report.summary import summarize_run

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
STATIC_DIR = Path(__file__).resolve().parent / "static"
PROVENANCE = ("git_sha", "git_dirty", "image_digest", "torch", "cuda", "cudnn", "nccl", "driver", "python")


class CompareError(ValueError):
    """A side names no run or group; the message says what to give instead."""


def _run_dirs_of_group(results_dir: Path, group_id: str) -> list[Path]:
    for path in sorted(results_dir.glob(f"*/{store.GROUP_PREFIX}{group_id}.json")):
        return _dirs_from_group_file(path)
    return [record.path for record in store.list_runs(results_dir)
            if record.data.get("group_id") == group_id]


def _dirs_from_group_file(path: Path) -> list[Path]:
    doc = store.read_json(path)
    ids = [e.get("run_id") for e in doc.get("runs", []) if isinstance(e, dict)]
    return [path.parent / i for i in ids if isinstance(i, str) and (path.parent / i / store.RUN_FILE).is_file()]


def resolve(ref: str, results_dir: Path) -> tuple[str, str, list[Path]]:
    """(kind "run" or "group", its id, its run directories) for what the user named."""
    path = Path(ref)
    if (path / store.RUN_FILE).is_file():
        return "run", path.name, [path]
    if path.is_file() and path.name.startswith(store.GROUP_PREFIX):
        return "group", path.stem[len(store.GROUP_PREFIX):], _dirs_from_group_file(path)
    if NAME.fullmatch(ref) and results_dir.is_dir():     # an id: never a path or a glob pattern
        runs = [d for d in sorted(results_dir.glob(f"*/{ref}")) if (d / store.RUN_FILE).is_file()]
        if runs:
            return "run", ref, runs[:1]
        members = _run_dirs_of_group(results_dir, ref)
        if members:
            return "group", ref, members
    raise CompareError(f"{ref!r} is no run directory, group file, run id or group id under {results_dir}; "
                       "see `repro runs --results DIR` for the runs there")


def _value(values: list[Any]) -> Any:
    distinct = list(dict.fromkeys(map(str, values)))
    return values[0] if len(distinct) == 1 else " / ".join(distinct)


def _provenance(records: list[dict], summaries: list[dict]) -> dict[str, Any]:
    prov = [r.get("provenance") if isinstance(r.get("provenance"), dict) else {} for r in records]
    data = {key: _value([p.get(key) for p in prov]) for key in PROVENANCE}
    datasets = [p.get("dataset") if isinstance(p.get("dataset"), dict) else {} for p in prov]
    data["dataset.checksum"] = _value([d.get("checksum") for d in datasets])
    data["dataset.verified"] = _value([r.get("data_verified") for r in records])
    data["hardware"] = _value([s["hardware"] for s in summaries])
    data["gpu_name"] = _value([(r.get("hardware") or {}).get("gpu_name") for r in records])
    data["price_snapshot"] = _value([s["snapshot_id"] for s in summaries])
    return data


def load_side(ref: str, results_dir: Path) -> dict[str, Any]:
    kind, ident, dirs = resolve(ref, Path(results_dir))
    records = [store.load_run(d) for d in dirs]
    errors: list[str] = []
    summaries = [summarize_run(r, errors) for r in records]
    times = [counted_time(s) for s in summaries]
    score = summarize(times)
    settings = [flatten(r.data.get("config")) for r in records]
    keys = sorted({k for s in settings for k in s})
    return {
        "ref": ref, "kind": kind, "id": ident, "recipe": summaries[0]["recipe"], "task": summaries[0]["task"],
        "target": f"{summaries[0]['target_metric']} ≥ {summaries[0]['target_value']}",
        "runs": [{"run_id": s["run_id"], "seed": s["seed"], "status": s["status"],
                  "time_to_target_s": s["time_to_target_s"], "dir": s["source_dir"]} for s in summaries],
        "time_to_target_s": score.olympic_mean_s, "converged": score.converged, "n": score.n,
        "market_costs": {market: {**cost, "usd": to_decimal(cost["usd"])} for market, cost in
                         cheapest(group_costs([s for s, t in zip(summaries, times) if t is not None])).items()},
        "settings": {k: _value([s.get(k) for s in settings]) for k in keys},
        "provenance": _provenance([r.data for r in records], summaries), "errors": errors,
    }


def _ratio(a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    a, b = (Decimal(str(a)), Decimal(str(b)))
    return float(b / a) if a else None


def compare(ref_a: str, ref_b: str, results_dir: Path) -> dict[str, Any]:
    """Both sides and their differences (CompareError when a side names nothing)."""
    a, b = load_side(ref_a, results_dir), load_side(ref_b, results_dir)
    keys = sorted(set(a["settings"]) | set(b["settings"]))
    settings = [{"key": k, "a": a["settings"].get(k), "b": b["settings"].get(k)} for k in keys
                if str(a["settings"].get(k)) != str(b["settings"].get(k))]
    provenance = [{"key": k, "a": a["provenance"][k], "b": b["provenance"][k],
                   "differs": str(a["provenance"][k]) != str(b["provenance"][k])} for k in a["provenance"]]
    metrics = [{"what": "time to target (s)", "a": a["time_to_target_s"], "b": b["time_to_target_s"],
                "ratio": _ratio(a["time_to_target_s"], b["time_to_target_s"]), "unit": "s"}]
    for market in MARKETS:
        usd_a = (a["market_costs"].get(market) or {}).get("usd")
        usd_b = (b["market_costs"].get(market) or {}).get("usd")
        if usd_a is not None or usd_b is not None:
            metrics.append({"what": f"cost, {LABELS[market]}", "a": usd_a, "b": usd_b,
                            "ratio": _ratio(usd_a, usd_b), "unit": "usd"})
    return {"a": a, "b": b, "settings": settings, "provenance": provenance, "metrics": metrics}


def render_html(result: dict[str, Any]) -> str:
    """The comparison as one self-contained HTML page (the stylesheet inline)."""
    css = (STATIC_DIR / "style.css").read_text(encoding="utf-8")
    return make_environment().get_template("compare.html.j2").render(cmp=result, css=css, root="")
