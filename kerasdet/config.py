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
from .core.input_size import SIDE_MULTIPLE, InputSize
from .core.registry import ARCHITECTURES, BACKBONES, MODEL_PRESETS
from .core.source_spec import join_source, split_source


class ConfigError(ValueError):
    """A config file or override is wrong; the message names the key and the file."""


def _key(default, why: str):
    """A config key: its default and one line of why. The config reference (docs/reference/config.md) is
    generated from these, with the limits of `_CHOICES` and `_RANGES` below: one source for all three."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"doc": why})
    return field(default=default, metadata={"doc": why})


@dataclass
class DataConfig:
    train: str = _key("", "the training images: a data folder in any layout, `FOLDER:SPLIT`, or a file list "
                          "(`kerasdet split` writes them)")
    val: str = _key("", "the same for validation, scored every `train.eval_every` epochs to choose `best.keras`; "
                        "empty: no validation")
    test: str = _key("", "the same for a held-out test set, for your own `kerasdet evaluate`; training never "
                         "reads it")
    classes: list[str] = _key([], "class names in the model's order; empty: collected from the XML, sorted")
    on_error: str = _key("raise", "a bad box, image or XML that needs your decision (an unknown class, a damaged "
                                  "image) stops training (`raise`) or is left out and listed (`skip`, saved in the "
                                  "run's data.json); a box of no area or wholly outside its image is always left out "
                                  "and listed")
    max_left_out: float = _key(0.25, "stop when a split loses a larger share of its images or boxes to what is left "
                                     "out, so a broken export cannot train quietly on what is left")
    max_boxes: int = _key(32, "box slots per image (padded with -1); an image with more raises it for the run, "
                              "never drops boxes")
    cache: bool = _key(False, "keep decoded training images in memory (shrunk to what training needs): faster "
                              "epochs for a set that fits")
    cache_gb: float = _key(2.0, "memory budget of each split's image cache (validation's is always on); past it "
                                "images are decoded each time")


@dataclass
class ModelConfig:
    preset: str = _key("", "a model size by device (core/registry.py): sets `backbone`, `alpha`, `input_size`, "
                           "`neck_width`; keys written beside it win")
    arch: str = _key("yolov8", "the detection head: YOLOv8-style anchor-free, or RetinaNet (anchors, focal loss)")
    backbone: str = _key("mobilenet_v2", "the keras.applications backbone the head sits on")
    alpha: float = _key(1.0, "the backbone's width multiplier: narrower is faster and less accurate (nano: 0.35)")
    input_size: int | list[int] | str = _key(320, "a square side, or `[width, height]` for frames that all share "
                                                  "one shape (4:3 frames at `[320, 256]` cost 20% less than 320); "
                                                  "`auto`: 320, or larger (up to 640) when the objects would be "
                                                  "too small at 320, said at the start")
    neck_width: int = _key(0, "channels of the neck and head; 0: 96 for alpha >= 0.75, else 64")
    max_detections: int | str = _key("auto", "detections the model keeps per image, best first (inside the model "
                                              "and every exported file); `auto`: 100, or 3x the most boxes of one "
                                              "training image when that is more (crowded photos)")
    weights: str = _key("imagenet", "the backbone's start: `imagenet` (downloaded once, cached), a PATH to a "
                                    "local weights file, or `none` (from scratch)")


@dataclass
class TrainConfig:
    epochs: int | str = _key("auto", "passes over the training images; the schedule (warm-up, cosine) spans them. "
                                     "`auto`: sized from the number of training images (train/recipe.py, "
                                     "`auto_epochs`), said at the start; a number is kept as it is")
    batch_size: int = _key(16, "images per step, over all replicas (`train.distribute`)")
    learning_rate: float = _key(0.002, "peak AdamW rate after the warm-up; `kerasdet lr-find` suggests one")
    warmup_epochs: int = _key(2, "the rate rises linearly over these epochs, so a new head does not wreck "
                                 "pretrained features")
    freeze_backbone_epochs: int = _key(5, "the head trains alone first (no gradients through the backbone, so "
                                          "these epochs are also faster)")
    backbone_lr_factor: float = _key(0.1, "the unfrozen backbone learns at this times the rate: pretrained "
                                          "features need small steps")
    backbone_trainable_fraction: float = _key(1.0, "after the frozen epochs, train this last share of the "
                                                   "backbone (base at 0.5: 1.7x faster steps than the whole)")
    weight_decay: float = _key(0.0005, "AdamW's decoupled weight decay")
    clipnorm: float = _key(10.0, "gradients are clipped to this global norm, so one bad batch cannot blow up "
                                 "a run")
    patience: int = _key(15, "evaluations without a better `best_metric` before stopping early (never in the "
                             "first half of the epochs)")
    best_metric: str = _key("map", "what `best.keras` and early stopping follow: `map` (mAP@[.5:.95], tight "
                                   "boxes) or `map50` (mAP@0.5, finding objects)")
    ema: bool = _key(True, "keep an average of the weights over about one epoch (train/ema.py): a steadier "
                           "model to evaluate and save")
    eval_every: int = _key(1, "validate every this many epochs (the last always is)")
    eval_from: int | str = _key(1, "the first epoch validated: earlier ones, far from the best, only train; "
                                   "`auto`: half-way, where early stopping may start (validations before it "
                                   "only draw the curve)")
    progressive_epochs: int = _key(0, "the first epochs train at a smaller input (progressive resizing), about "
                                      "half the step time; 0: `model.input_size` throughout")
    progressive_scale: float = _key(0.8, "that input as a fraction of `model.input_size`, shaped like most "
                                         "training images (4:3 frames in 320: 256x192)")
    seed: int = _key(0, "seeds the shuffling, augmentation and the new layers' weights (CPU runs still differ a "
                        "little)")
    distill_from: str = _key("", "a trained `.keras` (same arch, classes and input size) whose predictions the "
                                 "model also learns from; empty: none")
    distill_weight: float = _key(1.0, "the teacher's term in the loss, beside the ground truth's")
    distribute: str = _key("auto", "the tf.distribute strategy (train/distribute.py): `auto` mirrors over every "
                                   "GPU when there are several")
    out: str = _key("runs", "run folders go to OUT/<config name><n>, relative to the working directory")


@dataclass
class AugmentConfig:
    gray: float = _key(0.1, "probability of rgb-to-gray, so colour is not the only cue (the TF Object "
                            "Detection API's option)")
    hflip: float = _key(0.5, "probability of a horizontal flip; 0 when left and right differ for your classes")
    color_jitter: float = _key(0.5, "probability of jittering the four colour keys below: other cameras and "
                                    "light")
    brightness: float = _key(0.2, "colour jitter's largest brightness change (a fraction)")
    contrast: float = _key(0.2, "colour jitter's largest contrast change (a fraction)")
    saturation: float = _key(0.2, "colour jitter's largest saturation change (a fraction)")
    hue: float = _key(0.02, "colour jitter's largest hue shift (a fraction of the colour wheel)")
    affine: float = _key(0.5, "probability of a zoom and shift (`scale`, `translate`): objects at other sizes "
                              "and places")
    scale: list[float] = _key([0.75, 1.25], "the zoom range `[min, max]`; `[0.5, 1.5]` teaches objects smaller "
                                            "than most of the training set's")
    translate: float = _key(0.1, "the largest shift, as a fraction of the image")
    crop: float = _key(0.3, "probability of a random crop that keeps every box")
    min_visibility: float = _key(0.3, "a box cut below this visible fraction is dropped with its label, not "
                                      "trained as a sliver")
    mosaic: float = _key(0.0, "probability of a 2x2 mosaic of this image and three others: more objects, scales "
                              "and contexts per step")
    close_mosaic: int = _key(0, "the last this many epochs train without mosaic, on pictures like the ones the "
                                "model will see")
    resize: float = _key(1.0, "probability that a picture is shrunk to the input by nearest, area or cubic "
                              "interpolation, not bilinear: MediaPipe, browsers and phones each resize their "
                              "own way, and the model should not care (docs/results/2026-12-07-resize-parity.md)")


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

    def with_epochs(self, epochs: int) -> "Config":
        """This config with train.epochs a number (the recipe's, where the file says auto)."""
        return dataclasses.replace(self, train=dataclasses.replace(self.train, epochs=epochs))

    def with_input_size(self, input_size: InputSize | int | list[int]) -> "Config":
        """This config with another model.input_size (progressive resizing builds the model at it)."""
        return dataclasses.replace(self, model=dataclasses.replace(self.model,
                                                                   input_size=InputSize.of(input_size).to_config()))

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
    **{key: _POSITIVE for key in ("train.batch_size", "data.max_boxes", "train.epochs", "model.max_detections",
                                  "train.eval_every", "train.eval_from", "train.patience")},  # or auto
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
                                       "resize",
                                       "brightness", "contrast", "saturation", "translate")},
    "augment.hue": (0.0, 0.5, False),
}
_PATH_KEYS = ("data.train", "data.val", "data.test", "model.weights", "train.distill_from")
_WEIGHT_NAMES = ("imagenet", "none")  # model.weights values that are not paths
AUTO = "auto"  # train.epochs, model.input_size, model.max_detections: sized from the training data (train/recipe.py)


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
    for key, value, what in (("train.epochs", cfg.train.epochs, "a whole number"),
                             ("model.max_detections", cfg.model.max_detections, "a whole number"),
                             ("model.input_size", cfg.model.input_size, "a side, [width, height]"),
                             ("train.eval_from", cfg.train.eval_from, "a whole number")):
        if isinstance(value, str) and value != AUTO:
            raise ConfigError(f"{cfg.source}: key '{key}' must be {what} or {AUTO}, got {value!r}")
    for key, (low, high, low_open) in _RANGES.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value == AUTO:
            continue
        if value < low or (low_open and value == low) or (high is not None and value > high):
            bounds = f"{'> ' if low_open else '>= '}{low:g}" + (f" and <= {high:g}" if high is not None else "")
            raise ConfigError(f"{cfg.source}: key '{key}' must be {bounds}, got {value}")
    if cfg.model.input_size != AUTO:  # auto: a size once the training data is known (train/recipe.py)
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
    if t.epochs != AUTO:  # auto: checked by the recipe once the number is known (train/recipe.py)
        check_progressive(cfg)
    if t.distill_from:
        raise ConfigError(f"{cfg.source}: train.distill_from and train.progressive_epochs cannot be combined: the "
                          "teacher sees model.input_size only")


def check_progressive(cfg: Config) -> None:
    """train.progressive_epochs must leave the last epochs at model.input_size."""
    t = cfg.train
    if t.progressive_epochs and t.progressive_epochs >= t.epochs:
        raise ConfigError(f"{cfg.source}: key 'train.progressive_epochs' is {t.progressive_epochs}: it must be under "
                          f"train.epochs ({t.epochs}), so the last epochs train at model.input_size")


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
