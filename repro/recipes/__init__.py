"""Named recipes. `get_recipe(name)` or `repro <task> --recipe NAME`."""
from __future__ import annotations

from repro.recipes.base import (DataSpec, ModelSpec, OptimSpec, Recipe, RecipeError, ScheduleSpec,
                                apply_overrides, from_dict, validate)
from repro.recipes.cifar import CIFAR_RECIPES
from repro.recipes.digits import DIGITS
from repro.recipes.imagenet import IMAGENET_RECIPES

RECIPES: dict[str, Recipe] = {r.name: r for r in (DIGITS, *CIFAR_RECIPES, *IMAGENET_RECIPES)}


def register(recipe: Recipe) -> Recipe:
    if recipe.name in RECIPES:
        raise RecipeError(f"recipe {recipe.name!r} is registered twice")
    RECIPES[recipe.name] = validate(recipe)
    return recipe


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise RecipeError(f"unknown recipe {name!r}; known recipes: {', '.join(sorted(RECIPES))}") from None


__all__ = ["RECIPES", "Recipe", "RecipeError", "ModelSpec", "DataSpec", "OptimSpec", "ScheduleSpec",
           "get_recipe", "register", "apply_overrides", "from_dict", "validate"]
