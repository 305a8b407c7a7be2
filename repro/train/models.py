"""Model zoo. Every model ends in global adaptive pooling, so any input size works.

`build_model(spec)` looks the name up in MODELS; each builder takes the recipe's ModelSpec.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn


class ConcatPool2d(nn.Module):
    """fast.ai's concat pooling: adaptive average and max pooling side by side (doubles the features)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([nn.functional.adaptive_avg_pool2d(x, 1),
                          nn.functional.adaptive_max_pool2d(x, 1)], dim=1).flatten(1)


class GlobalAvgPool2d(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)


def conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def digits_net(spec) -> nn.Module:
    """Three conv blocks on 8×8 single-channel scans: 8×8 → 4×4 → pooled; ~30 k parameters at width 32."""
    w = spec.width
    pool = ConcatPool2d() if spec.concat_pool else GlobalAvgPool2d()
    head_in = 2 * 2 * w if spec.concat_pool else 2 * w
    return nn.Sequential(
        conv_bn(1, w), conv_bn(w, w),
        nn.MaxPool2d(2),
        conv_bn(w, 2 * w),
        pool,
        nn.Linear(head_in, spec.num_classes),
    )


MODELS: dict[str, Callable] = {"digits_net": digits_net}

# how the builders that reproduce a source initialise their weights (docs/recipes.md; tests/train/test_models.py
# checks each against the built model)
INITIALISATION: dict[str, str] = {
    "wide_resnet": "conv N(0, 2/(k·k·out)), BN γ 1 β 0, head bias 0",
    "basenet_resnet18": "PyTorch 0.3.1 defaults: conv and linear U(±1/√fan_in), BN γ U[0, 1) β 0",
    "airbench94": "PyTorch defaults, then each 3×3 conv's first min(in, out) filters the identity (dirac), "
                  "BN γ 1 (frozen) β 0, whitening bias 0",
}


def register_model(name: str):
    def deco(fn: Callable) -> Callable:
        MODELS[name] = fn
        return fn
    return deco


def build_model(spec) -> nn.Module:
    try:
        builder = MODELS[spec.name]
    except KeyError:
        raise ValueError(f"unknown model {spec.name!r}; known models: {', '.join(sorted(MODELS))}") from None
    return builder(spec)


def uses_channels_last(recipe, device: torch.device) -> bool:
    """A recipe's channels_last, on CUDA only. On CPU, channels-last tensors are routed to oneDNN
    (mkldnn) kernels that corrupted the heap on AVX-512 machines (preact_resnet18 at 48 px: "double
    free or corruption", then SIGSEGV; torch 2.14.1 CPU), where contiguous tensors take other kernels;
    channels-last is a tensor-core layout and buys a CPU run nothing."""
    return bool(recipe.channels_last) and torch.device(device).type == "cuda"


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# -- torchvision ResNets (ImageNet recipes) ------------------------------------------------------------
def _torchvision_resnet(arch: str, spec) -> nn.Module:
    """torchvision's ResNet, randomly initialised: AdaptiveAvgPool2d before the head, so 128, 224 and
    288 inputs all work. With `spec.zero_init_residual` the last BN of every residual block starts at
    zero (Goyal et al. 2017), so each block begins as the identity; without it every BN starts at 1,
    as the 2018 fast.ai DAWNBench ResNet-50 did."""
    import torchvision
    return getattr(torchvision.models, arch)(weights=None, num_classes=spec.num_classes,
                                             zero_init_residual=spec.zero_init_residual)


def resnet50(spec) -> nn.Module:
    return _torchvision_resnet("resnet50", spec)


def resnet18(spec) -> nn.Module:
    return _torchvision_resnet("resnet18", spec)


MODELS.update({"resnet50": resnet50, "resnet18": resnet18})


# -- CIFAR-10 models -------------------------------------------------------------------------------
class GlobalMaxPool2d(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.amax(x, dim=(2, 3))


def _head_pool(concat: bool, default: nn.Module) -> tuple[nn.Module, int]:
    """The pooling module and how many features per channel it yields (2 for concat pooling)."""
    return (ConcatPool2d(), 2) if concat else (default, 1)


class PreActBlock(nn.Module):
    """Pre-activation residual block (He et al. 2016, "Identity Mappings"): BN-ReLU-conv twice; the
    shortcut sees the pre-activated input when it has to project (stride or width change)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.shortcut = (nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)
                         if stride != 1 or c_in != c_out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = nn.functional.relu(self.bn1(x))
        residual = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(nn.functional.relu(self.bn2(out)))
        return out + residual


class PreActResNet(nn.Module):
    """Stem conv, stages of PreActBlocks (the first block of stages 2+ halves the size), final BN-ReLU,
    global pooling, linear head."""

    def __init__(self, widths: list[int], blocks: list[int], num_classes: int, concat_pool: bool,
                 stem_width: int | None = None) -> None:
        super().__init__()
        stem = stem_width or widths[0]
        self.stem = nn.Conv2d(3, stem, 3, padding=1, bias=False)
        layers: list[nn.Module] = []
        c_in = stem
        for i, (width, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(PreActBlock(c_in, width, stride=2 if (i > 0 and j == 0) else 1))
                c_in = width
        self.stages = nn.Sequential(*layers)
        self.final = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(inplace=True))
        self.pool, factor = _head_pool(concat_pool, GlobalAvgPool2d())
        self.head = nn.Linear(factor * c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.final(self.stages(self.stem(x)))))


def preact_resnet18(spec) -> nn.Module:
    """Preact ResNet-18 (four stages of two blocks, widths w, 2w, 4w, 8w; w = spec.width, 64 by default).
    With concat pooling and 10 classes: 11,177,290 parameters (11,172,170 with average pooling only)."""
    w = spec.width
    return PreActResNet([w, 2 * w, 4 * w, 8 * w], [2, 2, 2, 2], spec.num_classes, spec.concat_pool)


def wide_resnet(spec) -> nn.Module:
    """Wide residual network (Zagoruyko & Komodakis 2016) as fast.ai submitted it to DAWNBench 2018
    (fastai/imagenet-fast@e93593ca, cifar10/models/wideresnet.py, `wrn_22` at line 81): a 16-channel stem,
    three stages of (depth - 4) / 6 pre-activation blocks with widths w, 2w, 4w (w = spec.width; wrn_22 is
    depth 22, w = 96, i.e. widening factor 6: 9,658,458 parameters), final BN-ReLU, average pooling,
    linear head. Initialised as that file does (lines 63-70): convolutions N(0, 2 / (k·k·out)), BN γ = 1
    and β = 0, the head's bias 0."""
    depth = spec.depth or 22
    if (depth - 4) % 6 != 0 or depth < 10:
        raise ValueError(f"wide_resnet depth must be 6·n + 4 (10, 16, 22, 28, 34, …), got {depth}; "
                         "set model.depth in the recipe")
    n = (depth - 4) // 6
    w = spec.width
    model = PreActResNet([w, 2 * w, 4 * w], [n, n, n], spec.num_classes, spec.concat_pool, stem_width=16)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
    return model


class BasenetResNet18(nn.Module):
    """Ben Johnson's "Resnet18 + minor modifications" (bkj/basenet@49b2b61, examples/cifar10.py lines
    111-180, derived from kuangliu/pytorch-cifar): a prep conv with BN-ReLU, four stages of two
    pre-activation blocks of widths 64, 128, 256, 256 (the last stage 256, not 512), no final BN,
    average and max pooling concatenated (512 features) into a linear head: 5,205,962 parameters. The
    entry ran PyTorch 0.3.1, whose BatchNorm weights started uniform in [0, 1) (a ones start came with
    later PyTorch releases), so they start that way here."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.prep = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        layers: list[nn.Module] = []
        c_in = 64
        for width, stride in ((64, 1), (128, 2), (256, 2), (256, 2)):
            layers += [PreActBlock(c_in, width, stride), PreActBlock(width, width)]
            c_in = width
        self.layers = nn.Sequential(*layers)
        self.pool = ConcatPool2d()
        self.classifier = nn.Linear(2 * c_in, num_classes)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                nn.init.uniform_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.layers(self.prep(x))))


def basenet_resnet18(spec) -> nn.Module:
    return BasenetResNet18(spec.num_classes)


class Residual(nn.Module):
    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


def resnet9(spec) -> nn.Module:
    """David Page's ResNet-9 (Myrtle, DAWNBench 2018/19): prep conv w, then 2w (pool, residual), 4w (pool),
    8w (pool, residual); global max pooling and a linear head scaled by 1/8. 6,573,120 parameters at w = 64."""
    w = spec.width

    def down(c_in: int, c_out: int) -> nn.Sequential:
        return nn.Sequential(conv_bn(c_in, c_out), nn.MaxPool2d(2))

    pool, factor = _head_pool(spec.concat_pool, GlobalMaxPool2d())
    return nn.Sequential(
        conv_bn(3, w),
        down(w, 2 * w), Residual(nn.Sequential(conv_bn(2 * w, 2 * w), conv_bn(2 * w, 2 * w))),
        down(2 * w, 4 * w),
        down(4 * w, 8 * w), Residual(nn.Sequential(conv_bn(8 * w, 8 * w), conv_bn(8 * w, 8 * w))),
        pool,
        nn.Linear(factor * 8 * w, spec.num_classes, bias=False),
        Scale(0.125),
    )


class AirbenchBatchNorm(nn.BatchNorm2d):
    """airbench's batch norm: scale frozen at 1 (only the shift learns), fast running statistics, and the
    shift trained at 64× the network's learning rate. The 64× needs no optimizer support: the shift is
    stored divided by 8 and multiplied back in forward, and with SGD (momentum and weight decay included)
    a parameter stored as p/k moves as if its learning rate were k² times larger."""

    bias_scale = 8.0  # √64: airbench's bias_scaler
    bias_lr_multiplier = bias_scale ** 2
    default_momentum = 0.6  # airbench's batchnorm_momentum: PyTorch's momentum is 1 - this

    def __init__(self, channels: int, momentum: float = default_momentum, eps: float = 1e-12) -> None:
        super().__init__(channels, eps=eps, momentum=1 - momentum)
        self.weight.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                        self.bias * self.bias_scale, self.training, self.momentum, self.eps)


def _dirac_start(conv: nn.Conv2d) -> nn.Conv2d:
    """airbench's Conv init: PyTorch's default, then the first c_in filters set to the identity."""
    with torch.no_grad():
        nn.init.dirac_(conv.weight[:conv.in_channels])
    return conv


class ConvGroup(nn.Module):
    """conv → max-pool 2 → BN → GELU → conv → BN → GELU (airbench94's block)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _dirac_start(nn.Conv2d(c_in, c_out, 3, padding="same", bias=False)), nn.MaxPool2d(2),
            AirbenchBatchNorm(c_out), nn.GELU(),
            _dirac_start(nn.Conv2d(c_out, c_out, 3, padding="same", bias=False)), AirbenchBatchNorm(c_out),
            nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Airbench94Net(nn.Module):
    """The airbench94 network (Keller Jordan, 2024): a frozen 2×2 patch-whitening conv (24 channels), three
    conv groups of widths w, 4w, 4w (64, 256, 256), global max pooling, a bias-free linear head scaled by
    1/9; 1,972,792 parameters at w = 64.

    The whitening filters are data-dependent, as in airbench: the loop sets them from the first
    `model.whiten_images` training images before the first step (`init_whitening`), or, when that is 0,
    the first training forward pass sets them from its batch; under torch.distributed the statistics are
    summed over the ranks so every replica gets the same filters. The `whitened` buffer travels with
    checkpoints, so a resumed run does not re-initialise."""

    def __init__(self, width: int, num_classes: int, concat_pool: bool) -> None:
        super().__init__()
        self.whiten = nn.Conv2d(3, 24, 2, padding=0, bias=True)
        self.whiten.weight.requires_grad_(False)
        nn.init.zeros_(self.whiten.bias)
        self.groups = nn.Sequential(ConvGroup(24, width), ConvGroup(width, 4 * width),
                                    ConvGroup(4 * width, 4 * width))
        self.pool, factor = _head_pool(concat_pool, GlobalMaxPool2d())
        self.head = nn.Linear(factor * 4 * width, num_classes, bias=False)
        self.register_buffer("whitened", torch.zeros((), dtype=torch.bool))
        self._needs_whitening = True  # a Python mirror of the buffer: no device sync per step
        self.register_load_state_dict_post_hook(_sync_whitening_flag)

    head_scale = 1 / 9  # airbench's scaling_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._needs_whitening and self.training:
            self.init_whitening(x)
        x = nn.functional.gelu(self.whiten(x))
        return self.head(self.pool(self.groups(x))) * self.head_scale

    @torch.no_grad()
    def init_whitening(self, images: torch.Tensor, eps: float = 5e-4) -> None:
        """images: N×3×H×W (normalised). Filters = eigenvectors of the 2×2 patches' second-moment matrix,
        largest eigenvalue first, scaled by 1/sqrt(eigenvalue + eps), then their negatives (12 → 24
        channels): airbench94's init_whitening_conv, patch order and float32 arithmetic included, so one
        process computes the same filters from the same images."""
        with torch.autocast(device_type=images.device.type, enabled=False):
            c = images.shape[1]
            patches = images.float().unfold(2, 2, 1).unfold(3, 2, 1).transpose(1, 3).reshape(-1, c * 4)
            gram, count = patches.T @ patches, patches.shape[0]
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                total = torch.cat([gram.flatten(), gram.new_tensor([count])])
                torch.distributed.all_reduce(total)
                gram, count = total[:-1].reshape(gram.shape), int(total[-1].item())
            eigenvalues, eigenvectors = torch.linalg.eigh(gram / count, UPLO="U")
            eigenvalues = eigenvalues.flip(0).view(-1, 1, 1, 1)
            filters = eigenvectors.T.reshape(c * 4, c, 2, 2).flip(0) / torch.sqrt(eigenvalues + eps)
        w = self.whiten.weight
        w.copy_(torch.cat([filters, -filters]).to(w.dtype))
        self.whiten.bias.zero_()
        self.whitened.fill_(True)
        self._needs_whitening = False


def _sync_whitening_flag(module: Airbench94Net, incompatible_keys) -> None:
    module._needs_whitening = not bool(module.whitened)


def airbench94(spec) -> nn.Module:
    return Airbench94Net(spec.width, spec.num_classes, spec.concat_pool)


for _name, _builder in (("preact_resnet18", preact_resnet18), ("wide_resnet", wide_resnet),
                        ("basenet_resnet18", basenet_resnet18), ("resnet9", resnet9), ("airbench94", airbench94)):
    MODELS[_name] = _builder
