"""The cifar-airbench recipe against the real airbench94: PyPI airbench 0.1.8 (a dev dependency) runs its
own code on the CPU in fp32 (its hard-coded CUDA device, fp16 casts and CUDA timing events patched away),
and repro's loop runs the recipe on the very batches airbench drew, from the very weights airbench
started from.

Tolerance: both sides do the same arithmetic in a different order (a mean loss against airbench's sum,
BN shifts stored ÷ 8 against a 64× learning rate, one parameter group against two), so they agree to
float32 rounding as it grows over the run. Measured on this set: the 99 losses within 5e-6 relative and
the final state within 4e-4 absolute at a tenth of the LR; at the recipe's LR the first 10 losses within
1e-6. The tests allow 2e-5, 1e-3 and 1e-5.
"""
from __future__ import annotations

import copy
import math

import airbench
import airbench.utils as airbench_utils
import pytest
import torch
from torch import nn

from repro.harness import store
from repro.recipes import RECIPES, resolve
from repro.recipes.cifar import AIRBENCH_PEAK_LR, AIRBENCH_WEIGHT_DECAY
from repro.train.data import DatasetInfo, registry
from repro.train.evaluate import tta_logits
from repro.train.loop import TrainOptions, run_recipe
from repro.train.models import build_model, count_parameters

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAIN_IMAGES, BATCH, WIDTH = 640, 64, 16       # 10 batches an epoch, 99 steps in 9.9 epochs
LOSS_RTOL, STATE_ATOL = 2e-5, 1e-3


class _Event:
    """Stands in for torch.cuda.Event: airbench times its GPU work with them."""

    def __init__(self, **_):
        pass

    def record(self):
        pass

    def elapsed_time(self, _other):
        return 0.0


@pytest.fixture
def airbench_on_cpu(monkeypatch, tmp_path):
    """airbench's code as shipped, on the CPU in fp32."""
    monkeypatch.setattr(nn.Module, "cuda", lambda self, *a, **k: self)
    monkeypatch.setattr(nn.Module, "half", lambda self: self)
    monkeypatch.setattr(torch.cuda, "Event", _Event)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *a, **k: None)
    real_load = torch.load
    monkeypatch.setattr(torch, "load", lambda path, map_location=None, **k: real_load(path, map_location="cpu", **k))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _pairs(theirs: nn.Module, ours: nn.Module) -> list[tuple[str, str]]:
    """State-dict keys side by side (repro has one extra buffer, `whitened`)."""
    mine = [k for k in ours.state_dict() if k != "whitened"]
    return list(zip(theirs.state_dict(), mine, strict=True))


def test_same_parameter_count_and_layer_shapes(airbench_on_cpu):
    theirs = airbench.make_net94()
    ours = build_model(RECIPES["cifar-airbench"].model)
    assert count_parameters(ours) == count_parameters(theirs) == 1_972_792
    assert [p.shape for p in ours.parameters()] == [p.shape for p in theirs.parameters()]
    assert [p.requires_grad for p in ours.parameters()] == [p.requires_grad for p in theirs.parameters()]
    for k_theirs, k_ours in _pairs(theirs, ours):
        assert theirs.state_dict()[k_theirs].shape == ours.state_dict()[k_ours].shape, (k_theirs, k_ours)


def _cifar_files(root, n_train: int, n_test: int) -> torch.Tensor:
    """airbench's cached format (cifar10/{train,test}.pt: uint8 N×32×32×3); learnable: a colour per class."""
    g = torch.Generator().manual_seed(0)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        labels = torch.randint(0, 10, (n,), generator=g)
        palette = torch.randint(0, 256, (10, 1, 1, 3), generator=g).float()
        images = (palette[labels] + 40 * torch.randn((n, 32, 32, 3), generator=g)).clamp(0, 255).to(torch.uint8)
        (root / "cifar10").mkdir(exist_ok=True)
        torch.save({"images": images, "labels": labels, "classes": [str(c) for c in range(10)]},
                   root / "cifar10" / f"{split}.pt")
        out[split] = (images, labels)
    return out


class _Recorder:
    """What airbench did: every training batch by epoch, the whitening images and filters, each loss."""

    def __init__(self):
        self.batches: list[list[tuple[torch.Tensor, torch.Tensor]]] = []
        self.losses: list[float] = []
        self.whitening_images = self.whitening_filters = self.initial_state = None


def _run_airbench(root, rec: _Recorder, monkeypatch, lr_factor: float) -> nn.Module:
    class RecordingLoader(airbench_utils.CifarLoader):
        def __iter__(self):
            epoch = []
            rec.batches.append(epoch)
            for x, y in super().__iter__():
                epoch.append((x.clone(), y.clone()))
                yield x, y

    real_init = airbench_utils.init_whitening_conv

    def recording_init(layer, train_set, eps=5e-4):
        rec.whitening_images = train_set.clone()
        real_init(layer, train_set, eps)
        rec.whitening_filters = layer.weight.detach().clone()

    def make_net():
        net = airbench.make_net94(widths={"block1": WIDTH, "block2": 4 * WIDTH, "block3": 4 * WIDTH})
        rec.initial_state = copy.deepcopy(net.state_dict())
        return net

    monkeypatch.setattr(airbench_utils, "init_whitening_conv", recording_init)
    loader = RecordingLoader(str(root / "cifar10"), train=True, batch_size=BATCH, aug={"flip": True, "translate": 2},
                             altflip=True, gpu="cpu")
    raw = torch.load(root / "cifar10" / "train.pt")["images"]
    loader.images = (raw.float() / 255).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    torch.manual_seed(0)
    return airbench.train94(train_loader=loader, make_net=make_net, verbose=False,
                            learning_rate=airbench.lib_airbench94.hyp["opt"]["lr"] * lr_factor)


class _Replay:
    """A DataSource that hands repro's loop the batches airbench drew, epoch by epoch."""
    sharded = False

    def __init__(self, rec: _Recorder, test_images, test_labels):
        self.rec = rec
        self.info = DatasetInfo(name="cifar10", num_train=TRAIN_IMAGES, num_eval=len(test_labels), num_classes=10,
                                checksum="replay", verified=False)
        mean, std = airbench_utils.CIFAR_MEAN.view(1, 3, 1, 1), airbench_utils.CIFAR_STD.view(1, 3, 1, 1)
        self.eval_x = ((test_images.float() / 255).permute(0, 3, 1, 2) - mean) / std
        self.eval_y = test_labels

    def steps_per_epoch(self, batch_size):
        return TRAIN_IMAGES // batch_size

    def train_batches(self, epoch, batch_size, generator, image_size=None, start_batch=0):
        yield from self.rec.batches[epoch - 1][start_batch:]

    def eval_batches(self, batch_size, image_size=None):
        yield self.eval_x, self.eval_y

    def unreadable_images(self):
        return {}

    def init_images(self, count):
        return self.rec.whitening_images[:count]


def _load_airbench_start(ours: nn.Module, theirs_state: dict) -> None:
    """airbench's initial weights into repro's network; repro stores the BN shift ÷ 8 (its 64× LR)."""
    state = ours.state_dict()
    for k_theirs, k_ours in zip(theirs_state, [k for k in state if k != "whitened"], strict=True):
        value = theirs_state[k_theirs]
        scale = 1 / ours.groups[0].body[2].bias_scale if "norm" in k_theirs and k_theirs.endswith(".bias") else 1
        state[k_ours] = value * scale if value.is_floating_point() else value
    ours.load_state_dict(state)


def _run_repro(tmp_path, rec: _Recorder, replay: _Replay, monkeypatch, lr_factor: float) -> nn.Module:
    recipe = resolve("cifar-airbench", precision="fp32", overrides=[
        f"data.batch_size={BATCH}", f"model.width={WIDTH}", "data.eval_batch_size=20",
        # the recipe's LR is for 1024 images of a mean loss; airbench's weight decay does not follow its LR
        f"optim.peak_lr={AIRBENCH_PEAK_LR * BATCH / 1024 * lr_factor!r}",
        f"optim.weight_decay={AIRBENCH_WEIGHT_DECAY / lr_factor!r}",
        # airbench rounds its 23 % warm-up down to a whole step (int(0.23 × 99) = 22 of 99); at this tiny
        # size that is 0.77 of a step, so the knot is put on step 22 here to make the schedules coincide
        f"schedule.knots_x=[0, {22 / 99!r}, 1]"])
    built = {}

    def build_with_airbench_start(spec):
        model = build_model(spec)
        _load_airbench_start(model, rec.initial_state)
        built["model"] = model
        return model

    monkeypatch.setattr("repro.train.loop.build_model", build_with_airbench_start)
    monkeypatch.setattr(registry, "make", lambda *a, **k: replay)
    run_dir = store.create_run_dir(tmp_path / "results", recipe.name)
    run_recipe(recipe, TrainOptions(run_dir=run_dir, device="cpu"))
    return built["model"]


class _Enough(Exception):
    """Raised by the loss recorder once it has the steps a test compares."""


def _train_both(root, tmp_path, monkeypatch, lr_factor: float, steps: int):
    """airbench, then repro on airbench's batches and start: (airbench's model and losses, repro's)."""
    files = _cifar_files(root, TRAIN_IMAGES, 20)
    rec = _Recorder()
    losses: list[float] = []

    class RecordingLoss(nn.CrossEntropyLoss):
        def forward(self, logits, target):
            out = super().forward(logits, target)
            losses.append(float(out.detach().double().sum()))
            if len(losses) > steps:
                raise _Enough
            return out

    monkeypatch.setattr(nn, "CrossEntropyLoss", RecordingLoss)
    try:
        theirs = _run_airbench(root, rec, monkeypatch, lr_factor)
    except _Enough:
        theirs = None
    rec.losses, losses[:] = losses[:steps], []
    try:
        ours = _run_repro(tmp_path, rec, _Replay(rec, *files["test"]), monkeypatch, lr_factor)
    except _Enough:
        ours = None
    return theirs, rec, ours, losses[:steps]


@pytest.mark.slow  # two full 99-step trainings of a width-16 airbench94 on the CPU, ~50 s
def test_whole_training_matches_airbench_step_by_step(airbench_on_cpu, tmp_path, monkeypatch):
    """At a tenth of the LR (airbench's learning_rate argument; its weight decay is decoupled from the LR,
    so repro's is raised to match), where float32 rounding does not grow chaotically: all 99 steps, the
    whitening bias frozen after epoch 3, the lookahead average taken at the end, the 10th epoch cut."""
    theirs, rec, ours, losses = _train_both(airbench_on_cpu, tmp_path, monkeypatch, 0.1, steps=99)
    assert math.ceil(TRAIN_IMAGES // BATCH * 9.9) == 99 == len(rec.losses) == len(losses)
    assert [len(epoch) for epoch in rec.batches] == [10] * 9 + [9]   # the 10th epoch cut at 0.9
    assert torch.equal(ours.whiten.weight, theirs[0].weight)         # whitening from the same 640 images
    for step, (a, b) in enumerate(zip(rec.losses, losses), start=1):
        assert b == pytest.approx(a, rel=LOSS_RTOL), f"step {step}: airbench {a}, repro {b}"
    theirs_state, ours_state = theirs.state_dict(), ours.state_dict()
    for k_theirs, k_ours in _pairs(theirs, ours):
        a, b = theirs_state[k_theirs], ours_state[k_ours]
        if not a.is_floating_point():
            continue
        if "norm" in k_theirs and k_theirs.endswith(".bias"):
            b = b * ours.groups[0].body[2].bias_scale
        assert torch.allclose(a, b, atol=STATE_ATOL), (k_theirs, (a - b).abs().max().item())


@pytest.mark.slow  # ~15 s
def test_first_epoch_matches_airbench_at_the_recipes_lr(airbench_on_cpu, tmp_path, monkeypatch):
    """At the recipe's own LR the training is chaotic on a 640-image set: repro against repro with only
    the memory format changed drifts apart by 1e-6 within an epoch and 1e-3 within three. The first
    epoch (10 steps, a lookahead average at 5 and 10) is compared, to 1e-5."""
    _, rec, _, losses = _train_both(airbench_on_cpu, tmp_path, monkeypatch, 1.0, steps=10)
    assert len(rec.losses) == len(losses) == 10
    assert losses == pytest.approx(rec.losses, rel=1e-5)


class _Images:
    """What airbench's infer reads from a loader: the images and a normalize step."""

    def __init__(self, images):
        self.images = images

    @staticmethod
    def normalize(x):
        return x


@pytest.mark.parametrize("tta_level, translate", [(1, 0), (2, 1)])
def test_test_time_augmentation_is_airbenchs(airbench_on_cpu, tta_level, translate):
    torch.manual_seed(0)
    net = airbench.make_net94(widths={"block1": 8, "block2": 16, "block3": 16}).eval()
    images = torch.randn(6, 3, 32, 32)
    theirs = airbench_utils.infer(net, _Images(images), tta_level=tta_level)
    with torch.no_grad():
        ours = tta_logits(net, images, flip=True, translate=translate)
    assert torch.allclose(ours, theirs, atol=1e-6)
    assert not torch.allclose(ours, net(images).detach(), atol=1e-3)    # the augmentation changes the logits
