"""The ImageNet JPEG pipeline on generated ImageFolder trees (no dataset download is possible here)."""
from __future__ import annotations

import shutil

import pytest
import torch

from tests.helpers_imagenet import make_tree

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")
from repro.recipes import apply_overrides, get_recipe
from repro.train.data import DataError
from repro.train.data import imagenet as inet
from repro.train.data import imagenet_roi, imagenet_synthetic

needs_nvimgcodec = pytest.mark.skipif(imagenet_roi.missing() is not None,
                                      reason="the repro[nvimgcodec] extra is not installed")
DECODERS = ["torchvision", pytest.param("nvimgcodec", marks=needs_nvimgcodec)]


@pytest.fixture(scope="module")
def tree_dir(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("imagenet"), classes=3, train_per_class=8, val_per_class=3)


def test_scan_lists_both_splits_with_labels(tree_dir):
    tree = inet.scan_tree(tree_dir)
    assert tree.classes == ("n00000000", "n00000001", "n00000002")
    assert len(tree.train) == 24 and len(tree.val) == 9
    assert sorted({label for _, label in tree.train}) == [0, 1, 2]
    assert all("/val/" in p for p, _ in tree.val)
    assert tree.checksum.startswith("sha256:") and len(tree.checksum) == 7 + 64


@pytest.mark.parametrize("size", [128, 224, 288])
def test_train_batches_have_the_epochs_size(tree_dir, size):
    data = inet.ImageNetData(inet.scan_tree(tree_dir), workers=0)
    batches = list(data.train_batches(1, 8, torch.Generator().manual_seed(0), size))
    assert len(batches) == data.steps_per_epoch(8) == 3
    for x, y in batches:
        assert x.shape == (8, 3, size, size) and x.dtype == torch.float32
        assert y.dtype == torch.int64 and set(y.tolist()) <= {0, 1, 2}
    # normalised with ImageNet's mean/std: centred near 0, not raw 0..255 pixels
    assert -3 < float(torch.cat([x for x, _ in batches]).mean()) < 3


def test_batch_is_the_normalised_crop_of_each_decoded_image(tree_dir):
    """Every element of a batch is (pixel - mean) / std of the crop-and-resize of its own image."""
    from torchvision.io import decode_jpeg, read_file
    from torchvision.transforms.v2 import functional as TF
    tree = inet.scan_tree(tree_dir)
    data = inet.ImageNetData(tree, workers=0, seed=3)
    order = torch.randperm(len(tree.train), generator=torch.Generator().manual_seed(9)).tolist()
    x, y = next(iter(data.train_batches(2, 8, torch.Generator().manual_seed(9), 96)))
    assert x.is_contiguous(memory_format=torch.channels_last)
    mean, std = torch.tensor(inet.MEAN).view(3, 1, 1), torch.tensor(inet.STD).view(3, 1, 1)
    for k, index in enumerate(order[:8]):
        path, label = tree.train[index]
        img = decode_jpeg(read_file(path))
        g = inet.sample_generator(3, 2, index)
        top, left, h, w = inet.random_resized_crop_box(img.shape[-2], img.shape[-1], g)
        ref = TF.resized_crop(img, top, left, h, w, [96, 96], antialias=True)
        if g.random() < 0.5:
            ref = ref.flip(-1)
        assert int(y[k]) == label
        torch.testing.assert_close(x[k], (ref.float() - mean) / std, atol=1e-4, rtol=1e-5)


def test_size_changes_between_epochs_with_persistent_workers(tree_dir):
    data = inet.ImageNetData(inet.scan_tree(tree_dir), workers=2)
    g = torch.Generator().manual_seed(0)
    shapes = [next(iter(data.train_batches(epoch, 8, g, size)))[0].shape[-1]
              for epoch, size in ((1, 128), (2, 224), (3, 288))]
    assert shapes == [128, 224, 288]
    assert data._loaders["train"]._iterator is not None  # the same workers served all three epochs


def test_eval_is_resize_then_centre_crop_and_covers_every_image(tree_dir):
    data = inet.ImageNetData(inet.scan_tree(tree_dir), workers=0)
    batches = list(data.eval_batches(4, 224))
    assert [x.shape[0] for x, _ in batches] == [4, 4, 1]
    assert all(x.shape[1:] == (3, 224, 224) for x, _ in batches)
    assert sorted(torch.cat([y for _, y in batches]).tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    img = torch.zeros((3, 300, 400), dtype=torch.uint8)
    assert inet.eval_transform(img, 224).shape == (3, 224, 224)


def test_augmentation_depends_on_seed_epoch_index_not_on_workers(tree_dir):
    tree = inet.scan_tree(tree_dir)
    a = list(inet.ImageNetData(tree, workers=0, seed=5).train_batches(2, 8, torch.Generator().manual_seed(1), 64))
    b = list(inet.ImageNetData(tree, workers=2, seed=5).train_batches(2, 8, torch.Generator().manual_seed(1), 64))
    c = list(inet.ImageNetData(tree, workers=0, seed=6).train_batches(2, 8, torch.Generator().manual_seed(1), 64))
    assert all(torch.equal(xa, xb) and torch.equal(ya, yb) for (xa, ya), (xb, yb) in zip(a, b))
    assert not torch.equal(a[0][0], c[0][0])


def test_start_batch_skips_without_changing_the_rest(tree_dir):
    data = inet.ImageNetData(inet.scan_tree(tree_dir), workers=0)
    full = list(data.train_batches(1, 8, torch.Generator().manual_seed(3), 64))
    tail = list(data.train_batches(1, 8, torch.Generator().manual_seed(3), 64, start_batch=1))
    assert len(tail) == 2
    assert all(torch.equal(x1, x2) for (x1, _), (x2, _) in zip(full[1:], tail))


def test_ranks_split_each_global_batch(tree_dir, monkeypatch):
    tree = inet.scan_tree(tree_dir)
    single = list(inet.ImageNetData(tree).train_batches(1, 8, torch.Generator().manual_seed(0), 32))
    halves = []
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        halves.append(list(inet.ImageNetData(tree).train_batches(1, 8, torch.Generator().manual_seed(0), 32)))
    for step, (x, y) in enumerate(single):
        assert torch.equal(torch.cat([halves[0][step][0], halves[1][step][0]]), x)
        assert torch.equal(torch.cat([halves[0][step][1], halves[1][step][1]]), y)
    with pytest.raises(DataError, match="does not split over 2 ranks"):
        next(inet.ImageNetData(tree).train_batches(1, 7, torch.Generator(), 32))


def test_missing_val_names_the_path(tmp_path):
    root = make_tree(tmp_path / "inet", classes=2, train_per_class=2, val_per_class=1)
    shutil.rmtree(root / "val")
    with pytest.raises(DataError, match=r"val is missing.*val/<wnid>/"):
        inet.scan_tree(root)
    assert str(root / "val") in _message(root)


def _message(root):
    try:
        inet.scan_tree(root)
    except DataError as exc:
        return str(exc)
    return ""


def test_malformed_trees_say_what_to_fix(tmp_path):
    with pytest.raises(DataError, match="does not exist; pass --data DIR"):
        inet.scan_tree(tmp_path / "nowhere")
    root = make_tree(tmp_path / "flat", classes=2, train_per_class=2, val_per_class=1)
    (root / "val" / "ILSVRC2012_val_00000001.JPEG").write_bytes(b"x")  # the flat val tarball layout
    with pytest.raises(DataError, match=r"holds 1 files directly .*ILSVRC2012_val_00000001"):
        inet.scan_tree(root)
    root = make_tree(tmp_path / "extra", classes=2, train_per_class=2, val_per_class=1)
    (root / "val" / "n99999999").mkdir()
    with pytest.raises(DataError, match="no training folder: n99999999"):
        inet.scan_tree(root)
    root = make_tree(tmp_path / "empty", classes=2, train_per_class=2, val_per_class=1)
    for f in (root / "train" / "n00000001").iterdir():
        f.unlink()
    with pytest.raises(DataError, match=r"n00000001 has no .JPEG images"):
        inet.scan_tree(root)


def test_checksum_is_a_manifest_of_paths_and_sizes(tmp_path):
    a = make_tree(tmp_path / "a", classes=2, train_per_class=2, val_per_class=1)
    b = make_tree(tmp_path / "b", classes=2, train_per_class=2, val_per_class=1)
    assert inet.scan_tree(a).checksum == inet.scan_tree(b).checksum  # same names and bytes, other root
    victim = a / "train" / "n00000000" / "n00000000_0.JPEG"
    victim.write_bytes(victim.read_bytes() + b"\0")
    assert inet.scan_tree(a).checksum != inet.scan_tree(b).checksum


@pytest.mark.parametrize("decoder", DECODERS)
def test_corrupt_jpeg_fails_past_the_threshold_naming_the_file(tmp_path, capsys, decoder):
    root = make_tree(tmp_path / "bad", classes=2, train_per_class=4, val_per_class=1)
    bad = root / "train" / "n00000001" / "n00000001_2.JPEG"
    bad.write_bytes(b"not a jpeg at all")
    data = inet.ImageNetData(inet.scan_tree(root), workers=0, decoder=decoder)   # limit: 0.1 % of 10 images
    with pytest.raises(DataError, match=r"1 unreadable images .*n00000001_2.JPEG.*re-extract or delete"):
        list(data.train_batches(1, 8, torch.Generator().manual_seed(0), 32))


@pytest.mark.parametrize("decoder", DECODERS)
def test_unreadable_images_under_the_threshold_are_counted_and_left_out_of_the_loss(tmp_path, decoder):
    root = make_tree(tmp_path / "bad", classes=2, train_per_class=4, val_per_class=1)
    bad = root / "train" / "n00000001" / "n00000001_2.JPEG"
    bad.write_bytes(bad.read_bytes()[:40])  # truncated mid-header
    data = inet.ImageNetData(inet.scan_tree(root), workers=0, max_bad_fraction=0.2, decoder=decoder)
    ys = torch.cat([y for _, y in data.train_batches(1, 8, torch.Generator().manual_seed(0), 32)])
    assert list(data.bad_images) == [str(bad)]
    assert (ys == inet.IGNORE_LABEL).sum() == 1
    reasons = data.unreadable_images()
    assert list(reasons) == [str(bad)] and reasons[str(bad)]   # the decoder's reason, kept for run.json


def test_make_needs_data_or_synthetic_and_synthetic_has_the_real_shape():
    recipe = apply_overrides(get_recipe("imagenet-rn18-1gpu"), ["data.batch_size=4", "data.eval_batch_size=4"])
    with pytest.raises(DataError, match="needs --data DIR"):
        inet.make(recipe, device="cpu")
    data = inet.make(recipe, device="cpu", synthetic=True)
    assert data.info.synthetic and data.info.num_classes == 1000
    x, y = next(iter(data.train_batches(1, 4, torch.Generator().manual_seed(0), 160)))
    assert x.shape == (4, 3, 160, 160) and int(y.max()) < 1000
    assert data.steps_per_epoch(4) == imagenet_synthetic.SYNTHETIC_TRAIN_BATCHES


# -- data.decoder=nvimgcodec: only each training crop's region is decoded ----------------------------
def _epoch(tree, size, *, seed=0, epoch=2, **options):
    data = inet.ImageNetData(tree, seed=seed, **options)
    return list(data.train_batches(epoch, 8, torch.Generator().manual_seed(epoch), size))


@needs_nvimgcodec
@pytest.mark.parametrize("size,workers,seed", [(224, 0, 0), (96, 2, 5), (128, 0, 7)])
def test_region_decoder_yields_the_same_batches_as_the_full_decode(tree_dir, size, workers, seed):
    """Same crops (drawn per seed, epoch and index), flips, labels and order, bit for bit."""
    tree = inet.scan_tree(tree_dir)
    full = _epoch(tree, size, seed=seed, workers=0)
    region = _epoch(tree, size, seed=seed, workers=workers, decoder="nvimgcodec")
    assert len(region) == len(full) == 3
    for (x, y), (xr, yr) in zip(full, region):
        assert xr.shape == (8, 3, size, size) and xr.is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(x, xr) and torch.equal(y, yr)
    assert not torch.equal(region[0][0], _epoch(tree, size, seed=seed + 1, decoder="nvimgcodec")[0][0])


@needs_nvimgcodec
@pytest.mark.timeout(120)
def test_workers_forked_after_the_parent_decoded_make_their_own_decoder(tree_dir):
    tree = inet.scan_tree(tree_dir)
    data = inet.ImageNetData(tree, workers=2, decoder="nvimgcodec")
    files = data._loaders["train"].dataset
    assert isinstance(files, inet.RegionJpegFiles)
    files.__getitems__([(0, 32, 1)])   # the parent's decoder and its thread pool exist before the fork
    batches = list(data.train_batches(1, 8, torch.Generator().manual_seed(1), 32))
    reference = _epoch(tree, 32, epoch=1, workers=0)
    assert len(batches) == len(reference) == 3
    assert all(torch.equal(x, xr) for (x, _), (xr, _) in zip(reference, batches))


@needs_nvimgcodec
@pytest.mark.timeout(180)
def test_spawned_workers_get_the_same_batches(tree_dir):
    tree = inet.scan_tree(tree_dir)
    data = inet.ImageNetData(tree, workers=1, decoder="nvimgcodec")
    data._loaders["train"].multiprocessing_context = "spawn"
    data._loaders["train"].dataset.__getitems__([(0, 32, 1)])   # the parent has a decoder to (not) send
    batches = list(data.train_batches(1, 8, torch.Generator().manual_seed(1), 32))
    assert all(torch.equal(x, xr) for (x, _), (xr, _) in zip(_epoch(tree, 32, epoch=1, workers=0), batches))


@needs_nvimgcodec
def test_region_decoder_serves_training_only_and_never_the_gpu_path(tree_dir):
    recipe = apply_overrides(get_recipe("imagenet-rn18-1gpu"),
                             ["data.decoder=nvimgcodec", "data.workers=0", "model.num_classes=3"])
    assert inet.check(recipe, data_dir=tree_dir) == []
    data = inet.make(recipe, device="cpu", data_dir=tree_dir)
    assert type(data._loaders["train"].dataset) is inet.RegionJpegFiles
    assert type(data._loaders["val"].dataset) is inet.JpegFiles   # eval resizes the whole image
    plain = inet.ImageNetData(inet.scan_tree(tree_dir))
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(data.eval_batches(4, 64), plain.eval_batches(4, 64)))
    bytes_only = inet.ImageNetData(inet.scan_tree(tree_dir), gpu_decode=True, decoder="nvimgcodec")
    files = bytes_only._loaders["train"].dataset
    assert type(files) is inet.JpegFiles and not files.decode   # nvJPEG decodes these, whole batches


def test_region_decoder_missing_falls_back_to_torchvision_with_a_note(tree_dir, monkeypatch):
    why = "nvidia-nvimgcodec-cu13 cannot be imported (No module named 'nvidia'); install it with " \
          "pip install 'repro[nvimgcodec]'"
    monkeypatch.setattr(imagenet_roi, "missing", lambda: why)
    recipe = apply_overrides(get_recipe("imagenet-rn18-1gpu"),
                             ["data.decoder=nvimgcodec", "data.workers=0", "model.num_classes=3"])
    assert inet.check(recipe, data_dir=tree_dir) == [
        f"data.decoder=nvimgcodec: {why}; decoding whole images with torchvision instead (the same batches, slower)"]
    data = inet.make(recipe, device="cpu", data_dir=tree_dir)
    assert data.decoder == "torchvision" and type(data._loaders["train"].dataset) is inet.JpegFiles
    x, _ = next(iter(data.train_batches(1, 8, torch.Generator().manual_seed(0), 32)))
    assert x.shape == (8, 3, 32, 32)
    with pytest.raises(DataError, match=r"data.decoder=nvimgcodec: .*pip install 'repro\[nvimgcodec\]'"):
        inet.ImageNetData(inet.scan_tree(tree_dir), decoder="nvimgcodec")
    with pytest.raises(DataError, match="data.decoder must be one of torchvision, nvimgcodec, got 'dali'"):
        inet.ImageNetData(inet.scan_tree(tree_dir), decoder="dali")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="GPU JPEG decoding needs CUDA (none on this machine)")
def test_gpu_decode_matches_shapes(tree_dir):
    data = inet.ImageNetData(inet.scan_tree(tree_dir), device="cuda", workers=2)
    x, _ = next(iter(data.train_batches(1, 8, torch.Generator().manual_seed(0), 224)))
    assert x.is_cuda and x.shape == (8, 3, 224, 224)


# -- batched decoding (the GPU path) ------------------------------------------------------------------
def test_batch_decode_on_the_device_finds_the_unreadable_file(tree_dir):
    from torchvision.io import read_file
    from repro.train.data.imagenet_decode import decode_batch_on_device
    blobs = [read_file(p) for p, _ in inet.scan_tree(tree_dir).train[:3]]
    blobs.insert(1, torch.frombuffer(bytearray(b"not a jpeg at all"), dtype=torch.uint8))
    images = decode_batch_on_device(blobs, torch.device("cpu"))
    assert [img is None for img in images] == [False, True, False, False]
    assert images[0].shape == (3, 60, 80)
