"""Evaluation: top-1, top-5 and loss over the eval set, each rank scoring its share."""
from __future__ import annotations

import torch
from torch import nn

from repro.recipes import Recipe
from repro.train import distributed as dist_
from repro.train.data import DataSource
from repro.train.models import uses_channels_last
from repro.train.optim import autocast_context


def rank_rows(x: torch.Tensor, y: torch.Tensor, data: DataSource, ctx: dist_.DistContext):
    """This rank's rows of a batch: sharded sources yield them already."""
    if not ctx.active or data.sharded:
        return x, y
    rows = dist_.shard_rows(y.shape[0], ctx)
    return x[rows], y[rows]


def wants_top5(recipe: Recipe, data: DataSource) -> bool:
    # ImageNet entries always report both
    return recipe.target_metric == "top5" or data.info.num_classes >= 100 or recipe.task.startswith("imagenet")


def tta_logits(model: nn.Module, x: torch.Tensor, *, flip: bool, translate: int = 0) -> torch.Tensor:
    """Test-time augmentation as airbench94 does it (airbench94.py, infer): with `flip` the logits are
    the mean over the image and its mirror; with `translate` t as well, half of that plus half the mean
    of the same for two copies shifted by t pixels up-left and down-right (reflect padding). Neither:
    the plain logits."""
    def mirrored(images: torch.Tensor) -> torch.Tensor:
        return (model(images) + model(torch.flip(images, dims=[3]))) / 2 if flip else model(images)

    logits = mirrored(x)
    if translate:
        t, h, w = translate, x.shape[-2], x.shape[-1]
        padded = nn.functional.pad(x, (t,) * 4, mode="reflect")
        shifted = (mirrored(padded[:, :, :h, :w]) + mirrored(padded[:, :, 2 * t:2 * t + h, 2 * t:2 * t + w])) / 2
        logits = (logits + shifted) / 2
    return logits


@torch.no_grad()
def evaluate(model: nn.Module, data: DataSource, recipe: Recipe, device: torch.device, image_size: int | None,
             ctx: dist_.DistContext | None = None) -> dict[str, float | None]:
    """Top-1, top-5 and loss over the eval set; each rank scores its share and the counts are summed."""
    ctx = ctx or dist_.DistContext(device=device)
    model = dist_.for_eval(model, ctx)
    model.eval()
    want_top5 = wants_top5(recipe, data)
    n = correct1 = correct5 = 0
    loss_sum = 0.0
    for x, y in data.eval_batches(recipe.data.eval_batch_size, image_size):
        x, y = rank_rows(x, y, data, ctx)
        if y.numel() == 0:
            continue
        if uses_channels_last(recipe, device):
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast_context(device, recipe.precision):
            logits = tta_logits(model, x, flip=recipe.tta, translate=recipe.tta_translate if recipe.tta else 0)
        logits = logits.float()
        loss_sum += nn.functional.cross_entropy(logits, y, reduction="sum").item()
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices
        correct1 += (top[:, 0] == y).sum().item()
        if want_top5:
            correct5 += (top == y[:, None]).any(dim=1).sum().item()
        n += y.numel()
    n, correct1, correct5, loss_sum = dist_.all_reduce_sum([n, correct1, correct5, loss_sum], ctx)
    if n == 0:
        raise ValueError("the eval set yielded no images; check the dataset's validation split")
    return {"top1": correct1 / n, "top5": correct5 / n if want_top5 else None, "eval_loss": loss_sum / n}
