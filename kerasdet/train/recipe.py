"""What the config decides for each epoch, in pure functions: its input size (progressive resizing),
whether the backbone trains, whether it ends with a validation, whether mosaic is on; and whether the
input is large enough for the objects (a word at the start when it is not)."""
from __future__ import annotations

import numpy as np

from ..config import Config
from ..core.input_size import InputSize
from ..core.letterbox import common_frame
from ..data.dataset import DetectionDataset
from ..data.stats import seen_sides
from ..models.common.backbones import STRIDES

SMALL_SHARE = 0.1  # the share of training boxes too small at the input that earns a word at the start


def backbone_frozen(cfg: Config, epoch: int) -> bool:
    """Whether epoch `epoch` (from 0) trains the head alone: the first train.freeze_backbone_epochs
    of a pretrained backbone (one trained from scratch is never frozen)."""
    return epoch < cfg.train.freeze_backbone_epochs and cfg.model.weights != "none"


def validated(cfg: Config, epoch: int) -> bool:
    """Whether epoch `epoch` (from 0) ends with a validation: every train.eval_every epochs from
    train.eval_from on, and always the last."""
    t, number = cfg.train, epoch + 1
    return number == t.epochs or (number >= max(t.eval_from, t.progressive_epochs + 1) and number % t.eval_every == 0)


def mosaic_on(cfg: Config, epoch: int) -> bool:
    """Mosaic is off for the last augment.close_mosaic epochs: they see whole pictures, as evaluation does."""
    return epoch < cfg.train.epochs - cfg.augment.close_mosaic


def input_sizes(cfg: Config, train_ds: DetectionDataset) -> tuple[list[InputSize], str]:
    """(The input size each epoch trains at, a sentence saying why): model.input_size, but for the
    first train.progressive_epochs, which train at train.progressive_scale of it, shaped like most
    training images (the scaled model input itself when they share no shape)."""
    t, full = cfg.train, InputSize.of(cfg.model.input_size)
    if not t.progressive_epochs:
        return [full] * t.epochs, ""
    frame, n = common_frame([(r.width, r.height) for r in train_ds.records])
    small = full.scaled(t.progressive_scale, frame)
    shape = (f"shaped like {n} of the {len(train_ds)} training images" if frame else
             f"no shape is shared by half of the {len(train_ds)} training images")
    why = (f"input {small} for the first {t.progressive_epochs} epochs (train.progressive_scale "
           f"{t.progressive_scale:g} of {full}, {shape}), then {full}")
    return [small] * t.progressive_epochs + [full] * (t.epochs - t.progressive_epochs), why


def small_object_advice(train_ds: DetectionDataset, input_size: InputSize) -> str:
    """A sentence when SMALL_SHARE or more of the training boxes have a shorter side under the finest
    stride (8 px) at the input, where a head has under one cell to place them by (a 40-pixel object of a
    1280x720 frame is 10 at 320); '' otherwise. The larger input it names brings that smallest share to 8."""
    finest = STRIDES[0]
    sides, labels = seen_sides(train_ds, input_size.hw)
    share = float(np.mean(sides < finest)) if len(sides) else 0.0
    if share < SMALL_SHARE:
        return ""
    medians = {name: float(np.median(sides[labels == c])) for c, name in enumerate(train_ds.class_names)
               if (labels == c).any()}
    smallest = min(medians, key=medians.get)
    larger = input_size.scaled(finest / max(float(np.percentile(sides, 100 * SMALL_SHARE)), 1e-3))
    return (f"{share:.0%} of the training boxes are under {finest} px at the {input_size} input (their shorter "
            f"side after the letterbox; class {smallest} has a median of {medians[smallest]:.0f} px), less than a "
            f"stride-{finest} head localises well: set model.input_size to about {larger} "
            f"({larger.to_config()} in the config), or keep it and run detect, evaluate and cam with --tile "
            f"{input_size} on the full-size frames.")
