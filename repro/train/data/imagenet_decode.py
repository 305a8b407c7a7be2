"""Decode only what a training crop needs, on the CPU, and whole batches on the GPU.

CPU: a random-resized crop that is at least k times the output size on both sides is decoded at
1/k in the DCT domain (k = 2, 4 or 8, libjpeg's reduced-size IDCT through Pillow's `draft()`),
which skips most of the inverse DCT, the chroma upsampling and the colour conversion of a full
decode, and hands a smaller crop to the resize. The resize that follows still only shrinks, so the
crop loses no resolution it would have kept. Smaller crops are decoded at full size by
torchvision's `decode_jpeg` (libjpeg-turbo), which is a little faster than Pillow's full decode.
The crop box is drawn from the header's size before decoding, with the same draws as before, so an
epoch's augmentation is still a function of (seed, epoch, index).

GPU: `decode_jpeg` takes the batch's list of files and decodes it with nvJPEG's batched decoder on
the device in one call; when one file in the batch is unreadable, the batch is decoded again image
by image to find it.
"""
from __future__ import annotations

import io
import random
from collections.abc import Callable

import numpy as np
import torch
from PIL import Image, JpegImagePlugin
from torchvision.io import ImageReadMode, decode_jpeg

DCT_REDUCTIONS = (8, 4, 2)       # libjpeg's power-of-two scaled IDCTs (the ones with SIMD kernels)
_PIL_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)

CropBox = Callable[[int, int, random.Random], tuple[int, int, int, int]]


def dct_reduction(crop_h: int, crop_w: int, size: int) -> int:
    """The largest k in 8, 4, 2 for which the crop is still ≥ size on both sides at 1/k; else 1."""
    for k in DCT_REDUCTIONS:
        if crop_h >= k * size and crop_w >= k * size:
            return k
    return 1


def _header(data: torch.Tensor) -> Image.Image | None:
    """The file opened lazily (Pillow reads the markers, not the pixels); None when Pillow cannot."""
    try:   # the JPEG plugin directly: Image.open would first try other formats' signatures
        im = JpegImagePlugin.JpegImageFile(io.BytesIO(data.numpy()))
    except _PIL_ERRORS:
        return None
    return im if im.mode in ("RGB", "L") else None


def decode_train_crop(data: torch.Tensor, size: int, g: random.Random, crop_box: CropBox
                      ) -> tuple[torch.Tensor, tuple[int, int, int, int]]:
    """(decoded image holding the crop, CHW uint8; the crop's box in that image's pixels).
    Raises RuntimeError, as decode_jpeg does, when the file cannot be decoded."""
    im = _header(data)
    if im is None:
        img = decode_jpeg(data, mode=ImageReadMode.RGB)
        return img, crop_box(img.shape[-2], img.shape[-1], g)
    width, height = im.size
    top, left, h, w = crop_box(height, width, g)
    k = dct_reduction(h, w, size)
    if k == 1:
        return decode_jpeg(data, mode=ImageReadMode.RGB), (top, left, h, w)
    try:
        # Pillow picks the reduction min(width // w, height // h) for a request (w, h), rounded down
        # to 8, 4, 2 or 1: asking for the floors gives exactly k (its output is ceil(size / k))
        im.draft("RGB", (width // k, height // k))
        pixels = np.array(im.convert("RGB") if im.mode != "RGB" else im)
    except _PIL_ERRORS:   # truncated or corrupt past the header: let decode_jpeg decide as before
        return decode_jpeg(data, mode=ImageReadMode.RGB), (top, left, h, w)
    img = torch.from_numpy(pixels).permute(2, 0, 1)
    scaled_h, scaled_w = img.shape[-2], img.shape[-1]
    sy, sx = scaled_h / height, scaled_w / width
    top_s, left_s = min(round(top * sy), scaled_h - 1), min(round(left * sx), scaled_w - 1)
    h_s, w_s = min(round(h * sy), scaled_h - top_s), min(round(w * sx), scaled_w - left_s)
    return img, (top_s, left_s, h_s, w_s)


def decode_batch_on_device(blobs: list[torch.Tensor], device: torch.device
                           ) -> list[torch.Tensor | None]:
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
