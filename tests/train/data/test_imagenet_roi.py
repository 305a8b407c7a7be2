"""Decoding only a crop's region of each JPEG (nvImageCodec on the CPU) against torchvision's full decode."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from torchvision.io import ImageReadMode, decode_jpeg

from repro.train.data import imagenet_roi
from repro.train.data.imagenet_roi import RegionDecoder

# after imagenet_roi, which quiets nvImageCodec's own stderr lines before the library loads
pytest.importorskip("nvidia.nvimgcodec", reason="the repro[nvimgcodec] extra is not installed")
pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")


def _photo(height: int, width: int, seed: int = 0) -> Image.Image:
    """Smooth colour gradients plus noise: chroma that changes across the image, as in a photo."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.stack([xx * 255 / width, yy * 255 / height, (xx + yy) % 97 * 2.6], axis=-1)
    return Image.fromarray(np.clip(rgb + rng.normal(0, 20, rgb.shape), 0, 255).astype(np.uint8))


def _rotated_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6   # Orientation: rotate 90° clockwise to display
    return exif


def _jpeg(img: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, format=options.pop("format", "JPEG"), **options)
    return out.getvalue()


KINDS = {
    "4:2:0": lambda: _jpeg(_photo(75, 101), quality=90),
    "4:4:4": lambda: _jpeg(_photo(75, 101), quality=90, subsampling=0),
    "4:2:2": lambda: _jpeg(_photo(75, 101), quality=90, subsampling=1),
    "progressive": lambda: _jpeg(_photo(75, 101), quality=85, progressive=True),
    "restart markers": lambda: _jpeg(_photo(75, 101), quality=85, restart_marker_blocks=3),
    "grayscale": lambda: _jpeg(_photo(75, 101).convert("L")),
    "CMYK": lambda: _jpeg(_photo(75, 101).convert("CMYK")),
    "EXIF rotated": lambda: _jpeg(_photo(75, 101), exif=_rotated_exif()),   # decoded as stored, as torchvision does
}
# boxes (top, left, height, width) on and off the 8- and 16-pixel block grid, at every edge
BOXES = [(0, 0, 75, 101), (0, 0, 1, 1), (74, 100, 1, 1), (17, 33, 40, 51), (8, 16, 32, 48),
         (1, 1, 73, 99), (30, 0, 45, 101), (0, 57, 75, 44), (5, 93, 9, 8)]


def _write(tmp_path, name: str, blob: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(blob)
    return str(path)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_region_is_the_same_crop_of_torchvisions_full_decode(tmp_path, kind):
    blob = KINDS[kind]()
    full = decode_jpeg(torch.frombuffer(bytearray(blob), dtype=torch.uint8), mode=ImageReadMode.RGB)
    path = _write(tmp_path, "a.JPEG", blob)
    decoded = RegionDecoder().decode_files([path] * len(BOXES), lambda k, height, width: BOXES[k])
    for (top, left, h, w), img in zip(BOXES, decoded):
        assert img.shape == (3, h, w) and img.dtype == torch.uint8
        assert torch.equal(img, full[:, top:top + h, left:left + w]), (kind, (top, left, h, w))


def test_boxes_are_drawn_from_each_files_own_header(tmp_path):
    paths = [_write(tmp_path, f"{i}.JPEG", _jpeg(_photo(h, w))) for i, (h, w) in enumerate([(60, 80), (33, 47)])]
    seen = []

    def draw(k, height, width):
        seen.append((k, height, width))
        return 0, 0, height, width

    images = RegionDecoder().decode_files(paths, draw)
    assert seen == [(0, 60, 80), (1, 33, 47)]
    assert [tuple(img.shape) for img in images] == [(3, 60, 80), (3, 33, 47)]


def test_unreadable_files_are_none_and_leave_the_rest_of_the_batch_alone(tmp_path):
    good = _jpeg(_photo(40, 40))
    paths = [_write(tmp_path, "good.JPEG", good),
             _write(tmp_path, "text.JPEG", b"not a jpeg at all"),
             _write(tmp_path, "png.JPEG", _jpeg(_photo(40, 40), format="PNG")),   # torchvision refuses it too
             _write(tmp_path, "header.JPEG", good[:40]),
             _write(tmp_path, "empty.JPEG", b""),
             str(tmp_path / "deleted.JPEG"),
             str(tmp_path)]                                                        # a folder, not a file
    images = RegionDecoder().decode_files(paths, lambda k, height, width: (0, 0, height, width))
    assert [img is None for img in images] == [False] + [True] * 6
    assert images[0].shape == (3, 40, 40)


def test_data_that_ends_early_is_read_above_the_missing_rows_only(tmp_path):
    """The one place the region decode differs from the full one: torchvision refuses a truncated
    JPEG whatever the crop; the region decoder reads a crop that lies above the missing rows."""
    blob = _jpeg(_photo(200, 200), quality=95)
    cut = blob[:len(blob) // 2]
    with pytest.raises(RuntimeError):
        decode_jpeg(torch.frombuffer(bytearray(cut), dtype=torch.uint8))
    path = _write(tmp_path, "cut.JPEG", cut)
    top, bottom = RegionDecoder().decode_files([path, path], lambda k, h, w: [(0, 0, 16, 16), (180, 0, 20, 20)][k])
    assert top.shape == (3, 16, 16) and bottom is None


def test_an_empty_batch_decodes_to_nothing():
    assert RegionDecoder().decode_files([], lambda k, h, w: (0, 0, h, w)) == []


def test_missing_package_names_it_and_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "nvidia.nvimgcodec", None)   # import raises ImportError
    why = imagenet_roi.missing()
    assert why and "nvidia-nvimgcodec-cu13" in why and "pip install 'repro[nvimgcodec]'" in why


def test_a_pickled_decoder_makes_its_own_in_the_new_process(tmp_path):
    """What a DataLoader worker started by spawn receives: no decoder of the parent's, and a working one."""
    import pickle
    path = _write(tmp_path, "a.JPEG", _jpeg(_photo(40, 40)))
    parent = RegionDecoder()
    parent.decode_files([path], lambda k, h, w: (0, 0, h, w))
    copy = pickle.loads(pickle.dumps(parent))
    assert copy._decoders == {}
    assert copy.decode_files([path], lambda k, h, w: (0, 0, h, w))[0].shape == (3, 40, 40)
