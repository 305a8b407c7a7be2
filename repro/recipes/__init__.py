"""Named recipes. `get_recipe(name)`, `resolve(name, …)` or `repro <family> --recipe NAME`."""
from __future__ import annotations

from typing import Any

from repro.recipes.base import (DataSpec, ModelSpec, OptimSpec, Recipe, RecipeError, ScheduleSpec,
                                apply_overrides, check_slug, from_dict, validate)
from repro.recipes.cifar import CIFAR_RECIPES
from repro.recipes.digits import DIGITS
from repro.recipes.imagenet import IMAGENET_RECIPES

RECIPES: dict[str, Recipe] = {r.name: r for r in (DIGITS, *CIFAR_RECIPES, *IMAGENET_RECIPES)}

# dataset (recipe.data.name) → the `repro` command that trains its recipes
COMMAND_FOR_DATASET: dict[str, str] = {"digits": "digits", "cifar10": "cifar", "imagenet": "imagenet"}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise RecipeError(f"unknown recipe {name!r}; known recipes: {', '.join(sorted(RECIPES))}") from None


def command_for(recipe: Recipe) -> str:
    """The `repro` sub-command whose data loader trains this recipe (digits, cifar, imagenet)."""
    try:
        return COMMAND_FOR_DATASET[recipe.data.name]
    except KeyError:
        raise RecipeError(f"recipe {recipe.name!r} trains on {recipe.data.name!r}, which no repro command "
                          f"loads; known datasets: {', '.join(COMMAND_FOR_DATASET)}") from None


def recipes_for(command: str) -> list[str]:
    return sorted(r.name for r in RECIPES.values() if COMMAND_FOR_DATASET.get(r.data.name) == command)


def resolve(name: str, *, target: float | None = None, epochs: int | None = None,
            precision: str | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """A named recipe with command-line changes applied, validated once."""
    recipe = get_recipe(name)
    changes: dict[str, Any] = {}
    if target is not None:
        changes["target"] = float(target)
    if epochs is not None:
        changes["epochs"] = int(epochs)
    if precision is not None:
        changes["precision"] = precision
    recipe = apply_overrides(recipe, changes)
    return apply_overrides(recipe, list(overrides))


__all__ = ["RECIPES", "COMMAND_FOR_DATASET", "Recipe", "RecipeError", "ModelSpec", "DataSpec", "OptimSpec",
           "ScheduleSpec", "get_recipe", "command_for", "recipes_for", "resolve", "apply_overrides",
           "check_slug", "from_dict", "validate"]
