"""Experiment configuration: one YAML file -> typed dataclasses.

Every key has a default, so a config file only states what differs. Unknown keys, wrong
types and missing data folders are errors that name the key and the file.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .core.files import write_text
from .core.letterbox import SIDE_MULTIPLE
from .core.registry import ARCHITECTURES, BACKBONES, MODEL_PRESETS
from .core.source_spec import join_source, split_source


class ConfigError(ValueError):
    """A config file or override is wrong; the message names the key and the file."""


@dataclass
class DataConfig:
    train: str = ""  # a data folder, or a file list written by `kerasdet split`
    val: str = ""  # same; empty means: no validation during training
    test: str = ""
    classes: list[str] = field(default_factory=list)  # empty: collected from the XML, sorted
    on_error: str = "raise"  # raise | skip (what is left out is printed and saved with the run)
    max_left_out: float = 0.25  # with skip: stop when a larger share of the images or boxes is left out
    max_boxes: int = 32  # boxes per image are padded to this with -1
    cache: bool = False  # keep decoded training images in memory (shrunk to what training needs)
    cache_gb: float = 2.0  # memory budget of each split's image cache (validation's is always on)


@dataclass
class ModelConfig:
    preset: str = ""  # nano | small | base (core/registry.py): sets backbone, alpha, input_size, neck_width
    arch: str = "yolov8"  # one of core.registry.ARCHITECTURES: yolov8 | retinanet
    backbone: str = "mobilenet_v2"  # one of core.registry.BACKBONES
    alpha: float = 1.0
    input_size: int | list[int] = 320  # a square side, or [width, height] (each a multiple of 32) for frames
    #                                    all of one shape: 4:3 webcam frames at [320, 256] cost 20% less than 320
    neck_width: int = 0  # channels of the neck and head; 0: 96 for alpha >= 0.75, else 64
    weights: str = "imagenet"  # imagenet | PATH to a local weights file | none


@dataclass
class TrainConfig:
    epochs: int = 50
    batch_size: int = 16
    learning_rate: float = 0.002
    warmup_epochs: int = 2
    freeze_backbone_epochs: int = 5
    backbone_lr_factor: float = 0.1
    backbone_trainable_fraction: float = 1.0  # after the frozen phase, train this last share of the backbone
    weight_decay: float = 0.0005
    clipnorm: float = 10.0
    patience: int = 15  # evaluations without a better best_metric before stopping
    best_metric: str = "map"  # map (mAP@[.5:.95]) | map50: what best.keras and early stopping follow
    ema: bool = True
    eval_every: int = 1
    eval_from: int = 1  # the first epoch validated: earlier ones, far from the best, only train (the last always is)
    # Progressive resizing: the first progressive_epochs train at a smaller input, then at
    # model.input_size. That input is progressive_scale times model.input_size, shaped like most
    # training images (core/letterbox.py, scaled_input_size: 4:3 frames in 320 at 0.8 train at
    # 256x192, portrait photos at 192x256). Early epochs learn as much at about half the pixels for
    # half the time; the last ones fit the model to its input. They are not validated (a checkpoint
    # has model.input_size). progressive_epochs 0: model.input_size throughout.
    progressive_epochs: int = 0
    progressive_scale: float = 0.8
    seed: int = 0
    # A trained .keras checkpoint (same arch and classes, same model.input_size) whose predictions the
    # model also learns from: a small preset taught by a larger one (train/teacher.py). "": none.
    distill_from: str = ""
    distill_weight: float = 1.0  # the teacher's term in the loss, beside the ground truth's
    distribute: str = "auto"  # auto | none | mirrored | multi_worker (train/distribute.py; README: more than one GPU)
    out: str = "runs"  # run folders go to OUT/<config name><n>, relative to the working directory


@dataclass
class AugmentConfig:
    gray: float = 0.1  # probability of rgb-to-gray (ToGray), as the TF Object Detection API offered
    hflip: float = 0.5
    color_jitter: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02
    affine: float = 0.5
    scale: list[float] = field(default_factory=lambda: [0.75, 1.25])
    translate: float = 0.1
    crop: float = 0.3  # probability of a random crop that keeps every box
    min_visibility: float = 0.3  # boxes cut below this visible fraction are dropped with their labels
    mosaic: float = 0.0  # probability of a 2x2 mosaic of this image and three others (more objects, scales, contexts)
    close_mosaic: int = 0  # the last this many epochs train without mosaic, on pictures like the ones it will see


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    source: str = field(default="<defaults>", metadata={"internal": True})  # for error messages
    name: str = field(default="run", metadata={"internal": True})  # run folder prefix: the file's stem

    def to_dict(self) -> dict:
        return {f.name: dataclasses.asdict(getattr(self, f.name))
                for f in dataclasses.fields(self) if not f.metadata.get("internal")}

    def with_input_size(self, input_size) -> "Config":
        """This config with another model.input_size (progressive resizing builds the model at it)."""
        return dataclasses.replace(self, model=dataclasses.replace(self.model, input_size=input_size))

    def save(self, path: str | Path) -> None:
        """A new file, or one kerasdet wrote (core/files.py): never a config of the user's."""
        write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False))


_CHOICES = {
    "data.on_error": ("raise", "skip"),
    "model.arch": tuple(ARCHITECTURES),
    "model.preset": ("",) + tuple(MODEL_PRESETS),
    "train.best_metric": ("map", "map50"),
    "train.distribute": ("auto", "none", "mirrored", "multi_worker"),
    "model.backbone": tuple(BACKBONES),
}
_UNIT = (0.0, 1.0, False)  # a probability or a fraction
_POSITIVE = (0, None, True)
_RANGES = {  # key: (low, high or None, low excluded): values outside cannot work
    **{key: _POSITIVE for key in ("train.batch_size", "data.max_boxes", "train.epochs",
                                  "train.eval_every", "train.eval_from", "train.patience")},
    "model.alpha": (0.0, None, True),
    "model.neck_width": (0, None, False),
    "data.cache_gb": (0.0, None, False),
    "train.learning_rate": (0.0, None, True),
    "train.warmup_epochs": (0, None, False),
    "train.freeze_backbone_epochs": (0, None, False),
    "train.progressive_epochs": (0, None, False),
    "train.progressive_scale": (0.0, 1.0, True),
    "augment.close_mosaic": (0, None, False),
    "train.backbone_lr_factor": (0.0, None, False),
    "train.backbone_trainable_fraction": _UNIT,
    "train.weight_decay": (0.0, None, False),
    "train.clipnorm": (0.0, None, True),
    "train.distill_weight": (0.0, None, False),
    "data.max_left_out": _UNIT,
    **{f"augment.{k}": _UNIT for k in ("gray", "hflip", "color_jitter", "affine", "crop", "min_visibility", "mosaic",
                                       "brightness", "contrast", "saturation", "translate")},
    "augment.hue": (0.0, 0.5, False),
}
_PATH_KEYS = ("data.train", "data.val", "data.test", "model.weights", "train.distill_from")
_WEIGHT_NAMES = ("imagenet", "none")  # model.weights values that are not paths


def _coerce(value, hint, key: str, source: str):
    """Check `value` against the dataclass type `hint`; ints are accepted for floats."""
    origin = typing.get_origin(hint)
    if origin is types.UnionType:  # int | list[int]: the first form the value fits
        errors = []
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, key, source)
            except ConfigError as err:
                errors.append(str(err).removeprefix(f"{source}: "))
        raise ConfigError(f"{source}: " + ", or ".join(errors))
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: key '{key}' must be a list, got {value!r}")
        return [_coerce(v, item_hint, key, source) for v in value]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is str and value is None:
        return ""
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(
            f"{source}: key '{key}' must be {hint.__name__}, got {type(value).__name__} {value!r}")
    return value


def _build(cls, values: dict, prefix: str, source: str):
    if not isinstance(values, dict):
        raise ConfigError(f"{source}: section '{prefix}' must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in values:
        if key not in known:
            raise ConfigError(f"{source}: unknown key '{prefix}{key}' (known: {', '.join(sorted(known))})")
    kwargs = {}
    for name, value in values.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = _build(hint, value or {}, f"{prefix}{name}.", source)
        else:
            kwargs[name] = _coerce(value, hint, f"{prefix}{name}", source)
    return cls(**kwargs)


def _parse_override(text: str) -> tuple[list[str], object]:
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, for example train.epochs=10")
    key, raw = text.split("=", 1)
    return key.strip().split("."), _override_value(key.strip(), raw) if raw.strip() else ""


def _override_value(key: str, raw: str):
    """The YAML value of `--set KEY=RAW`: plain YAML (a number, a word, [a, b]); a tag (!!binary,
    !!python/...) or broken YAML is a sentence naming the key and the text, not a traceback."""
    how = ("write a number, a word, true/false or a list such as [a, b], quoting text with YAML's special "
           "characters, e.g. --set 'data.classes=[cat, \"dog: big\"]'")
    try:
        tags = [token.value for token in yaml.scan(raw, Loader=yaml.SafeLoader) if isinstance(token, yaml.TagToken)]
        if not tags:
            return yaml.safe_load(raw)
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"--set '{key}={raw}': the value of key '{key}', {raw!r}, is not valid YAML ({problem}); "
                          f"{how}") from None
    raise ConfigError(f"--set '{key}={raw}': the value of key '{key}', {raw!r}, has the YAML tag "
                      f"{''.join(tags[0])}, which --set does not take; {how}")


def _from_working_directory(key: str, value):
    """A relative path given with --set is relative to where the command is typed (as a shell user
    means it), not to the config file; `_resolve_paths` then leaves it as it is."""
    if key not in _PATH_KEYS or not isinstance(value, str) or not value or value in _WEIGHT_NAMES:
        return value
    written = Path(value).expanduser()
    return str(written if written.is_absolute() else Path.cwd() / written)


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    for text in overrides or []:
        path, value = _parse_override(text)
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {text!r}: '{part}' is not a section")
        node[path[-1]] = _from_working_directory(".".join(path), value)
    return raw


def _resolve_paths(cfg: Config, base: Path, check_exists: bool) -> None:
    """Relative paths written in the file are relative to it, so a config works from any directory."""
    for key in _PATH_KEYS:
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if not value or value in _WEIGHT_NAMES:
            continue
        written = Path(value).expanduser()
        path, split = split_source(written if written.is_absolute() else base / written)
        path = path.resolve()
        if check_exists and not path.exists():
            raise ConfigError(f"{cfg.source}: key '{key}': {path} does not exist")
        setattr(getattr(cfg, section), name, join_source(path, split))


def _validate(cfg: Config) -> None:
    for key, choices in _CHOICES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value not in choices:
            raise ConfigError(f"{cfg.source}: key '{key}' is {value!r}; choose one of {', '.join(choices)}")
    for key, (low, high, low_open) in _RANGES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value < low or (low_open and value == low) or (high is not None and value > high):
            bounds = f"{'> ' if low_open else '>= '}{low:g}" + (f" and <= {high:g}" if high is not None else "")
            raise ConfigError(f"{cfg.source}: key '{key}' must be {bounds}, got {value}")
    _validate_input_size(cfg.model.input_size, cfg.source)
    _validate_progressive(cfg)
    if len(cfg.augment.scale) != 2 or not 0 < cfg.augment.scale[0] <= cfg.augment.scale[1]:
        raise ConfigError(f"{cfg.source}: key 'augment.scale' must be [min, max] with 0 < min <= max, "
                          f"got {cfg.augment.scale}")
    if len(set(cfg.data.classes)) != len(cfg.data.classes):
        raise ConfigError(f"{cfg.source}: key 'data.classes' lists a class twice: {cfg.data.classes}")


def _validate_input_size(size: int | list[int], source: str) -> None:
    sides = [size] if isinstance(size, int) else size
    if len(sides) != (1 if isinstance(size, int) else 2) or any(side <= 0 or side % SIDE_MULTIPLE for side in sides):
        raise ConfigError(f"{source}: key 'model.input_size' must be a multiple of {SIDE_MULTIPLE} (a square) or "
                          f"[width, height], each a multiple of {SIDE_MULTIPLE} (the network halves it five times), "
                          f"got {size}")


def _validate_progressive(cfg: Config) -> None:
    t = cfg.train
    if not t.progressive_epochs:
        return
    if t.progressive_epochs >= t.epochs:
        raise ConfigError(f"{cfg.source}: key 'train.progressive_epochs' is {t.progressive_epochs}: it must be under "
                          f"train.epochs ({t.epochs}), so the last epochs train at model.input_size")
    if t.distill_from:
        raise ConfigError(f"{cfg.source}: train.distill_from and train.progressive_epochs cannot be combined: the "
                          "teacher sees model.input_size only")


def _with_preset(raw: dict, source: str) -> dict:
    """`model.preset` expanded into the model keys it sets, under the keys written beside it."""
    model = raw.get("model")
    if not isinstance(model, dict) or not model.get("preset"):
        return raw
    if model["preset"] not in MODEL_PRESETS:
        raise ConfigError(f"{source}: key 'model.preset' is {model['preset']!r}; choose one of "
                          f"{', '.join(MODEL_PRESETS)}")
    return {**raw, "model": {**MODEL_PRESETS[model["preset"]], **model}}


def config_from_dict(raw: dict, source: str = "<dict>", base_dir: str | Path = ".",
                     check_paths: bool = True) -> Config:
    cfg = _build(Config, _with_preset(raw or {}, source), "", source)
    cfg.source = source
    _validate(cfg)
    _resolve_paths(cfg, Path(base_dir), check_paths)
    return cfg


def load_config(path: str | Path | None = None, overrides: list[str] | None = None,
                check_paths: bool = True) -> Config:
    """Read a YAML config (relative data paths are relative to the file), apply `KEY=VALUE` overrides
    (their relative paths are relative to the working directory)."""
    if path is None:
        return config_from_dict(apply_overrides({}, overrides), "<defaults>", ".", check_paths)
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (data, model, train, augment)")
    source = str(path) + (f" (with --set {' '.join(overrides)})" if overrides else "")
    cfg = config_from_dict(apply_overrides(raw, overrides), source, path.parent, check_paths)
    cfg.name = path.stem
    return cfg
