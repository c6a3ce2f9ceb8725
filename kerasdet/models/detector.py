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
from ..core.letterbox import input_hw
from ..core.postprocess import MAX_DETECTIONS, NMS_IOU, SCORE_THRESHOLD
from .architecture import get_architecture
from .common.backbones import build_backbone
from .common.neck import pan_fpn


def neck_width(cfg: ModelConfig) -> int:
    """Channels of the neck and head: model.neck_width, or by default 96 for wide backbones, else 64."""
    return cfg.neck_width or (96 if cfg.alpha >= 0.75 else 64)


def build_detector(cfg: ModelConfig, num_classes: int) -> keras.Model:
    arch = get_architecture(cfg.arch)
    input_h, input_w = input_hw(cfg.input_size)
    if input_h % 32 or input_w % 32:
        raise ValueError(f"model.input_size: each side must be a multiple of 32, got {cfg.input_size}")
    backbone = build_backbone(cfg.backbone, cfg.alpha, cfg.input_size, cfg.weights)
    images = keras.Input((input_h, input_w, 3), name="images")
    features = backbone(images)  # a pretrained backbone's BatchNorm is frozen in backbones.py
    width = neck_width(cfg)
    predictions = arch.build_head(pan_fpn(features, width), num_classes, width, cfg.input_size)
    return keras.Model(images, predictions, name=f"{cfg.arch}_{cfg.backbone}")


def model_card(cfg: ModelConfig, class_names: list[str], training_data: dict | None = None) -> ModelCard:
    """The card a model built from `cfg` carries inside every file it is saved to."""
    return ModelCard(arch=cfg.arch, backbone=cfg.backbone, alpha=cfg.alpha, input_size=cfg.input_size,
                     class_names=list(class_names), training_data=training_data or {})


def best_class_nms(boxes, scores, max_detections: int = MAX_DETECTIONS, iou_threshold: float = NMS_IOU,
                   score_threshold: float = SCORE_THRESHOLD):
    """One image: each anchor keeps its best class; class-aware NMS in a single builtin op.

    Boxes are offset by class index times a span wider than all boxes together, so boxes of
    different classes never overlap. `tf.raw_ops.NonMaxSuppressionV4` converts to TFLite's
    builtin NON_MAX_SUPPRESSION_V4 (KerasCV's NMS needs Flex ops; tf.image's padded NMS becomes
    a WHILE loop), so the Keras path and the exported file share this exact post-processing.
    Returns (boxes (K, 4), scores (K,), classes (K,) int32, count), padded to K = max_detections.
    """
    best_score = tf.reduce_max(scores, axis=-1)
    best_class = tf.argmax(scores, axis=-1, output_type=tf.int32)
    span = tf.reduce_max(boxes) - tf.reduce_min(boxes) + 1.0
    shifted = boxes + tf.cast(best_class, boxes.dtype)[:, None] * span
    keep, count = tf.raw_ops.NonMaxSuppressionV4(
        boxes=tf.gather(shifted, [1, 0, 3, 2], axis=-1), scores=best_score,
        max_output_size=max_detections, iou_threshold=iou_threshold, score_threshold=score_threshold,
        pad_to_max_output_size=True)
    return tf.gather(boxes, keep), tf.gather(best_score, keep), tf.gather(best_class, keep), count


def count_params(model: keras.Model) -> int:
    return int(sum(np.prod(w.shape) for w in model.weights if w.trainable or "moving" not in w.path))
