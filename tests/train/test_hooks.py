"""The optional training behaviours recipes switch on: a cut last epoch, lookahead averaging (against
airbench's own LookaheadState), parameters frozen after N epochs, the data-dependent start, and a resume
that carries them across an interruption bit for bit."""
from __future__ import annotations

import copy
import os
import signal

import pytest
import torch
from airbench.utils import LookaheadState
from torch import nn

from repro.harness import store
from repro.harness.signals import Interrupted
from repro.recipes import resolve
from repro.train import checkpoint as ckpt
from repro.train import hooks
from repro.train import loop
from repro.train.loop import TrainOptions, run_recipe
from repro.train.models import build_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_cut_last_epoch_trains_its_fraction_and_no_more():
    airbench = resolve("cifar-airbench")
    assert hooks.training_epochs(airbench) == pytest.approx(9.9)
    assert [hooks.steps_in_epoch(airbench, e, 48) for e in (1, 9, 10)] == [48, 48, 44]
    assert hooks.total_steps(airbench, lambda e: 48) == 476            # airbench: ceil(48 × 9.9)
    assert hooks.total_steps(airbench, lambda e: 10) == 99
    whole = resolve("cifar-fastai-2018")
    assert hooks.steps_in_epoch(whole, 30, 97) == 97 and hooks.training_epochs(whole) == 30
    assert hooks.progress_at(airbench, 10, 43, 48) < 1 <= hooks.progress_at(airbench, 10, 44, 48)


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2))


def test_lookahead_is_airbenchs_lookahead_state():
    ours_net, theirs_net = _net(), _net()
    x = torch.randn(8, 3, 6, 6)
    ours_net(x), theirs_net(x)                                       # materialise the lazy layer alike
    theirs_net.load_state_dict(ours_net.state_dict())
    total = 20
    ours = hooks.Lookahead(ours_net, every=5, base=0.95, power=3.0, total=total)
    theirs = LookaheadState(theirs_net)
    alpha = 0.95 ** 5 * (torch.arange(total + 1) / total) ** 3       # airbench's alpha_schedule
    for step in range(1, total + 1):
        for net in (ours_net, theirs_net):
            with torch.no_grad():
                for p in net.parameters():
                    p.add_(torch.sin(p * step))                      # the same "training step" on both
            net(x)                                                   # moves the BN statistics too
        ours.after_step(ours_net, step)
        if step % 5 == 0:
            theirs.update(theirs_net, decay=alpha[step].item())
        assert ours.decay(step) == alpha[step].item()
    ours.finish(ours_net)
    theirs.update(theirs_net, decay=1.0)
    for (k, a), b in zip(ours_net.state_dict().items(), theirs_net.state_dict().values()):
        assert torch.equal(a, b), k


def test_a_frozen_parameter_is_not_moved_by_momentum_or_weight_decay():
    net = nn.Linear(3, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9, nesterov=True, weight_decay=0.1)
    recipe = resolve("cifar-airbench", overrides=["model.frozen_after=[[\"bias\", 1]]"])
    for epoch in (1, 2, 3):
        frozen = hooks.frozen_parameters(net, recipe, epoch)
        assert frozen == ([] if epoch == 1 else [net.bias])
        before = net.bias.detach().clone()
        net(torch.randn(4, 3)).sum().backward()
        hooks.drop_gradients(frozen)
        opt.step()
        opt.zero_grad()
        assert torch.equal(net.bias, before) == (epoch > 1)


def test_a_misnamed_frozen_parameter_says_which_exist():
    recipe = resolve("cifar-airbench", overrides=["model.frozen_after=[[\"whiten.bais\", 3]]"])
    with pytest.raises(ValueError, match="whiten.bais.*its parameters: whiten.weight, whiten.bias"):
        hooks.frozen_parameters(build_model(recipe.model), recipe, 1)


SMALL = ["data.synthetic_images=64", "data.batch_size=16", "data.eval_batch_size=32", "model.width=8",
         "model.whiten_images=32", "model.frozen_after=[[\"whiten.bias\", 1]]", "final_epoch_fraction=0.5"]


def _train(tmp_path, overrides, *, kill_at=None, resume_dir=None):
    """cifar-airbench, 3 epochs (2.5 trained), tiny, fp32 on the CPU; returns (run dir, the model after
    each epoch)."""
    recipe = resolve("cifar-airbench", epochs=3, precision="fp32", overrides=SMALL + overrides)
    models = []
    state = {}

    def on_batch(epoch, done, total):
        if (epoch, done) == kill_at:
            os.kill(os.getpid(), signal.SIGTERM)

    def on_epoch(row):
        models.append(copy.deepcopy(state["model"].state_dict()))

    def build(spec):
        state["model"] = build_model(spec)
        return state["model"]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "build_model", build)
        run_dir = resume_dir or store.create_run_dir(tmp_path / "results", recipe.name)
        run_recipe(recipe, TrainOptions(run_dir=run_dir, synthetic=True, on_batch=on_batch, on_epoch=on_epoch,
                                        resume=resume_dir is not None, checkpoint_every_s=0.0))
    return run_dir, models


def test_the_loop_freezes_the_whitening_bias_after_its_epochs_and_cuts_the_last_epoch(tmp_path):
    run_dir, models = _train(tmp_path, ["optim.lookahead_every=0"])
    assert len(models) == 3
    assert torch.equal(models[0]["whiten.bias"], models[2]["whiten.bias"])          # frozen after epoch 1
    assert not torch.equal(models[0]["head.weight"], models[2]["head.weight"])      # the rest trains on
    assert models[0]["whitened"] and models[0]["whiten.weight"].abs().sum() > 0
    assert ckpt.load(run_dir / store.CHECKPOINT_FILE)["position"].step == 4 + 4 + 2  # the 3rd epoch cut at 0.5


def test_resume_carries_the_lookahead_average_and_matches_the_uninterrupted_run(tmp_path):
    lookahead = ["optim.lookahead_every=3"]
    _, straight = _train(tmp_path / "a", lookahead)
    with pytest.raises(Interrupted):
        _train(tmp_path / "b", lookahead, kill_at=(2, 1))
    (run_dir,) = (tmp_path / "b" / "results" / "cifar-airbench").iterdir()
    assert "lookahead" in ckpt.load(run_dir / store.CHECKPOINT_FILE)["extra_state"]
    _, resumed = _train(tmp_path / "b", lookahead, resume_dir=run_dir)
    for key, value in straight[-1].items():
        assert torch.equal(value, resumed[-1][key]), key


def test_a_misnamed_frozen_parameter_is_a_plan_error_and_nothing_is_written(tmp_path):
    from repro import api
    from repro.orchestrator import PlanError
    with pytest.raises(PlanError, match="whiten.bais"):
        api.plan("cifar-airbench", synthetic=True, results_dir=tmp_path / "r",
                 overrides=('model.frozen_after=[["whiten.bais", 3]]',))
    assert not (tmp_path / "r").exists()
    assert api.plan("cifar-airbench", synthetic=True, results_dir=tmp_path / "r").recipe.model.frozen_after
