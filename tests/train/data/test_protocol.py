"""Every dataset implements the whole DataSource protocol, and its module the plan step's check()."""
import inspect

import pytest
import torch

from repro.recipes import apply_overrides, get_recipe
from repro.train.data import DataError, DataSource, registry
from tests.helpers_imagenet import make_tree


def _sources(tmp_path):
    yield registry.make(get_recipe("digits"), device="cpu", data_dir=None, synthetic=False, seed=0)
    cifar = apply_overrides(get_recipe("cifar-airbench"), ["data.synthetic_images=64"])
    yield registry.make(cifar, device="cpu", data_dir=None, synthetic=True, seed=0)
    small = apply_overrides(get_recipe("imagenet-rn18-1gpu"), ["data.batch_size=4", "data.eval_batch_size=4",
                                                               "data.workers=0"])
    yield registry.make(small, device="cpu", data_dir=None, synthetic=True, seed=0)
    tree = make_tree(tmp_path / "tree", classes=2, train_per_class=4, val_per_class=1)
    yield registry.make(small, device="cpu", data_dir=tree, synthetic=False, seed=0)


def test_every_source_is_a_data_source_with_resumable_batches(tmp_path):
    for source in _sources(tmp_path):
        assert isinstance(source, DataSource), type(source)
        assert "start_batch" in inspect.signature(source.train_batches).parameters
        assert isinstance(source.sharded, bool) and source.unreadable_images() == {}
        steps = source.steps_per_epoch(4)
        whole = list(source.train_batches(1, 4, torch.Generator().manual_seed(3), 32))
        rest = list(source.train_batches(1, 4, torch.Generator().manual_seed(3), 32, start_batch=1))
        assert len(whole) == steps and len(rest) == steps - 1
        torch.testing.assert_close(rest[0][1], whole[1][1])     # the same second batch, resumed or not


@pytest.mark.parametrize("name", sorted(registry.MODULES))
def test_every_dataset_module_has_check_and_make(name):
    module = registry.module(name)
    assert callable(module.check) and callable(module.make)
    assert set(inspect.signature(module.make).parameters) >= {"recipe", "device", "data_dir", "synthetic", "seed"}


def test_check_refuses_data_and_synthetic_together(tmp_path):
    with pytest.raises(DataError, match="either --data DIR or --synthetic"):
        registry.check(get_recipe("cifar-airbench"), data_dir=tmp_path, synthetic=True)
