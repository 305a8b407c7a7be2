"""Model zoo: every model trains at 32×32 and at another size; parameter counts; concat pooling."""
import pytest
import torch
from torch import nn

from repro.recipes import ModelSpec
from repro.recipes import RECIPES
from repro.train.models import (INITIALISATION, MODELS, Airbench94Net, BasenetResNet18, ConcatPool2d, build_model,
                                count_parameters, uses_channels_last)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
CHANNELS_LAST = RECIPES["cifar-fastai-2018"]   # a recipe that asks for channels-last


def test_channels_last_only_on_cuda():
    """CPU runs stay off the channels-last oneDNN kernels that crashed AVX-512 machines."""
    assert CHANNELS_LAST.channels_last
    assert not uses_channels_last(CHANNELS_LAST, torch.device("cpu"))
    assert uses_channels_last(CHANNELS_LAST, torch.device("cuda"))
    assert not uses_channels_last(RECIPES["digits"], torch.device("cuda"))


def test_a_cpu_run_of_a_channels_last_recipe_sets_up_a_contiguous_model():
    """The trainer itself: the model it builds for a channels-last recipe on CPU."""
    from repro.train import loop
    from repro.train.distributed import DistContext

    run = loop._set_up(CHANNELS_LAST, loop.TrainOptions(run_dir=None), DistContext(), session=None)
    convs = [m.weight for m in run.model.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(w.is_contiguous() for w in convs)
    assert not convs[0].is_contiguous(memory_format=torch.channels_last)


SMALL = {  # narrow versions so forward/backward stays fast on CPU; the layer structure is the real one
    "preact_resnet18": ModelSpec(name="preact_resnet18", num_classes=10, width=8, concat_pool=True),
    "wide_resnet": ModelSpec(name="wide_resnet", num_classes=10, width=8, depth=16),
    "resnet9": ModelSpec(name="resnet9", num_classes=10, width=8),
    "airbench94": ModelSpec(name="airbench94", num_classes=10, width=8),
    "basenet_resnet18": ModelSpec(name="basenet_resnet18", num_classes=10),
}


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("size", [32, 48])
def test_forward_backward_at_two_sizes(name, size):
    """In the memory format the trainer uses on this device: channels-last on CUDA only (on an
    AVX-512 CPU, channels-last preact_resnet18 at 48 px corrupted the heap and killed the suite)."""
    torch.manual_seed(0)
    fmt = torch.channels_last if uses_channels_last(CHANNELS_LAST, DEVICE) else torch.contiguous_format
    model = build_model(SMALL[name]).to(DEVICE, memory_format=fmt)
    x = torch.randn(4, 3, size, size, device=DEVICE).contiguous(memory_format=fmt)
    y = torch.tensor([0, 1, 2, 3], device=DEVICE)
    logits = model(x)
    assert logits.shape == (4, 10)
    nn.functional.cross_entropy(logits, y).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_all_cifar_models_registered_beside_digits():
    assert {"digits_net", "preact_resnet18", "wide_resnet", "basenet_resnet18", "resnet9", "airbench94"} <= set(MODELS)
    with pytest.raises(ValueError, match="unknown model 'resnet1000'"):
        build_model(ModelSpec(name="resnet1000", num_classes=10))


def test_preact_resnet18_parameter_count():
    concat = build_model(ModelSpec(name="preact_resnet18", num_classes=10, width=64, concat_pool=True))
    plain = build_model(ModelSpec(name="preact_resnet18", num_classes=10, width=64, concat_pool=False))
    assert count_parameters(concat) == 11_177_290          # ≈ 11.2 M, as the issue expects
    # concat pooling doubles the head input: 512 more inputs × 10 classes
    assert count_parameters(concat) - count_parameters(plain) == 512 * 10


@pytest.mark.parametrize("spec,expected", [
    (ModelSpec(name="wide_resnet", num_classes=10, width=96, depth=22), 9_658_458),   # fast.ai's wrn_22
    (ModelSpec(name="resnet9", num_classes=10, width=64), 6_573_120),
    (ModelSpec(name="airbench94", num_classes=10, width=64), 1_972_792),
    (ModelSpec(name="basenet_resnet18", num_classes=10), 5_205_962),                 # bkj/basenet's ResNet18
])
def test_reference_parameter_counts(spec, expected):
    assert count_parameters(build_model(spec)) == expected


def test_concat_pooling_doubles_the_head_input():
    x = torch.randn(2, 7, 5, 5)
    pooled = ConcatPool2d()(x)
    assert pooled.shape == (2, 14)
    assert torch.allclose(pooled[:, :7], x.mean(dim=(2, 3)))
    assert torch.allclose(pooled[:, 7:], x.amax(dim=(2, 3)))
    for name in ("preact_resnet18", "resnet9", "airbench94", "wide_resnet"):
        base = ModelSpec(name=name, num_classes=10, width=8, depth=10)
        plain = build_model(base)
        concat = build_model(ModelSpec(name=name, num_classes=10, width=8, depth=10, concat_pool=True))
        head_plain = [m for m in plain.modules() if isinstance(m, nn.Linear)][-1]
        head_concat = [m for m in concat.modules() if isinstance(m, nn.Linear)][-1]
        assert head_concat.in_features == 2 * head_plain.in_features, name


def test_wide_resnet_depth_and_width():
    shallow = build_model(ModelSpec(name="wide_resnet", num_classes=10, width=8, depth=10))
    deep = build_model(ModelSpec(name="wide_resnet", num_classes=10, width=8, depth=34))
    blocks = lambda m: sum(1 for mod in m.modules() if type(mod).__name__ == "PreActBlock")  # noqa: E731
    assert blocks(shallow) == 3 and blocks(deep) == 15
    wider = build_model(ModelSpec(name="wide_resnet", num_classes=10, width=16, depth=10))
    assert count_parameters(wider) > 3 * count_parameters(shallow)
    with pytest.raises(ValueError, match="6·n \\+ 4"):
        build_model(ModelSpec(name="wide_resnet", num_classes=10, width=8, depth=20))


def test_airbench_frozen_parameters():
    model = build_model(ModelSpec(name="airbench94", num_classes=10, width=8))
    bn_scales = [m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bn_scales and all(not p.requires_grad and torch.all(p == 1) for p in bn_scales)
    assert not model.whiten.weight.requires_grad and model.whiten.bias.requires_grad


def correlated_images(n=64, size=16):
    torch.manual_seed(0)
    base = torch.randn(n, 1, size, size)
    return torch.cat([base, 0.8 * base + 0.2 * torch.randn_like(base), torch.randn_like(base)], dim=1)


def test_airbench_whitening_decorrelates_patches():
    images = correlated_images()
    model = Airbench94Net(width=8, num_classes=10, concat_pool=False)
    model.init_whitening(images, eps=0.0)
    out = nn.functional.conv2d(images, model.whiten.weight[:12])
    flat = out.permute(0, 2, 3, 1).reshape(-1, 12)
    second_moment = flat.T @ flat / flat.shape[0]
    assert torch.allclose(second_moment, torch.eye(12), atol=1e-3)     # whitened: identity second moment
    assert torch.equal(model.whiten.weight[12:], -model.whiten.weight[:12])


def test_airbench_whitens_on_the_first_training_batch_only():
    images = correlated_images()
    model = Airbench94Net(width=8, num_classes=10, concat_pool=False)
    model.eval()
    model(images)
    assert not bool(model.whitened)                                    # eval never initialises
    model.train()
    model(images)
    assert bool(model.whitened)
    reference = Airbench94Net(width=8, num_classes=10, concat_pool=False)
    reference.init_whitening(images)
    assert torch.allclose(model.whiten.weight, reference.whiten.weight, atol=1e-5)
    first = model.whiten.weight.clone()
    model(torch.randn(8, 3, 16, 16))
    assert torch.equal(model.whiten.weight, first)                     # later batches leave it alone
    resumed = Airbench94Net(width=8, num_classes=10, concat_pool=False)
    resumed.load_state_dict(model.state_dict())
    resumed.train()
    resumed(torch.randn(8, 3, 16, 16))
    assert torch.equal(resumed.whiten.weight, first)                   # a resumed run keeps its filters


def test_airbench_batchnorm_shift_learns_64_times_faster():
    """One SGD step (Nesterov momentum, weight decay) on the stored shift moves the effective shift exactly
    as a plain BatchNorm's shift moves with a 64× learning rate."""
    from repro.train.models import AirbenchBatchNorm
    torch.manual_seed(0)
    x = torch.randn(8, 4, 5, 5)
    target = torch.randn(8, 4, 5, 5)
    ours = AirbenchBatchNorm(4)
    plain = nn.BatchNorm2d(4, eps=ours.eps, momentum=ours.momentum)
    with torch.no_grad():
        plain.bias.copy_(torch.randn(4))
        ours.bias.copy_(plain.bias / ours.bias_scale)
    plain.weight.requires_grad_(False)
    assert torch.allclose(ours(x), plain(x), atol=1e-6)
    lr, wd = 0.01, 5e-3
    opt_ours = torch.optim.SGD([ours.bias], lr=lr, momentum=0.85, nesterov=True, weight_decay=wd)
    opt_plain = torch.optim.SGD([plain.bias], lr=64 * lr, momentum=0.85, nesterov=True, weight_decay=wd / 64)
    for _ in range(3):
        for module, opt in ((ours, opt_ours), (plain, opt_plain)):
            opt.zero_grad()
            ((module(x) - target) ** 2).mean().backward()
            opt.step()
    assert torch.allclose(ours.bias * ours.bias_scale, plain.bias, atol=1e-5)
    assert not torch.allclose(plain.bias, torch.zeros(4))


def test_wide_resnet_starts_as_fastais_wideresnet_py():
    """INITIALISATION["wide_resnet"]: conv N(0, 2/(k·k·out)), BN γ 1 β 0, head bias 0."""
    assert INITIALISATION["wide_resnet"] == "conv N(0, 2/(k·k·out)), BN γ 1 β 0, head bias 0"
    torch.manual_seed(0)
    model = build_model(ModelSpec(name="wide_resnet", num_classes=10, width=96, depth=22))
    for m in model.modules():
        if isinstance(m, nn.Conv2d) and m.weight.numel() > 10_000:
            expected = (2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels)) ** 0.5
            assert abs(m.weight.std().item() / expected - 1) < 0.05 and abs(m.weight.mean().item()) < expected / 20
        elif isinstance(m, nn.BatchNorm2d):
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)
    assert torch.all(model.head.bias == 0)


def test_basenet_resnet18_is_bkjs_modified_resnet18():
    """Prep conv + BN + ReLU, stages 64/128/256/256, no final BN, avg ‖ max pooling, Linear(512, 10); BN γ
    uniform in [0, 1) as PyTorch 0.3.1 started it."""
    assert "BN γ U[0, 1)" in INITIALISATION["basenet_resnet18"]
    torch.manual_seed(0)
    model = build_model(ModelSpec(name="basenet_resnet18", num_classes=10))
    assert isinstance(model, BasenetResNet18)
    assert [type(m) for m in model.prep] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]
    assert [b.conv2.out_channels for b in model.layers] == [64, 64, 128, 128, 256, 256, 256, 256]
    assert model.classifier.in_features == 512 and isinstance(model.pool, ConcatPool2d)
    gammas = torch.cat([m.weight for m in model.modules() if isinstance(m, nn.BatchNorm2d)])
    assert gammas.min() >= 0 and gammas.max() < 1 and gammas.std() > 0.2
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            assert m.weight.abs().max() <= fan_in ** -0.5 + 1e-6
    x = torch.randn(2, 3, 32, 32)
    features = model.layers(model.prep(x))
    assert features.shape == (2, 256, 4, 4)               # the last stage is 256 wide, strides 1, 2, 2, 2


def test_airbench_convs_start_with_identity_filters():
    assert "dirac" in INITIALISATION["airbench94"]
    model = Airbench94Net(width=8, num_classes=10, concat_pool=False)
    for conv in (m for m in model.groups.modules() if isinstance(m, nn.Conv2d)):
        n = min(conv.in_channels, conv.out_channels)      # airbench: dirac_(w[:w.size(1)])
        identity = torch.zeros_like(conv.weight[:n])
        identity[torch.arange(n), torch.arange(n), 1, 1] = 1
        assert torch.equal(conv.weight[:n].detach(), identity)
    assert torch.all(model.whiten.bias == 0)


def test_torchvision_resnet_zero_init_residual_follows_the_spec():
    on = build_model(ModelSpec(name="resnet18", num_classes=7))
    off = build_model(ModelSpec(name="resnet18", num_classes=7, zero_init_residual=False))
    assert not on.layer1[0].bn2.weight.any() and torch.all(off.layer1[0].bn2.weight == 1)
