"""Task-aligned label assignment (TOOD, arXiv 2108.07755), as YOLOv8 trains with.

Written here rather than taken from KerasCV's YOLOV8LabelEncoder, which (0.9.0) scores
alignment with an unclipped CIoU (negative overlaps raised to the 6th power become positive,
and negative "best overlaps" turn class targets negative early in training) and returns a
foreground mask that is always true. Both hurt fine-tuning (keras-team/keras-cv#2442).
"""
from __future__ import annotations

from keras import ops

from ..common.boxes import pairwise_iou
from .config import YoloV8Config


def task_aligned_assign(scores, pred_boxes, points, gt_classes, gt_boxes, num_classes: int, config: YoloV8Config):
    """Targets for every anchor point: each box takes its `config.assign_topk` best-aligned points
    inside it, alignment = class score ** assign_alpha * IoU ** assign_beta.

    scores (B, A, C) probabilities; pred_boxes (B, A, 4) xyxy pixels; points (A, 2) pixels;
    gt_classes (B, M) with -1 padding; gt_boxes (B, M, 4) xyxy pixels with -1 padding.
    Returns target boxes (B, A, 4), target scores (B, A, C) (the normalised alignment, the
    soft class target), and the foreground mask (B, A) float.
    """
    valid = ops.cast(gt_classes >= 0, "float32")  # (B, M)
    labels = ops.cast(ops.maximum(gt_classes, 0), "int32")
    # score of each anchor for each gt's class: (B, M, A)
    class_scores = ops.transpose(ops.take_along_axis(scores, labels[:, None, :], axis=-1), (0, 2, 1))
    ious = pairwise_iou(gt_boxes[:, :, None, :], pred_boxes[:, None, :, :])  # (B, M, A)
    px, py = points[None, None, :, 0], points[None, None, :, 1]
    inside = ops.cast((px > gt_boxes[..., 0:1]) & (px < gt_boxes[..., 2:3]) &
                      (py > gt_boxes[..., 1:2]) & (py < gt_boxes[..., 3:4]), "float32") * valid[..., None]
    align = ops.power(class_scores, config.assign_alpha) * ops.power(ious, config.assign_beta) * inside
    top_values, top_index = ops.top_k(align, config.assign_topk)  # (B, M, k)
    num_anchors = ops.shape(points)[0]
    chosen = ops.sum(ops.one_hot(top_index, num_anchors) * ops.cast(top_values > 1e-9, "float32")[..., None],
                     axis=-2)  # (B, M, A)
    positive = chosen * inside
    # An anchor claimed by several boxes keeps the one it overlaps most.
    best_gt = ops.argmax(ious * positive - (1 - positive), axis=1)  # (B, A)
    claimed = ops.sum(positive, axis=1) > 0
    positive = ops.transpose(ops.one_hot(best_gt, ops.shape(gt_boxes)[1]), (0, 2, 1)) * positive
    foreground = ops.cast(claimed, "float32")
    target_boxes = ops.take_along_axis(gt_boxes, best_gt[..., None], axis=1)
    target_labels = ops.take_along_axis(labels, best_gt, axis=1)
    # Soft targets: alignment normalised so each box's best anchor gets that anchor's IoU.
    align = align * positive
    norm = align * ops.max(ious * positive, axis=-1, keepdims=True) / (ops.max(align, axis=-1, keepdims=True) + 1e-9)
    strength = ops.max(norm, axis=1)  # (B, A)
    target_scores = ops.one_hot(target_labels, num_classes) * (strength * foreground)[..., None]
    return (ops.stop_gradient(target_boxes), ops.stop_gradient(target_scores),
            ops.stop_gradient(foreground))
