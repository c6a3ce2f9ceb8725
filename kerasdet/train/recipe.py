"""What the config decides for each epoch, in pure functions: how many epochs (`train.epochs: auto`
sizes them from the data), its input size (progressive resizing), whether the backbone trains, whether it
ends with a validation, whether mosaic is on; and whether the input is large enough for the objects (a
word at the start when it is not)."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..config import AUTO, Config, check_progressive
from ..core.input_size import InputSize
from ..core.letterbox import common_frame
from ..data.dataset import DetectionDataset
from ..data.stats import seen_sides
from ..models.common.backbones import STRIDES

SMALL_SHARE = 0.1  # the share of training boxes too small at the input that earns a word at the start
AUTO_INPUT = (320, 640)  # model.input_size auto: this square, or a larger input up to the second for small objects

# `train.epochs: auto`: about this many training images seen (with repeats), in AUTO_EPOCHS epochs at the
# fewest and most. 12,800 is 800 steps of 16: the hands recipe sees 16,000 (996 images, 16 epochs); 16 epochs of
# a 234-photo set (3,700 images seen) ended still learning (issue 42) and 60 epochs of 128 raccoon photos
# (7,700) beat 40 (docs/results/2026-12-04-kfold-third-round.md). 20, the fewest, keeps a large set's run past
# the warm-up and the frozen epochs; 300, the most, gives a set smaller than one batch 300 steps (100 epochs,
# Ultralytics' default, left 12 photos still learning at 100 steps). Early stopping (train.patience) still ends
# a run that has stopped learning, from half its epochs on (EARLY_STOP_FROM).
AUTO_IMAGES_SEEN = 12_800
AUTO_EPOCHS = (20, 300)
EARLY_STOP_FROM = 0.5  # no early stop in the first half of the epochs: one-step epochs of a tiny set are still
# in the warm-up and the frozen epochs when 15 evaluations have passed (PyTorch Lightning's min_epochs)


def steps_per_epoch(images: int, batch_size: int) -> int:
    """An epoch's optimizer steps: the training images once over, the last partial batch left out."""
    return max(images // batch_size, 1)


def auto_epochs(images: int, batch_size: int) -> int:
    """The epochs of `train.epochs: auto` for `images` training images in batches of `batch_size`."""
    seen_per_epoch = steps_per_epoch(images, batch_size) * batch_size
    return int(np.clip(math.ceil(AUTO_IMAGES_SEEN / seen_per_epoch), *AUTO_EPOCHS))


def sized_schedule(cfg: Config, train_ds: DetectionDataset) -> tuple[Config, str]:
    """(`cfg` with train.epochs and model.input_size numbers, a sentence saying how long training is and
    why, and the input size where it was auto): the config's numbers as they are, or `auto_epochs` and
    `auto_input_size` where it says auto."""
    size_said = ""
    if cfg.model.input_size == AUTO:
        size, why = auto_input_size(train_ds)
        cfg, size_said = cfg.with_input_size(size), f"; model.input_size auto: {size} ({why})"
    t, images = cfg.train, len(train_ds)
    steps = steps_per_epoch(images, t.batch_size)
    if t.epochs == AUTO:
        epochs = auto_epochs(images, t.batch_size)
        low, high = AUTO_EPOCHS
        why = (f"train.epochs auto: about {AUTO_IMAGES_SEEN:,} images seen, within {low}-{high} epochs; "
               "set train.epochs to choose")
    else:
        epochs, why = t.epochs, "train.epochs"
    cfg = cfg.with_epochs(epochs)
    if t.eval_from == AUTO:
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, eval_from=early_stop_from(epochs)))
        why += f"; validated from epoch {cfg.train.eval_from} (train.eval_from auto)"
    check_progressive(cfg)
    return cfg, (f"{images} training images: {epochs} epochs of {steps} step{'s' if steps != 1 else ''} of "
                 f"{t.batch_size} ({epochs * steps * t.batch_size:,} images seen; {why}); from epoch "
                 f"{early_stop_from(epochs)} on, early stopping after {t.patience} evaluations without a "
                 f"better {t.best_metric}{size_said}")


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


def early_stop_from(epochs: int) -> int:
    """The first epoch (from 1) after which a run of `epochs` may stop early: EARLY_STOP_FROM of the way."""
    return max(math.ceil(EARLY_STOP_FROM * epochs), 1)


def stops_early(cfg: Config, epoch: int, stale: int) -> bool:
    """Whether training ends after epoch `epoch` (from 0), `stale` evaluations since the best one: after
    train.patience of them, once EARLY_STOP_FROM of the epochs have run."""
    return stale >= cfg.train.patience and epoch + 1 >= early_stop_from(cfg.train.epochs)


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


def auto_input_size(train_ds: DetectionDataset) -> tuple[InputSize, str]:
    """(The input of `model.input_size: auto`, why): AUTO_INPUT's square, or the larger one (at most
    AUTO_INPUT[1]) that brings the smallest SMALL_SHARE of the boxes to the finest stride."""
    base = InputSize.of(AUTO_INPUT[0])
    larger = larger_input(train_ds, base)
    if larger is None:
        return base, f"fewer than {SMALL_SHARE:.0%} of the boxes under {STRIDES[0]} px there"
    capped = InputSize(*(min(side, AUTO_INPUT[1]) for side in larger.wh))
    return capped, (f"{SMALL_SHARE:.0%} or more of the boxes are under {STRIDES[0]} px at {base}"
                    + (f"; {larger} would bring them there, capped at {AUTO_INPUT[1]}" if capped != larger else ""))


def larger_input(train_ds: DetectionDataset, input_size: InputSize) -> InputSize | None:
    """None when fewer than SMALL_SHARE of the training boxes have a shorter side under the finest stride
    (8 px) at `input_size`; else the input that brings that smallest share to 8 px."""
    finest = STRIDES[0]
    sides, _ = seen_sides(train_ds, input_size.hw)
    if not len(sides) or float(np.mean(sides < finest)) < SMALL_SHARE:
        return None
    return input_size.scaled(finest / max(float(np.percentile(sides, 100 * SMALL_SHARE)), 1e-3))


def small_object_advice(train_ds: DetectionDataset, input_size: InputSize) -> str:
    """A sentence when SMALL_SHARE or more of the training boxes have a shorter side under the finest
    stride (8 px) at the input, where a head has under one cell to place them by (a 40-pixel object of a
    1280x720 frame is 10 at 320); '' otherwise. The larger input it names brings that smallest share to 8."""
    finest = STRIDES[0]
    larger = larger_input(train_ds, input_size)
    if larger is None:
        return ""
    sides, labels = seen_sides(train_ds, input_size.hw)
    share = float(np.mean(sides < finest))
    medians = {name: float(np.median(sides[labels == c])) for c, name in enumerate(train_ds.class_names)
               if (labels == c).any()}
    smallest = min(medians, key=medians.get)
    return (f"{share:.0%} of the training boxes are under {finest} px at the {input_size} input (their shorter "
            f"side after the letterbox; class {smallest} has a median of {medians[smallest]:.0f} px), less than a "
            f"stride-{finest} head localises well: set model.input_size to about {larger} "
            f"({larger.to_config()} in the config), or keep it and run detect, evaluate and cam with --tile "
            f"{input_size} on the full-size frames.")
