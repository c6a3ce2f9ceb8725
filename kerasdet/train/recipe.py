"""What the config decides for each epoch, in pure functions: its input size (progressive resizing),
whether the backbone trains, whether it ends with a validation, whether mosaic is on."""
from __future__ import annotations

from ..config import Config
from ..core.input_size import InputSize
from ..core.letterbox import common_frame
from ..data.dataset import DetectionDataset


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
