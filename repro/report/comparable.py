"""Which runs a leaderboard ranks: a run of the board's task, at the task's standard target, with
the recipe's scored settings as shipped, on real data whose checksum matched the official one.
Every other run is listed apart with its reasons ("target 0.05 instead of 0.94", "epochs shortened
to 1 (recipe: 10)", "data checksum unverified"), on the page and in index.json.

Scored settings are the whole resolved recipe except what names it or fits it to a machine
(UNSCORED): a named recipe run with other settings is another recipe, and its time is not the
named recipe's time. A recipe that repro does not ship has nothing to compare against; it is
judged on its target and data alone.
"""
from __future__ import annotations

import json
import math
from typing import Any

from repro.recipes import DIGITS, RECIPES

# Standard targets per task, with where each comes from. Titles and goals are what a board shows.
TASKS: dict[str, dict[str, Any]] = {
    "digits": {"title": "digits", "metric": DIGITS.target_metric, "value": DIGITS.target,
               "goal": f"{DIGITS.target * 100:g} % top-1 on scikit-learn's 8×8 digits",
               "source": "the digits recipe's own target (repro/recipes/digits.py)"},
    "cifar10": {"title": "CIFAR-10 94 %", "metric": "top1", "value": 0.94,
                "goal": "94 % top-1 test accuracy",
                "source": "DAWNBench CIFAR10 training rule (stanford-futuredata/dawn-bench-entries README)"},
    "imagenet-top5": {"title": "ImageNet 93 % top-5", "metric": "top5", "value": 0.93,
                      "goal": "93 % top-5 validation accuracy",
                      "source": "DAWNBench ImageNet training rule (stanford-futuredata/dawn-bench-entries README)"},
    "imagenet-top1": {"title": "ImageNet 75.9 % top-1", "metric": "top1", "value": 0.759,
                      "goal": "75.9 % top-1 validation accuracy (MLPerf ResNet-50)",
                      "source": "MLPerf Training rules, ResNet-50 quality target "
                                "(mlcommons/training_policies training_rules.adoc)"},
}

# Settings that name a recipe or fit it to a machine, not what it does: they may differ freely.
UNSCORED = frozenset({"name", "description", "published_claim", "published_source", "seed", "gpus",
                      "data.workers", "data.eval_batch_size"})
# judged against the task's standard target, not against the recipe (see _target_reasons)
TARGET_KEYS = frozenset({"target", "target_metric"})
MAX_LISTED_CHANGES = 4

_SHIPPED: dict[str, tuple[str, dict[str, Any]]] = {}   # recipe name → (hash, flattened settings)


def counted_time(run: dict) -> float | None:
    """A run summary's time to target when it counts: finished, reached, and a finite positive
    number (a hand-edited or damaged record may hold NaN or Infinity)."""
    time_s = run["time_to_target_s"]
    if run["status"] != "finished" or not run["reached"] or isinstance(time_s, bool) \
            or not isinstance(time_s, (int, float)) or not math.isfinite(time_s) or time_s <= 0:
        return None
    return time_s


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    """{"optim.peak_lr": 1.5, …}: nested settings as dotted keys, tuples as lists (as JSON has them)."""
    flat: dict[str, Any] = {}
    if not isinstance(config, dict):
        return flat
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _shipped(recipe: str) -> tuple[str, dict[str, Any]] | None:
    if recipe not in RECIPES:
        return None
    if recipe not in _SHIPPED:
        shipped = RECIPES[recipe]
        as_json = json.loads(json.dumps(shipped.to_dict(), default=list))
        _SHIPPED[recipe] = (shipped.hash(), flatten(as_json))
    return _SHIPPED[recipe]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return a == b or (math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=1e-12))
    return a == b


def settings_changes(recipe: Any, config: Any, recipe_hash: Any) -> dict[str, Any]:
    """How a run's recorded settings differ from the shipped recipe of its name: {"against": the
    shipped recipe's hash (None when repro ships no recipe of that name), "changes": [[key, run's
    value, recipe's value], …] (the first MAX_LISTED_CHANGES), "more": how many others}.

    Keys missing on either side are not judged: a record from another repro version may lack a
    setting this one has, and that says nothing about what the run did."""
    shipped = _shipped(recipe) if isinstance(recipe, str) else None
    if shipped is None:
        return {"against": None, "changes": [], "more": 0}
    shipped_hash, shipped_flat = shipped
    if recipe_hash == shipped_hash:
        return {"against": shipped_hash, "changes": [], "more": 0}
    changes = [[key, value, shipped_flat[key]] for key, value in flatten(config).items()
               if key not in UNSCORED and key not in TARGET_KEYS and key in shipped_flat
               and not _same(value, shipped_flat[key])]
    changes.sort(key=lambda change: change[0] != "epochs")     # the change people make most, first
    return {"against": shipped_hash, "changes": changes[:MAX_LISTED_CHANGES],
            "more": max(0, len(changes) - MAX_LISTED_CHANGES)}


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _change_reason(key: str, value: Any, shipped: Any) -> str:
    if key == "epochs" and isinstance(value, int) and isinstance(shipped, int):
        verb = "shortened" if value < shipped else "lengthened"
        return f"epochs {verb} to {value} (recipe: {shipped})"
    return f"{key} {_text(value)} instead of {_text(shipped)}"


def _target_reasons(run: dict, standard: dict | None) -> list[str]:
    if standard is None:
        return [f"task {run['task']!r} has no standard target to rank at"]
    metric, value = run.get("target_metric"), run.get("target_value")
    if metric != standard["metric"]:
        return [f"target {metric} {_text(value)} instead of {standard['metric']} {_text(standard['value'])}"]
    if not isinstance(value, (int, float)) or isinstance(value, bool) \
            or not math.isclose(value, standard["value"], rel_tol=0, abs_tol=1e-9):
        return [f"target {_text(value)} instead of {_text(standard['value'])}"]
    return []


def _settings_reasons(run: dict) -> list[str]:
    settings = run.get("settings") or {}
    against = settings.get("against")
    if against is None:
        return []
    current = _shipped(run["recipe"])
    if current is not None and current[0] != against:
        # judged against an older definition of the recipe (a cached summary): the hashes still tell
        if run.get("recipe_hash") == current[0]:
            return []
        return [f"settings differ from recipe {run['recipe']} as shipped (recipe hash)"]
    reasons = [_change_reason(*change) for change in settings.get("changes") or []]
    more = settings.get("more") or 0
    if more:
        reasons.append(f"{more} more setting{'s' if more > 1 else ''} changed")
    return reasons


def _data_reasons(run: dict) -> list[str]:
    if run.get("synthetic_data"):
        return ["synthetic data (throughput only)"]
    verified = run.get("data_verified")
    if verified is True:
        return []
    if verified is None:
        return ["data checksum not recorded"]
    if run.get("dataset_name") == "imagenet":
        return ["data checksum unverified (an ImageNet folder has no official checksum to match)"]
    return ["data checksum unverified (the files differ from the official release)"]


def reasons(run: dict) -> list[str]:
    """Why a run summary may not be ranked on its task's board; [] when it may."""
    standard = TASKS.get(run["task"])
    if standard is None:
        shipped = RECIPES.get(run["recipe"])
        if shipped is not None and shipped.task == run["task"]:
            standard = {"metric": shipped.target_metric, "value": shipped.target}
    return _target_reasons(run, standard) + _settings_reasons(run) + _data_reasons(run)
