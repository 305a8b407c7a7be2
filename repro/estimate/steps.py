"""How many epochs a recipe needs to reach its target, best source first:

1. measured runs of exactly this recipe in the results store (any hardware: the epoch a run reaches
   its target depends on the recipe and seed, not on the machine's speed);
2. the published epoch of reaching the target (tables.published_epochs), scaled by fraction of the
   schedule when the recipe runs a different number of epochs (a one-cycle or linear-decay recipe
   reaches its target late in its own schedule, wherever that ends);
3. neither: the whole schedule, marked as an upper bound.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from repro.estimate import tables
from repro.harness.stats import olympic_mean
from repro.recipes import Recipe


@dataclass(frozen=True)
class EpochsToTarget:
    values: tuple[int, ...]      # one per run the figure comes from
    source: str                  # one line for people
    kind: str                    # measured | published | upper-bound
    sources: tuple[str, ...] = ()

    @property
    def point(self) -> float:
        """Olympic mean, as the group of runs it predicts is scored."""
        return olympic_mean(self.values)

    @property
    def low(self) -> int:
        return min(self.values)

    @property
    def high(self) -> int:
        return max(self.values)

    def to_dict(self) -> dict:
        return {**asdict(self), "values": list(self.values), "sources": list(self.sources),
                "point": self.point, "low": self.low, "high": self.high}


def _describe(values: tuple[int, ...]) -> str:
    if len(set(values)) == 1:
        return f"epoch {values[0]}"
    return f"epochs {min(values)}-{max(values)} (olympic mean {olympic_mean(values):.2f} over {len(values)} runs)"


def epochs_to_target(recipe: Recipe, measured: list[int] | None = None, where: str = "") -> EpochsToTarget:
    if measured:
        values = tuple(sorted(measured))
        return EpochsToTarget(values, f"{_describe(values)}: {len(values)} measured run(s) of this recipe{where}",
                              "measured")
    published = tables.published_epochs().get(recipe.name)
    if published is not None:
        values = published.epochs_to_target
        note = f"published: {_describe(values)} of {published.of_epochs}"
        if published.of_epochs != recipe.epochs:
            values = tuple(min(recipe.epochs, math.ceil(v / published.of_epochs * recipe.epochs)) for v in values)
            note += f", as a fraction of the schedule: {_describe(values)} of {recipe.epochs}"
        return EpochsToTarget(values, f"{note} ({published.source})", "published", (published.source,))
    return EpochsToTarget((recipe.epochs,), f"no measured or published epoch of reaching the target: all "
                          f"{recipe.epochs} epochs (an upper bound)", "upper-bound")
