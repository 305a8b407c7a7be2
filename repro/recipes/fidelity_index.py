"""Every fidelity record by recipe name (see repro.recipes.fidelity)."""
from __future__ import annotations

from repro.recipes.fidelity import Fidelity
from repro.recipes.fidelity_cifar import CIFAR_FASTAI_2018, CIFAR_FASTAI_2018_8GPU
from repro.recipes.fidelity_cifar_modern import CIFAR_AIRBENCH, CIFAR_BASENET_2018
from repro.recipes.fidelity_imagenet import IMAGENET_FASTAI_2018, IMAGENET_RN50_FAST

FIDELITY: dict[str, Fidelity] = {f.recipe: f for f in (IMAGENET_FASTAI_2018, IMAGENET_RN50_FAST, CIFAR_FASTAI_2018,
                                                         CIFAR_FASTAI_2018_8GPU, CIFAR_BASENET_2018, CIFAR_AIRBENCH)}
