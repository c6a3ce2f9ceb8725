"""The detector: backbone -> neck -> head as one plain functional Keras model, plus decoding.

The model maps float images in [0, 255] (B, S, S, 3) to raw predictions: box outputs and class
logits (B, A, C). YOLOv8 (head.py): box-bin logits (B, A, 4 * REG_MAX) at A anchor points.
RetinaNet (retinanet_head.py): box deltas (B, A, 4) at A = 9 anchors per location.
Both share the MobileNet backbone and the PAN neck.
Keeping it a plain functional model means `.keras` files load without custom objects and the
TFLite converter sees only standard layers; training and decoding live beside it.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ..config import ModelConfig
from .backbones import build_backbone
from .box_coding import REG_MAX, anchor_points, distances_to_boxes, expected_distances
from .anchor_generator import retinanet_anchors
from .head import yolo_head
from .neck import pan_fpn
from .retinanet_box_coding import decode_deltas
from .retinanet_head import retinanet_head
from .retinanet_loss import retinanet_loss
from .yolo_loss import yolo_loss

ARCHS = ("yolov8", "retinanet")


def neck_width(alpha: float) -> int:
    return 96 if alpha >= 0.75 else 64


def build_detector(cfg: ModelConfig, num_classes: int) -> keras.Model:
    if cfg.arch not in ARCHS:
        raise ValueError(f"model.arch: {cfg.arch!r} is not one of {', '.join(ARCHS)}")
    if cfg.input_size % 32:
        raise ValueError(f"model.input_size must be a multiple of 32, got {cfg.input_size}")
    backbone = build_backbone(cfg.backbone, cfg.alpha, cfg.input_size, cfg.weights)
    images = keras.Input((cfg.input_size, cfg.input_size, 3), name="images")
    features = backbone(images)  # a pretrained backbone's BatchNorm is frozen in backbones.py
    width = neck_width(cfg.alpha)
    pyramid = pan_fpn(features, width)
    if cfg.arch == "retinanet":
        predictions = retinanet_head(pyramid, num_classes, width)
    else:
        predictions = yolo_head(pyramid, num_classes, width, cfg.input_size)
    return keras.Model(images, predictions, name=f"{cfg.arch}_{cfg.backbone}")


def split_predictions(predictions):
    """(box outputs, class logits); also reads checkpoints whose head gave one concatenated tensor."""
    if isinstance(predictions, (list, tuple)):
        return predictions
    return predictions[..., : 4 * REG_MAX], predictions[..., 4 * REG_MAX:]


def decode_boxes_and_scores(predictions, input_size: int):
    """Raw predictions -> (boxes (B, A, 4) xyxy pixels of the input, scores (B, A, C)).

    The box output tells the architecture: 4 deltas per anchor (RetinaNet) or 4 x REG_MAX
    distance bins per anchor point (YOLOv8)."""
    box_outputs, class_logits = split_predictions(predictions)
    if box_outputs.shape[-1] == 4:
        boxes = decode_deltas(box_outputs, retinanet_anchors(input_size))
    else:
        points, strides = anchor_points(input_size)
        boxes = distances_to_boxes(expected_distances(box_outputs), points, strides)
    return boxes, tf.sigmoid(class_logits)


def trim_box_padding(boxes, classes):
    """Drop the padding columns no image of the batch uses. Label assignment compares every box
    slot with every anchor, and batches come padded to data.max_boxes (32) where most images hold
    a few boxes: the loss of a hands batch took 83 ms with the padding, most of it on -1 rows."""
    used = tf.reduce_max(tf.reduce_sum(tf.cast(classes >= 0, tf.int32), axis=1))
    keep = tf.maximum(used, 1)  # an all-background batch still needs one (padding) slot
    return boxes[:, :keep], classes[:, :keep]


def detection_loss(arch: str, input_size: int, num_classes: int):
    """loss(predictions, gt_boxes, gt_classes) -> (total, box, class, dfl) for the architecture
    (RetinaNet has no DFL term: its fourth value is 0). Boxes come first, padding (-1) after."""
    if arch == "retinanet":
        anchors = tf.constant(retinanet_anchors(input_size))
        loss = lambda predictions, boxes, classes: retinanet_loss(predictions, boxes, classes,  # noqa: E731
                                                                  anchors, num_classes)
    else:
        points, strides = (tf.constant(a) for a in anchor_points(input_size))
        loss = lambda predictions, boxes, classes: yolo_loss(predictions, boxes, classes,  # noqa: E731
                                                             points, strides, num_classes)
    return lambda predictions, boxes, classes: loss(predictions, *trim_box_padding(boxes, classes))


def best_class_nms(boxes, scores, max_detections: int = 100, iou_threshold: float = 0.6,
                   score_threshold: float = 0.001):
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
