"""`Architecture`: everything the rest of kerasdet needs to know about one kind of detection head.

Each architecture is a package beside this file (yolov8/, retinanet/) whose `ARCHITECTURE` says how
to build its head on the shared backbone and neck, its loss (named terms, so training logs need
no knowledge of it), and how its raw outputs decode to boxes. Every head has the same two outputs,
box outputs (B, A, ...) and class logits (B, A, C), so building, serving, export and evaluation
are one code path. The names live in core/registry.py.

Each architecture owns its hyper-parameters as a frozen dataclass (yolov8/config.py,
retinanet/config.py), `config` on the instance, with the values its head, loss and decoding use;
`get_config()` describes the architecture with them. They are not config keys: a model file's card
names its architecture, and the architecture's defaults rebuild and decode it.
"""
from __future__ import annotations

import dataclasses
import importlib

import tensorflow as tf
from keras import ops

from ..core.input_size import InputSize
from ..core.registry import ARCHITECTURES


class Architecture:
    name: str = ""
    loss_terms: tuple[str, ...] = ()  # named parts of the loss, logged beside the total "loss"
    # Whether loss_fn also takes a teacher's predictions (train.distill_from), adding "distill_loss",
    # and a `distill_weight` option, that term's weight in the total.
    distills: bool = False
    config_class: type  # the frozen dataclass of its hyper-parameters, each with its default

    def __init__(self, config=None):
        self.config = self.config_class() if config is None else config

    def get_config(self) -> dict:
        """The architecture described: its name, what its loss logs, whether it distils, and its
        hyper-parameters (keras-hub's `get_config`)."""
        return {"name": self.name, "loss_terms": list(self.loss_terms), "distills": self.distills,
                **dataclasses.asdict(self.config)}

    def build_head(self, features, num_classes: int, width: int, input_size: InputSize) -> list:
        """[P3, P4, P5] feature maps -> [box outputs (B, A, ...), class logits (B, A, C)]."""
        raise NotImplementedError

    def loss_fn(self, input_size: InputSize, num_classes: int, **options):
        """(predictions, gt_boxes (B, M, 4), gt_classes (B, M)[, teacher predictions]) ->
        {"loss": total, term: value, ...}; ground truth comes boxes first, padding (-1) after."""
        raise NotImplementedError

    def decode_boxes(self, box_outputs, input_size: InputSize):
        """Box outputs -> (B, A, 4) xyxy pixels of the model input."""
        raise NotImplementedError

    def decode(self, predictions, input_size: InputSize):
        """Raw predictions -> (boxes (B, A, 4) xyxy input pixels, class scores (B, A, C) in [0, 1])."""
        box_outputs, class_logits = predictions
        return self.decode_boxes(box_outputs, input_size), ops.sigmoid(class_logits)

    def loss(self, input_size: InputSize, num_classes: int, **options):
        """`loss_fn`, on the box slots a batch uses: label assignment compares every box slot with
        every anchor, and batches come padded to data.max_boxes where most images hold a few boxes
        (a hands batch took 83 ms with the padding, most of it on -1 rows)."""
        loss = self.loss_fn(input_size, num_classes, **options)
        return lambda predictions, boxes, classes, *teacher: loss(predictions, *trim_box_padding(boxes, classes),
                                                                 *teacher)


def trim_box_padding(boxes, classes):
    """Drop the padding columns no image of the batch uses (keep one for an all-background batch)."""
    used = tf.reduce_max(tf.reduce_sum(tf.cast(classes >= 0, tf.int32), axis=1))
    keep = tf.maximum(used, 1)
    return boxes[:, :keep], classes[:, :keep]


def get_architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise ValueError(f"model.arch: {name!r} is not one of {', '.join(ARCHITECTURES)}")
    return importlib.import_module(ARCHITECTURES[name]).ARCHITECTURE
