"""Decoding only a JPEG's crop on the CPU: nvImageCodec's libjpeg-turbo decoder with a region.

libjpeg-turbo can decode a region without decoding the whole image: it stops after the region's last
row, skips the rows above it (entropy decoding only) and leaves out the columns beside it
(`jpeg_skip_scanlines`, `jpeg_crop_scanline`). Neither torchvision nor Pillow exposes this;
nvImageCodec, the decoding library under NVIDIA DALI, does, and runs without a GPU
(`nvidia-nvimgcodec-cu13`, the `repro[nvimgcodec]` extra). Its region decode asks libjpeg-turbo for
one extra column on each side, so the chroma upsampling at the crop's edges sees the same
neighbours as in a full decode, and the pixels equal the same crop of a full decode
(NVIDIA/nvImageCodec, extensions/libjpeg_turbo/jpeg_mem.cpp at 36b4ee8; the tests compare the two
bit for bit).

What it saves depends on where the crop lies: on a 500×375 file of ImageNet's typical entropy
(benchmarks/RESULTS.md) a 16×16 crop at the top decodes in a twelfth of the time of the whole image, the
same crop at the bottom in two thirds of it (the rows above it are still entropy-decoded), and a
random-resized crop in about four fifths.
"""
from __future__ import annotations

import importlib
import os
from collections.abc import Callable

import numpy as np
import torch

PACKAGE = "nvidia-nvimgcodec-cu13"
INSTALL = "pip install 'repro[nvimgcodec]'"
Box = tuple[int, int, int, int]   # top, left, height, width

# nvImageCodec logs every undecodable file to stderr; repro counts and reports those itself
# (ImageNetData.unreadable_images), so the library's own lines are left out unless asked for
os.environ.setdefault("PYNVIMGCODEC_VERBOSITY", "0")


def missing() -> str | None:
    """Why the region decoder cannot run here, or None when it can."""
    try:
        importlib.import_module("nvidia.nvimgcodec")
    except (ImportError, OSError) as exc:   # OSError: the wheel is there but its shared library is not
        return f"{PACKAGE} cannot be imported ({exc}); install it with {INSTALL}"
    return None


class RegionDecoder:
    """Decodes the region (top, left, height, width) of each file, a batch in one call.

    Each process makes its own decoder on first use: a DataLoader worker is a fork, and a decoder's
    thread pool does not survive one. A decoder inherited through a fork is kept, never used or
    destroyed there (its destructor would wait for threads the child does not have), and none is
    pickled (a worker started by spawn makes its own). It runs one thread, so that a worker uses one
    core as the torchvision path does."""

    def __init__(self) -> None:
        self._decoders: dict[int, object] = {}

    def __getstate__(self) -> dict:
        return {"_decoders": {}}

    def _get(self):
        pid = os.getpid()
        if pid not in self._decoders:
            from nvidia import nvimgcodec
            self._decoders[pid] = nvimgcodec.Decoder(device_id=nvimgcodec.NVIMGCODEC_DEVICE_CPU_ONLY,
                                                     backends=[nvimgcodec.Backend(nvimgcodec.CPU_ONLY)],
                                                     max_num_cpu_threads=1)
        return self._decoders[pid]

    @staticmethod
    def parse_header(blob: bytes):
        """The file's parsed header (`.height`, `.width`), or None when it is not a JPEG whose header
        parses. Other formats nvImageCodec reads (a PNG named .JPEG) are refused, as torchvision's
        decode_jpeg refuses them, so both decoders count the same files as unreadable."""
        from nvidia import nvimgcodec
        try:
            stream = nvimgcodec.CodeStream(blob)
            return stream if stream.codec_name == "jpeg" else None
        except RuntimeError:   # no header to parse (an empty file parses lazily, so codec_name raises)
            return None

    def decode_files(self, paths: list[str], draw: Callable[[int, int, int], Box]) -> list[torch.Tensor | None]:
        """Each file's box as a 3×h×w uint8 image (an h×w×3 buffer seen channels first, as
        torchvision's decode_jpeg returns it), the box drawn by `draw(k, height, width)` for the k-th
        file once its header is read; None for a file that cannot be read or decoded under its box."""
        from nvidia import nvimgcodec
        regions: dict[int, object] = {}
        for k, path in enumerate(paths):
            try:
                with open(path, "rb") as f:
                    stream = self.parse_header(f.read())
            except OSError:
                stream = None
            if stream is not None:
                top, left, h, w = draw(k, stream.height, stream.width)
                regions[k] = stream.get_sub_code_stream(region=nvimgcodec.Region(top, left, top + h, left + w))
        params = nvimgcodec.DecodeParams(color_spec=nvimgcodec.ColorSpec.SRGB, apply_exif_orientation=False)
        images = dict(zip(regions, self._get().decode(list(regions.values()), params=params))) if regions else {}
        return [None if images.get(k) is None else
                torch.from_numpy(np.asarray(images[k].cpu())).permute(2, 0, 1) for k in range(len(paths))]
