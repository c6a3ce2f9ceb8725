"""The detector: backbone -> neck -> the architecture's head, as one plain functional Keras model,
and the post-processing every kerasdet model ends with.

The model maps float images in [0, 255] (B, H, W, 3) to raw predictions: box outputs and class
logits (B, A, C); what the box outputs mean is the architecture's business (models/<arch>/).
Keeping it a plain functional model means `.keras` files load without custom objects and the
TFLite converter sees only standard layers.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ..config import ModelConfig
from ..core.card import ModelCard
from ..core.input_size import SIDE_MULTIPLE, InputSize
from ..core.postprocess import NMS_SETTINGS, max_detections_for
from .architecture import get_architecture
from .common.backbones import build_backbone
from .common.neck import pan_fpn


def neck_width(cfg: ModelConfig) -> int:
    """Channels of the neck and head: model.neck_width, or by default 96 for wide backbones, else 64."""
    return cfg.neck_width or (96 if cfg.alpha >= 0.75 else 64)


def build_detector(cfg: ModelConfig, num_classes: int) -> keras.Model:
    arch = get_architecture(cfg.arch)
    size = InputSize.of(cfg.input_size)
    if size.width % SIDE_MULTIPLE or size.height % SIDE_MULTIPLE:
        raise ValueError(f"model.input_size: each side must be a multiple of {SIDE_MULTIPLE}, got {cfg.input_size}")
    backbone = build_backbone(cfg.backbone, cfg.alpha, size, cfg.weights)
    images = keras.Input((*size.hw, 3), name="images")
    features = backbone(images)  # a pretrained backbone's BatchNorm is frozen in backbones.py
    width = neck_width(cfg)
    predictions = arch.build_head(pan_fpn(features, width), num_classes, width, size)
    return keras.Model(images, predictions, name=f"{cfg.arch}_{cfg.backbone}")


def model_card(cfg: ModelConfig, class_names: list[str], training_data: dict | None = None,
               most_boxes: int = 0) -> ModelCard:
    """The card a model built from `cfg` carries inside every file it is saved to; `most_boxes` (of one
    training image) sizes `model.max_detections: auto`."""
    cap = max_detections_for(most_boxes) if cfg.max_detections == "auto" else cfg.max_detections
    return ModelCard(arch=cfg.arch, backbone=cfg.backbone, alpha=cfg.alpha, input_size=cfg.input_size,
                     class_names=list(class_names), nms={**NMS_SETTINGS, "max_detections": cap},
                     training_data=training_data or {})


def detection_nms(boxes, scores, nms: dict):
    """One image's (A, 4) xyxy boxes and (A, C) class scores -> (boxes (K, 4), scores (K,), classes (K,)
    int32, count), padded to K = max_detections: the post-processing a model card's `nms` names.

    `multi_label` (cards written from 2026-12-07 on): every class of an anchor that scores above
    the threshold is a candidate, as torchvision's and Detectron2's detectors and Ultralytics' validation
    do. Where the model hesitates between two classes it reports both, each with its score, instead of
    dropping the second reading: what mAP rewards (docs/results/2026-12-07-multi-label-nms.md).
    Cards without the key (older files) keep each anchor's best class only. Applications that want one
    label per object ask `runtime.select_detections` (the CLI and the camera demo do).
    """
    # Class-aware NMS in one op: each box moves by its class index times a span wider than all boxes
    # together, so boxes of different classes never overlap.
    span = tf.reduce_max(boxes) - tf.reduce_min(boxes) + 1.0
    yxyx = tf.gather(boxes, [1, 0, 3, 2], axis=-1)  # the op's order
    if not nms.get("multi_label", False):
        best_score = tf.reduce_max(scores, axis=-1)
        best_class = tf.argmax(scores, axis=-1, output_type=tf.int32)
        keep, count = _nms(yxyx + tf.cast(best_class, boxes.dtype)[:, None] * span, best_score, nms)
        return tf.gather(boxes, keep), tf.gather(best_score, keep), tf.gather(best_class, keep), count
    # Every (anchor, class) pair, anchor-major as `scores` is laid out, by broadcasting: no index tensor
    # as long as the pairs (RetinaNet's 18,900 anchors x 6 classes would fold into 1.4 MB of constants),
    # and no top-k before NMS (torchvision's way: it cost nano's fp32 file 0.44 ms; measured 2026-12-07).
    num_classes = scores.shape[-1]
    offsets = tf.range(num_classes, dtype=boxes.dtype)[:, None] * span  # (C, 1)
    pairs = tf.reshape(yxyx[:, None, :] + offsets, [-1, 4])
    flat_scores = tf.reshape(scores, [-1])
    keep, count = _nms(pairs, flat_scores, nms)
    return tf.gather(boxes, keep // num_classes), tf.gather(flat_scores, keep), keep % num_classes, count


def _nms(boxes_yxyx, scores, nms: dict):
    """`tf.raw_ops.NonMaxSuppressionV4` converts to TFLite's builtin NON_MAX_SUPPRESSION_V4 (KerasCV's
    NMS needs Flex ops; tf.image's padded NMS becomes a WHILE loop), so the Keras path and the exported
    file share this exact post-processing. Returns (indices padded to max_detections, count)."""
    return tf.raw_ops.NonMaxSuppressionV4(
        boxes=boxes_yxyx, scores=scores, max_output_size=nms["max_detections"], iou_threshold=nms["iou"],
        score_threshold=nms["score_threshold"], pad_to_max_output_size=True)


def count_params(model: keras.Model) -> int:
    return int(sum(np.prod(w.shape) for w in model.weights if w.trainable or "moving" not in w.path))
