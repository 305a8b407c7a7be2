"""What a run of given hardware and length costs on a snapshot: the pricing of runs that are not
repro run directories (published entries, estimates), through the same matching and billing rules
as `cost.json`.

    price_seconds({"gpu_model": "V100", "gpu_count": 8}, 2.9575 * 3600, snapshot)
    price_seconds({"gpu_model": "V100", "gpu_count": 16}, 3600, snapshot, nodes=2)   # 2 x 8 GPUs

`hardware` reads like run.json's: `gpu_count` is all GPUs of the run, `nodes` (default 1) how many
machines hold them, `gpus_per_node` where they are not spread evenly; `vcpus` for a CPU run.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from repro.pricing.billing import cost_for_run
from repro.pricing.catalog import DEFAULT_MAX_AGE_DAYS, Snapshot


def price_seconds(hardware: dict[str, Any], seconds: float, snapshot: Snapshot, *,
                  session_s: float | None = None, max_age_days: float = DEFAULT_MAX_AGE_DAYS,
                  now: datetime | None = None, nodes: int | None = None, every_offer: bool = False) -> dict[str, Any]:
    """The cost document (same shape as cost.json, without run_id) of `seconds` to target on
    `hardware`: benchmark cost for those seconds, billed cost for `session_s` (default: the same
    seconds, one session) under each provider's rule, on every market the snapshot has; one row per
    provider and market (its cheapest offer), or with `every_offer` one per offer that holds the run."""
    accelerator = "cuda" if hardware.get("gpu_count") else "cpu"
    hw = {"accelerator": accelerator, **hardware}
    if nodes is not None:
        hw["nodes"] = nodes
    run = {"hardware": hw,
           "outcome": {"reached": True, "time_to_target_s": float(seconds),
                       "session_s": float(seconds if session_s is None else session_s)}}
    cost = cost_for_run(run, snapshot, max_age_days=max_age_days, now=now, every_offer=every_offer)
    cost.pop("run_id", None)
    return cost
