"""Checkpoints hold tensors and plain data only and load with weights_only=True: the RNG states come
back exactly, and a checkpoint that would run code when unpickled is refused."""
from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

from repro.train import checkpoint as ckpt


def _save(path, **overrides):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    ckpt.save(path, model=model, optimizer=opt, scaler=torch.amp.GradScaler("cpu", enabled=False),
              position=ckpt.Position(2, 5, 17, 1.5, 320, 3.0, 2.5),
              epoch_generator_state=torch.Generator().manual_seed(3).get_state(), recipe_hash="sha256:x",
              seed=0, world_size=1, **overrides)
    return model, opt


def test_a_checkpoint_restores_every_rng_and_the_position(tmp_path):
    np.random.seed(11)
    random.seed(12)
    torch.manual_seed(13)
    _save(tmp_path / "checkpoint.pt")
    expected = (np.random.rand(3).tolist(), random.random(), torch.rand(2).tolist())
    np.random.seed(0)
    random.seed(0)
    torch.manual_seed(0)
    blob = ckpt.load(tmp_path / "checkpoint.pt", recipe_hash="sha256:x")
    ckpt.set_rng_state(blob["rng"])
    assert (np.random.rand(3).tolist(), random.random(), torch.rand(2).tolist()) == expected
    assert blob["position"] == ckpt.Position(2, 5, 17, 1.5, 320, 3.0, 2.5)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned-by-a-checkpoint",))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"format_version": ckpt.FORMAT_VERSION, "model": _RunsCode()}, tmp_path / "checkpoint.pt")
    with pytest.raises(ckpt.CheckpointError, match="not a readable checkpoint"):
        ckpt.load(tmp_path / "checkpoint.pt")
    assert not (tmp_path / "pwned-by-a-checkpoint").exists()


def test_a_linked_or_missing_checkpoint_says_what_to_do(tmp_path):
    with pytest.raises(ckpt.CheckpointError, match="at an epoch end at most every 60 s"):
        ckpt.load(tmp_path / "checkpoint.pt")
    _save(tmp_path / "elsewhere.pt")
    (tmp_path / "checkpoint.pt").symlink_to(tmp_path / "elsewhere.pt")
    with pytest.raises(ckpt.CheckpointError, match="symbolic link"):
        ckpt.load(tmp_path / "checkpoint.pt")
