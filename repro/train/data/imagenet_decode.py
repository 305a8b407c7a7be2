"""Decoding a batch's JPEG files on the GPU in one call.

`decode_jpeg` takes the batch's list of files and decodes it with nvJPEG's batched decoder on the
device; when one file in the batch is unreadable, the batch is decoded again image by image to find
it. (On the CPU the same call decodes the files one after the other, which is how the tests and
the bench's dry run exercise this path.)
"""
from __future__ import annotations

import torch
from torchvision.io import ImageReadMode, decode_jpeg


def decode_batch_on_device(blobs: list[torch.Tensor], device: torch.device) -> list[torch.Tensor | None]:
    """Each file decoded to a CHW uint8 image on `device`, the whole list in one call; None for a
    file that cannot be decoded."""
    try:
        return list(decode_jpeg(blobs, mode=ImageReadMode.RGB, device=device))
    except RuntimeError:
        out: list[torch.Tensor | None] = []
        for blob in blobs:
            try:
                out.append(decode_jpeg(blob, mode=ImageReadMode.RGB, device=device))
            except RuntimeError:
                out.append(None)
        return out
