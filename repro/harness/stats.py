"""Multi-seed scoring. MLPerf scores ResNet-50 over 5 runs by dropping the fastest and the slowest and
averaging the rest (the olympic mean); runs that never reached the target are counted, not averaged."""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Sequence


def olympic_mean(values: Sequence[float]) -> float:
    """Mean after dropping one lowest and one highest value (one of each, even when tied).
    With fewer than 3 values there is nothing to drop and it is the plain mean."""
    if not values:
        raise ValueError("olympic_mean of no values")
    ordered = sorted(values)
    kept = ordered[1:-1] if len(ordered) >= 3 else ordered
    return sum(kept) / len(kept)


@dataclass(frozen=True)
class Summary:
    n: int                       # runs in the group
    converged: int               # runs that reached the target
    olympic_mean_s: float | None
    median_s: float | None
    min_s: float | None
    max_s: float | None
    spread_s: float | None       # max − min over converged runs
    stdev_s: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def _stdev(values: Sequence[float]) -> float:
    """Sample standard deviation in plain floats (statistics.stdev is exact but ~50× slower, and a
    10,000-run report calls this once per group)."""
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def summarize(times_s: Sequence[float | None]) -> Summary:
    """`times_s`: time to target per run, None for a run that did not converge (diverged, failed,
    stopped short of the target)."""
    reached = [t for t in times_s if t is not None]
    if not reached:
        return Summary(len(times_s), 0, None, None, None, None, None, None)
    return Summary(
        n=len(times_s),
        converged=len(reached),
        olympic_mean_s=olympic_mean(reached),
        median_s=statistics.median(reached),
        min_s=min(reached),
        max_s=max(reached),
        spread_s=max(reached) - min(reached),
        stdev_s=_stdev(reached) if len(reached) >= 2 else None,
    )
