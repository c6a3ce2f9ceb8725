"""The teacher of a distilled run (train.distill_from): a trained checkpoint, frozen, whose
predictions on each training batch the model learns beside the ground truth (the loss is the
architecture's, one whose `distills` says it has that term).

Its predictions must line up anchor by anchor with the model's, so it has to be the same
architecture on the same input size, and know the same classes in the same order.
"""
from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from ..config import Config, ModelConfig
from ..core.input_size import InputSize
from ..core.registry import ARCHITECTURES
from ..models.architecture import get_architecture
from ..models.load import load_model


def load_teacher(path: str | Path, model_cfg: ModelConfig, class_names: list[str],
                 strategy: tf.distribute.Strategy | None = None):
    """The checkpoint at `path` as a frozen Keras model, after checking it can teach this model."""
    key = f"train.distill_from {path}"
    if not get_architecture(model_cfg.arch).distills:
        able = [name for name in ARCHITECTURES if get_architecture(name).distills]
        raise ValueError(f"{key}: model.arch {model_cfg.arch} has no distillation loss ({', '.join(able)} has)")
    with (strategy or tf.distribute.get_strategy()).scope():  # its variables on every replica
        model, card = load_model(path)
    mismatches = [f"{what} {theirs} (this model: {ours})" for what, theirs, ours in (
        ("model.arch", card.arch, model_cfg.arch),
        ("input size (height, width)", InputSize.of(card.input_size).hw, InputSize.of(model_cfg.input_size).hw),
        ("classes", card.class_names, class_names)) if theirs != ours]
    if mismatches:
        raise ValueError(f"{key}: the teacher's predictions must match this model's anchor by anchor, but it has "
                         + "; ".join(mismatches) + ". Train the teacher with this config's data.classes and "
                         "model.input_size (and a larger model.preset).")
    model.trainable = False
    return model


def run_teacher(cfg: Config, class_names: list[str], strategy: tf.distribute.Strategy | None = None):
    """The teacher of a run with this config (train.distill_from), or None when it has none."""
    path = cfg.train.distill_from
    return load_teacher(path, cfg.model, class_names, strategy) if path else None
