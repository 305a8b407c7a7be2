"""A recipe is data: one typed, frozen object per named recipe, resolved once and saved with the run.

Overrides are dotted keys (`optim.peak_lr=0.4`, `epochs=12`) that fail loudly on an unknown key or a
value of the wrong type. The recipe hash is the SHA-256 of the resolved config as canonical JSON.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any


class RecipeError(ValueError):
    """Unknown recipe, unknown override key, or a value of the wrong type."""


@dataclass(frozen=True)
class ModelSpec:
    name: str                       # key in repro.train.models.MODELS
    num_classes: int
    width: int = 64                 # base channel count (models interpret it)
    depth: int = 0                  # models that take a depth (wide ResNet); 0 = the model's default
    concat_pool: bool = False       # adaptive avg + max pooling concatenated before the head
    zero_init_residual: bool = True  # torchvision ResNets: each block's last BN starts at 0 (Goyal et al. 2017)
    # models with a data-dependent stem (airbench94's whitening): initialise it from the first N training
    # images, un-augmented, before the first step; 0 = from the first training batch
    whiten_images: int = 0
    # (parameter name, epochs): the parameter is trained for the first N epochs, then frozen (its gradient
    # dropped before each step, so neither weight decay nor momentum moves it)
    frozen_after: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class DataSpec:
    name: str                       # digits | cifar10 | imagenet
    batch_size: int                 # global batch size (split across ranks)
    eval_batch_size: int = 512
    image_size: int = 0             # fixed training size; 0 = the dataset's native size
    # progressive resizing: (fraction of training, size) knots, linear between, rounded to size_multiple;
    # fractions, so --epochs stretches the size schedule with the LR schedule
    size_knots: tuple[tuple[float, int], ...] = ()
    size_multiple: int = 32
    eval_size: int = 0
    flip: bool = False
    # random: a fresh coin per image and epoch; alternating: one coin per image, then every image is
    # mirrored in every other epoch (airbench's alternating flip)
    flip_mode: str = "random"
    crop_padding: int = 0
    cutout: int = 0
    workers: int = 0
    loader: str = "device"          # device (whole set on the device) | dataloader
    # ImageNet's CPU JPEG decoder: torchvision (whole image, then the crop) | nvimgcodec (only the
    # training crop's region; the repro[nvimgcodec] extra; the same batches, fewer CPU-seconds)
    decoder: str = "torchvision"
    synthetic_images: int = 0       # --synthetic: training images (eval gets a fifth); 0 = the real set's size
    # (image size, ratio): the global batch at that training size is round(batch_size × ratio), for
    # recipes whose source changed the batch per stage (fast.ai 2018: 192 → 128 images per GPU at 288 px)
    batch_ratio_per_size: tuple[tuple[int, float], ...] = ()
    # ImageNet: validation images grouped by aspect ratio, each batch cropped to one shared rectangle
    rect_val: bool = False


@dataclass(frozen=True)
class OptimSpec:
    name: str = "sgd"               # sgd | adamw
    peak_lr: float = 0.1
    weight_decay: float = 5e-4
    nesterov: bool = True
    no_bn_weight_decay: bool = False
    label_smoothing: float = 0.0
    lr_scale_with_batch: bool = False   # linear scaling rule when the batch changes per stage
    # Lookahead-style weight averaging (airbench94): every `lookahead_every` steps the weights move to an
    # exponential average kept alongside, with decay lookahead_base ** every × (step / total) ** power;
    # after the last step the network takes the average. 0 = off.
    lookahead_every: int = 0
    lookahead_base: float = 0.95
    lookahead_power: float = 3.0


@dataclass(frozen=True)
class ScheduleSpec:
    kind: str = "one_cycle"         # one_cycle | piecewise
    pct_start: float = 0.25
    div: float = 10.0
    final_div: float = 100.0
    final_phase: float = 0.1
    momentum_max: float = 0.95
    momentum_min: float = 0.85
    # for kind=piecewise: LR multipliers of peak_lr over progress knots
    knots_x: tuple[float, ...] = ()
    knots_y: tuple[float, ...] = ()


@dataclass(frozen=True)
class Recipe:
    name: str
    task: str                       # leaderboard group: digits | cifar10 | imagenet-top5 | imagenet-top1
    description: str
    model: ModelSpec
    data: DataSpec
    optim: OptimSpec = field(default_factory=OptimSpec)
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    epochs: int = 10
    target_metric: str = "top1"     # top1 | top5
    target: float = 0.94
    precision: str = "fp32"         # fp32 | fp16 | bf16
    channels_last: bool = False
    compile: bool = False
    tta: bool = False               # test-time augmentation: average with the flipped image
    tta_translate: int = 0          # with tta: also average the views shifted by ± this many pixels
    # the last epoch stops after this fraction of its batches (airbench94 trains 9.9 epochs: 10 epochs,
    # the 10th cut at 0.9); schedules run over epochs - 1 + final_epoch_fraction
    final_epoch_fraction: float = 1.0
    gpus: int = 1                   # GPUs the published figure used (the default --gpus)
    seed: int = 0
    published_claim: str = ""       # the figure this recipe reproduces …
    published_source: str = ""      # … and where it was published

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def hash(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=list)
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


# recipe names and tasks become folder and file names: letters, digits, dot, dash, underscore
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("one_cycle", "piecewise")
PRECISIONS = ("fp32", "fp16", "bf16")
FLIP_MODES = ("random", "alternating")
WHITENING_MODELS = ("airbench94",)       # models with a data-dependent whitening stem
METRICS = ("top1", "top5")
DECODERS = ("torchvision", "nvimgcodec")


def check_slug(what: str, value: object) -> None:
    if not isinstance(value, str) or not SLUG.match(value) or ".." in value:
        raise RecipeError(f"{what} {value!r} must be 1-64 letters, digits, '.', '-' or '_' (no '/', no '..'), "
                          f"since it names folders under --results; e.g. --set {what}=my-recipe")


def _check_range(key: str, value: float, low: float, high: float, *, low_open: bool = False,
                 high_open: bool = False) -> None:
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not math.isfinite(value) or too_low or too_high:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise RecipeError(f"{key} must be in {interval}, got {value!r}")


def _check_choice(key: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise RecipeError(f"{key} must be one of {', '.join(choices)}, got {value!r}")


def _check_knots(knots: object) -> None:
    example = "e.g. --set 'data.size_knots=[[0, 128], [0.5, 224]]'"
    if not isinstance(knots, tuple):
        raise RecipeError(f"data.size_knots must be a list of [fraction, size] pairs; {example}")
    for knot in knots:
        if (not isinstance(knot, tuple) or len(knot) != 2 or isinstance(knot[0], bool)
                or not isinstance(knot[0], (int, float)) or type(knot[1]) is not int):
            raise RecipeError(f"data.size_knots entry {knot!r} is not a [fraction, size] pair; {example}")
        _check_range("a data.size_knots fraction", float(knot[0]), 0.0, 1.0)
        _check_range("a data.size_knots size", float(knot[1]), 1, 4096)


def _check_pairs(key: str, pairs: object, example: str, key_type: type = int) -> None:
    """A tuple of (key, number) pairs: (size, ratio) or (parameter name, epochs)."""
    hint = f"{key} must be a list of pairs, e.g. --set '{key}={example}'"
    if not isinstance(pairs, tuple):
        raise RecipeError(hint)
    for pair in pairs:
        if (not isinstance(pair, tuple) or len(pair) != 2 or type(pair[0]) is not key_type
                or isinstance(pair[1], bool) or not isinstance(pair[1], (int, float))):
            raise RecipeError(f"{key} entry {pair!r} is not a pair; {hint}")
        if key_type is int:
            _check_range(f"a {key} size", float(pair[0]), 1, 4096)
        else:
            _check_range(f"a {key} epoch count", float(pair[1]), 0, 10_000)


def validate(recipe: Recipe) -> Recipe:
    """Every value checked for type and range, so a bad override fails before anything is written."""
    check_slug("name", recipe.name)
    check_slug("task", recipe.task)
    _check_choice("target_metric", recipe.target_metric, METRICS)
    _check_choice("precision", recipe.precision, PRECISIONS)
    _check_choice("optim.name", recipe.optim.name, OPTIMIZERS)
    _check_choice("schedule.kind", recipe.schedule.kind, SCHEDULES)
    if not 0.0 < recipe.target <= 1.0:
        raise RecipeError(f"target must be a fraction in (0, 1], got {recipe.target}; "
                          "e.g. --target 0.94 for 94 %")
    _check_range("epochs", recipe.epochs, 1, 10_000)
    _check_range("optim.peak_lr", recipe.optim.peak_lr, 0.0, math.inf, low_open=True, high_open=True)
    _check_range("optim.weight_decay", recipe.optim.weight_decay, 0.0, 1.0)
    _check_range("optim.label_smoothing", recipe.optim.label_smoothing, 0.0, 1.0, high_open=True)
    s = recipe.schedule
    _check_range("schedule.momentum_max", s.momentum_max, 0.0, 1.0, high_open=True)
    _check_range("schedule.momentum_min", s.momentum_min, 0.0, 1.0, high_open=True)
    _check_range("schedule.pct_start", s.pct_start, 0.0, 1.0, high_open=True)
    _check_range("schedule.div", s.div, 0.0, 1e9, low_open=True)
    _check_range("schedule.final_div", s.final_div, 0.0, 1e12, low_open=True)
    if s.kind == "piecewise" and (len(s.knots_x) != len(s.knots_y) or len(s.knots_x) < 2):
        raise RecipeError("schedule.knots_x and schedule.knots_y must be equally long, with 2 or more points")
    d = recipe.data
    _check_range("data.batch_size", d.batch_size, 1, 1 << 20)
    _check_range("data.eval_batch_size", d.eval_batch_size, 1, 1 << 20)
    _check_range("data.synthetic_images", d.synthetic_images, 0, 1 << 30)
    _check_range("data.image_size", d.image_size, 0, 4096)
    _check_range("data.size_multiple", d.size_multiple, 1, 4096)
    _check_knots(d.size_knots)
    _check_choice("data.loader", d.loader, ("device", "dataloader"))
    _check_choice("data.flip_mode", d.flip_mode, FLIP_MODES)
    _check_pairs("data.batch_ratio_per_size", d.batch_ratio_per_size, "[[288, 0.6667]]")
    for size, ratio in d.batch_ratio_per_size:
        _check_range("a data.batch_ratio_per_size ratio", float(ratio), 0.0, 64.0, low_open=True)
    _check_choice("data.decoder", d.decoder, DECODERS)
    _check_range("model.num_classes", recipe.model.num_classes, 1, 1 << 20)
    _check_range("model.width", recipe.model.width, 1, 1 << 16)
    _check_range("model.whiten_images", recipe.model.whiten_images, 0, 1 << 24)
    if recipe.model.whiten_images and recipe.model.name not in WHITENING_MODELS:
        raise RecipeError(f"model.whiten_images is for models with a whitening stem ({', '.join(WHITENING_MODELS)}), "
                          f"not {recipe.model.name}; set --set model.whiten_images=0")
    _check_pairs("model.frozen_after", recipe.model.frozen_after, '[["whiten.bias", 3]]', key_type=str)
    _check_range("optim.lookahead_every", recipe.optim.lookahead_every, 0, 1 << 20)
    _check_range("optim.lookahead_base", recipe.optim.lookahead_base, 0.0, 1.0)
    _check_range("optim.lookahead_power", recipe.optim.lookahead_power, 0.0, 100.0)
    _check_range("tta_translate", recipe.tta_translate, 0, 64)
    _check_range("final_epoch_fraction", recipe.final_epoch_fraction, 0.0, 1.0, low_open=True)
    return recipe


def _coerce(value: str, to_type: Any, key: str) -> Any:
    origin = getattr(to_type, "__origin__", None)
    try:
        if to_type is bool or to_type == "bool":
            low = value.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if to_type in (int, "int"):
            return int(value)
        if to_type in (float, "float"):
            return float(value)
        if to_type in (str, "str"):
            return value
        if origin is tuple or str(to_type).startswith("tuple"):
            parsed = json.loads(value)
            return _to_tuple(parsed)
    except (ValueError, json.JSONDecodeError):
        pass
    raise RecipeError(f"override {key}={value!r}: expected a value of type {getattr(to_type, '__name__', to_type)}")


def _to_tuple(v: Any) -> Any:
    return tuple(_to_tuple(x) for x in v) if isinstance(v, list) else v


def apply_overrides(recipe: Recipe, overrides: list[str] | dict[str, Any]) -> Recipe:
    """Return a new recipe with dotted-key overrides applied: ["optim.peak_lr=0.4", "epochs=3"]."""
    items = overrides.items() if isinstance(overrides, dict) else [_split(o) for o in overrides]
    for key, value in items:
        recipe = _set(recipe, key.split("."), value, key)
    return validate(recipe)


def _split(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise RecipeError(f"override {text!r} must look like key=value, e.g. optim.peak_lr=0.4")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()


def _set(obj: Any, path: list[str], value: Any, full_key: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(obj)}
    head = path[0]
    if head not in fields:
        raise RecipeError(f"unknown recipe key {full_key!r}; known at this level: {', '.join(sorted(fields))}")
    current = getattr(obj, head)
    if len(path) > 1:
        if not dataclasses.is_dataclass(current):
            raise RecipeError(f"recipe key {full_key!r}: {head} has no sub-keys")
        return dataclasses.replace(obj, **{head: _set(current, path[1:], value, full_key)})
    if dataclasses.is_dataclass(current):
        raise RecipeError(f"recipe key {full_key!r} is a section; set one of its fields, e.g. {full_key}.<field>")
    ftype = fields[head].type
    if isinstance(value, str):
        value = _coerce(value, ftype if not isinstance(ftype, str) else _resolve(ftype), full_key)
    elif isinstance(value, list):
        value = _to_tuple(value)
    elif type(value) is not type(current) and not (isinstance(current, float) and isinstance(value, int)):
        raise RecipeError(f"override {full_key}={value!r}: expected {type(current).__name__}")
    return dataclasses.replace(obj, **{head: value})


def _resolve(type_name: str) -> Any:
    # `from __future__ import annotations` leaves types as strings
    return {"int": int, "float": float, "str": str, "bool": bool}.get(type_name, type_name)


def from_dict(data: dict[str, Any]) -> Recipe:
    """Rebuild a recipe from run.json's `config` (for `repro rerun`)."""
    d = dict(data)
    try:
        return validate(Recipe(
            model=ModelSpec(**{k: _to_tuple(v) for k, v in d.pop("model").items()}),
            data=DataSpec(**{k: _to_tuple(v) for k, v in d.pop("data").items()}),
            optim=OptimSpec(**d.pop("optim")),
            schedule=ScheduleSpec(**{k: _to_tuple(v) for k, v in d.pop("schedule").items()}),
            **d,
        ))
    except TypeError as exc:
        raise RecipeError(f"recorded config does not match this repro's recipe fields: {exc}") from None
