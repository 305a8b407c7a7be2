"""What a run of given hardware and length costs on a snapshot: the pricing of runs that are not
repro run directories (published entries, estimates), through the same matching and billing rules
as `cost.json`.

    price_seconds({"gpu_model": "V100", "gpu_count": 8}, 2.9575 * 3600, snapshot)
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from repro.pricing.billing import cost_for_run
from repro.pricing.catalog import DEFAULT_MAX_AGE_DAYS, Snapshot


def price_seconds(hardware: dict[str, Any], seconds: float, snapshot: Snapshot, *,
                  session_s: float | None = None, max_age_days: float = DEFAULT_MAX_AGE_DAYS,
                  now: datetime | None = None) -> dict[str, Any]:
    """The cost document (same shape as cost.json, without run_id) of `seconds` to target on
    `hardware` ({"gpu_model", "gpu_count"} or {"vcpus"}): benchmark cost for those seconds, billed
    cost for `session_s` (default: the same seconds) under each provider's rule."""
    accelerator = "cuda" if hardware.get("gpu_count") else "cpu"
    run = {"hardware": {"accelerator": accelerator, **hardware},
           "outcome": {"reached": True, "time_to_target_s": float(seconds),
                       "session_s": float(seconds if session_s is None else session_s)}}
    cost = cost_for_run(run, snapshot, max_age_days=max_age_days, now=now)
    cost.pop("run_id", None)
    return cost
