"""CIFAR-10 python-pickle loader: real layout, checksums, errors that name the file, seeded augmentation."""
import hashlib
import pickle

import numpy as np
import pytest
import torch

from repro.recipes import RecipeError, apply_overrides, get_recipe
from repro.train.data import DataError, registry
from repro.train.data import cifar, cifar_files


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def labelled_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each image is one flat colour that encodes its label (value 20·label + 5 in every channel), so any
    crop, flip or reflect-padding keeps the label readable from the pixels."""
    labels = np.random.default_rng(seed).integers(0, 10, n)
    images = np.broadcast_to((20 * labels + 5).astype(np.uint8)[:, None, None, None], (n, 3, 32, 32)).copy()
    return images, labels.astype(np.int64)


@pytest.fixture()
def cifar_dir(tmp_path):
    x_train, y_train = labelled_images(23)          # 23 rows: batches of 5, 5, 5, 4, 4
    x_test, y_test = labelled_images(7, seed=1)
    cifar_files.write_python_batches(tmp_path, x_train, y_train, x_test, y_test)
    return tmp_path


def recipe(**changes):
    return apply_overrides(get_recipe("cifar-airbench"), changes)


def test_official_md5s_are_torchvisions():
    from torchvision.datasets import CIFAR10
    official = dict(CIFAR10.train_list + CIFAR10.test_list)
    official[CIFAR10.meta["filename"]] = CIFAR10.meta["md5"]
    assert cifar_files.OFFICIAL_MD5 == official


def test_written_files_have_the_real_pickle_layout(cifar_dir):
    with open(cifar_dir / "cifar-10-batches-py" / "data_batch_4", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (4, 3072)
    assert isinstance(batch[b"labels"], list) and len(batch[b"labels"]) == 4
    with open(cifar_dir / "cifar-10-batches-py" / "batches.meta", "rb") as f:
        assert pickle.load(f, encoding="bytes")[b"label_names"][0] == b"airplane"


@pytest.mark.parametrize("sub", ["", "cifar-10-batches-py"])
def test_loads_dir_or_batches_dir_and_marks_unverified(cifar_dir, sub):
    data = cifar.make(recipe(), device="cpu", data_dir=cifar_dir / sub if sub else cifar_dir)
    assert (data.info.num_train, data.info.num_eval, data.info.num_classes) == (23, 7, 10)
    assert data.info.verified is False and data.info.synthetic is False
    blob = b"".join((cifar_dir / "cifar-10-batches-py" / n).read_bytes()
                    for n in (*cifar_files.TRAIN_FILES, cifar_files.TEST_FILE, cifar_files.META_FILE))
    assert data.info.checksum == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert data.x_train.dtype == torch.uint8 and data.x_train.shape == (23, 3, 32, 32)
    x, y = next(data.eval_batches(4))
    assert x.dtype == torch.float32 and x.shape == (4, 3, 32, 32) and y.tolist() == data.y_eval[:4].tolist()


def test_md5_match_marks_verified(cifar_dir, monkeypatch):
    root = cifar_dir / "cifar-10-batches-py"
    real = {n: hashlib.md5((root / n).read_bytes()).hexdigest() for n in cifar_files.OFFICIAL_MD5}
    monkeypatch.setattr(cifar_files, "OFFICIAL_MD5", real)
    arrays = cifar_files.load_arrays(cifar_dir)
    assert arrays.verified and arrays.mismatched == ()
    (root / "data_batch_3").write_bytes((root / "data_batch_3").read_bytes() + b"\0")  # re-packed copy
    arrays = cifar_files.load_arrays(cifar_dir)
    assert not arrays.verified and arrays.mismatched == ("data_batch_3",)


def test_registry_knows_cifar10():
    assert registry.module("cifar10") is cifar and registry.module("cifar10").make is cifar.make


def test_truncated_file_is_an_error_naming_it(cifar_dir):
    path = cifar_dir / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DataError, match="data_batch_2 is truncated or unreadable"):
        cifar.make(recipe(), device="cpu", data_dir=cifar_dir)


def test_missing_and_malformed_files(cifar_dir, tmp_path):
    root = cifar_dir / "cifar-10-batches-py"
    (root / "test_batch").unlink()
    with pytest.raises(DataError, match="test_batch is missing"):
        cifar_files.load_arrays(cifar_dir)
    with open(root / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f)
    with pytest.raises(DataError, match="test_batch: b'data' must be uint8 N×3072"):
        cifar_files.load_arrays(cifar_dir)
    with pytest.raises(DataError, match="no CIFAR-10 python batches in .*pass --data DIR"):
        cifar_files.load_arrays(tmp_path / "empty")


def test_make_needs_data_or_synthetic():
    with pytest.raises(DataError, match="pass --data DIR .* or --synthetic"):
        cifar.make(recipe(), device="cpu", data_dir=None, synthetic=False)


def test_synthetic_has_cifar_shape_and_is_labelled():
    data = cifar.make(apply_overrides(recipe(), ["data.synthetic_images=40"]), device="cpu", synthetic=True)
    assert data.info.synthetic and not data.info.verified
    assert (data.info.num_train, data.info.num_eval) == (40, 8)
    assert data.x_train.shape == (40, 3, 32, 32) and data.x_train.dtype == torch.uint8
    with pytest.raises(RecipeError, match="expected a value of type int"):
        apply_overrides(recipe(), ["data.synthetic_images=lots"])
    with pytest.raises(RecipeError, match="synthetic_images must be in \[0, "):
        apply_overrides(recipe(), ["data.synthetic_images=-1"])


def label_of(images: torch.Tensor) -> torch.Tensor:
    """Undo the normalisation and read the label from the most common pixel value (cutout zeroes some)."""
    mean, std = cifar.normalizer("cpu")
    raw = (images * std + mean).round()[:, 0].flatten(1)
    mode = torch.mode(raw, dim=1).values
    return ((mode - 5) / 20).round().long()


@pytest.mark.parametrize("loader", ["device", "dataloader"])
def test_augmentation_is_seeded_and_keeps_labels_aligned(cifar_dir, loader):
    r = recipe(**{"data.crop_padding": 4, "data.flip": True, "data.cutout": 8, "data.loader": loader})
    data = cifar.make(r, device="cpu", data_dir=cifar_dir)

    def epoch(seed):
        return list(data.train_batches(1, 5, torch.Generator().manual_seed(seed)))

    first, again, other = epoch(3), epoch(3), epoch(4)
    assert len(first) == data.steps_per_epoch(5) == 4                      # 23 // 5, last partial dropped
    for (x1, y1), (x2, y2) in zip(first, again):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert any(not torch.equal(a[0], b[0]) for a, b in zip(first, other))
    for x, y in first:
        assert x.shape == (5, 3, 32, 32) and x.dtype == torch.float32
        assert torch.equal(label_of(x), y)


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_path_yields_the_device_paths_batches(tmp_path, workers):
    noise = cifar.synthetic_arrays(20, 4, seed=7)   # textured images: every crop offset and flip shows
    cifar_files.write_python_batches(tmp_path, noise.x_train, noise.y_train, noise.x_test, noise.y_test)
    changes = {"data.crop_padding": 4, "data.flip": True, "data.cutout": 8, "data.workers": workers}
    device = cifar.make(recipe(**changes), device="cpu", data_dir=tmp_path)
    host = cifar.make(recipe(**changes, **{"data.loader": "dataloader"}), device="cpu", data_dir=tmp_path)
    a = list(device.train_batches(2, 6, torch.Generator().manual_seed(5)))
    b = list(host.train_batches(2, 6, torch.Generator().manual_seed(5)))
    assert len(a) == len(b) == 3
    for (xa, ya), (xb, yb) in zip(a, b):
        assert torch.equal(ya, yb) and torch.allclose(xa, xb, atol=1e-6)


@pytest.mark.parametrize("loader", ["device", "dataloader"])
def test_resuming_mid_epoch_gives_the_remaining_batches(cifar_dir, loader):
    r = recipe(**{"data.crop_padding": 2, "data.flip": True, "data.cutout": 4, "data.loader": loader})
    data = cifar.make(r, device="cpu", data_dir=cifar_dir)
    full, gen_full = list(data.train_batches(1, 5, g := torch.Generator().manual_seed(9))), g.get_state()
    rest = list(data.train_batches(1, 5, g2 := torch.Generator().manual_seed(9), start_batch=2))
    assert len(rest) == 2
    for (x1, y1), (x2, y2) in zip(full[2:], rest):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert torch.equal(gen_full, g2.get_state())                           # the next epoch starts the same


def test_crop_flip_cutout_geometry():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6).to(torch.uint8)
    zeros = torch.zeros(2, 3, 1, 1)
    ones = torch.ones(2, 3, 1, 1)
    p = cifar.AugmentParams(dx=torch.tensor([2, 0]), dy=torch.tensor([2, 1]), flip=torch.tensor([False, True]),
                            cy=torch.tensor([0, 3]), cx=torch.tensor([0, 3]))
    plain = cifar.augment(x, p, padding=2, flip=False, cutout=0, mean=zeros[:1], std=ones[:1])
    assert torch.equal(plain[0], x[0].float())                              # offset 2 of pad 2: no shift
    assert torch.equal(plain[1, :, 1:, 2:], x[1, :, :5, :4].float())        # shifted down 1, right 2
    flipped = cifar.augment(x, p, padding=0, flip=True, cutout=0, mean=zeros[:1], std=ones[:1])
    assert torch.equal(flipped[1], x[1].float().flip(2)) and torch.equal(flipped[0], x[0].float())
    holes = cifar.augment(x + 1, p, padding=0, flip=False, cutout=2, mean=zeros[:1], std=ones[:1])
    assert (holes[0] == 0).sum() == 3 * 1 and holes[0, :, 0, 0].eq(0).all()  # clipped at the corner
    assert (holes[1] == 0).sum() == 3 * 4 and holes[1, :, 2:4, 2:4].eq(0).all()


def test_image_size_resizes_train_and_eval(cifar_dir):
    data = cifar.make(recipe(), device="cpu", data_dir=cifar_dir)
    x, _ = next(data.train_batches(1, 4, torch.Generator().manual_seed(0), image_size=24))
    assert x.shape == (4, 3, 24, 24)
    x, _ = next(data.eval_batches(4, image_size=40))
    assert x.shape == (4, 3, 40, 40)


def test_unknown_loader_is_an_error():
    with pytest.raises(RecipeError, match="data.loader must be one of device, dataloader, got 'magic'"):
        recipe(**{"data.loader": "magic"})


def _half_bright(n: int) -> np.ndarray:
    """Image i: left half grey level 4·i, right half 255, so a mirrored image is told apart and named."""
    images = np.full((n, 3, 32, 32), 255, np.uint8)
    images[:, :, :, :16] = (4 * np.arange(n, dtype=np.uint8))[:, None, None, None]
    return images


def _flips_by_image(data, epoch: int, generator) -> dict[int, bool]:
    flips = {}
    mean, std = data.mean.view(1, 3, 1, 1), data.std.view(1, 3, 1, 1)
    for x, _ in data.train_batches(epoch, 5, generator):
        pixels = (x * std + mean).round()
        for left, right in zip(pixels[:, 0, 0, 0].tolist(), pixels[:, 0, 0, 31].tolist()):
            dark = min(left, right)
            flips[int(dark) // 4] = left > right
    return flips


def test_alternating_flip_mirrors_each_image_in_every_other_epoch(tmp_path):
    cifar_files.write_python_batches(tmp_path, _half_bright(23), np.zeros(23, np.int64), *labelled_images(7))
    data = cifar.make(recipe(**{"data.crop_padding": 0}), device="cpu", data_dir=tmp_path, seed=3)
    g = torch.Generator().manual_seed(0)
    epochs = [_flips_by_image(data, e, g) for e in (1, 2, 3, 4)]
    seen = set(epochs[0])
    assert len(seen) == 20                           # 4 batches of 5 (the last partial batch is dropped)
    both = seen & set(epochs[1])
    assert all(epochs[0][i] != epochs[1][i] for i in both)          # every image turns over next epoch
    assert all(epochs[0][i] == epochs[2][i] for i in seen & set(epochs[2]))
    assert 0 < sum(epochs[0].values()) < len(seen)                  # the first epoch's coin is random
    again = cifar.make(recipe(**{"data.crop_padding": 0}), device="cpu", data_dir=tmp_path, seed=3)
    assert _flips_by_image(again, 1, torch.Generator().manual_seed(0)) == epochs[0]   # a pure function of the seed


def test_random_flip_draws_a_fresh_coin_each_epoch(tmp_path):
    cifar_files.write_python_batches(tmp_path, _half_bright(23), np.zeros(23, np.int64), *labelled_images(7))
    data = cifar.make(recipe(**{"data.crop_padding": 0, "data.flip_mode": "random"}), device="cpu", data_dir=tmp_path)
    g = torch.Generator().manual_seed(0)
    first, second = (_flips_by_image(data, e, g) for e in (1, 2))
    both = set(first) & set(second)
    assert any(first[i] == second[i] for i in both) and any(first[i] != second[i] for i in both)


def test_init_images_are_the_first_training_images_normalised_not_augmented(cifar_dir):
    data = cifar.make(recipe(), device="cpu", data_dir=cifar_dir)
    images = registry.init_images(recipe(), data, 5)
    expected = (data.x_train[:5].float() - data.mean) / data.std
    assert torch.equal(images, expected)
    assert registry.init_images(recipe(), data, 5000).shape[0] == 23      # fewer images than asked: all


def test_data_dependent_start_is_refused_where_no_dataset_provides_images():
    imagenet = apply_overrides(get_recipe("imagenet-rn18-1gpu"), ["model.name=airbench94", "model.whiten_images=10"])
    with pytest.raises(DataError, match="model.whiten_images"):
        registry.check(imagenet, data_dir=None, synthetic=True)
    with pytest.raises(RecipeError, match="whitening stem"):
        apply_overrides(get_recipe("cifar-fastai-2018"), ["model.whiten_images=10"])
