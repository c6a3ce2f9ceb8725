"""YOLOv8 loss: BCE on soft task-aligned class targets, CIoU and distribution focal loss on boxes.

Weights 7.5 / 0.5 / 1.5 and normalisation by the sum of target scores follow Ultralytics,
which fine-tunes reliably on small sets; KerasCV's YOLOV8Detector drops the DFL term.
"""
from __future__ import annotations

from keras import ops

from ..common.boxes import ciou
from ..common.global_batch import global_batch_sum

from .assigner import task_aligned_assign
from .box_coding import REG_MAX, boxes_to_distances, distances_to_boxes, expected_distances

BOX_WEIGHT, CLASS_WEIGHT, DFL_WEIGHT = 7.5, 0.5, 1.5


def _distribution_focal_loss(box_logits, target_distances):
    """Cross-entropy to the two bins around each target distance, weighted by closeness."""
    shape = ops.shape(box_logits)
    logits = ops.reshape(box_logits, (shape[0], shape[1], 4, REG_MAX))
    left = ops.floor(target_distances)
    w_right = target_distances - left
    log_probs = ops.log_softmax(logits, axis=-1)
    pick = lambda idx: ops.sum(log_probs * ops.one_hot(ops.cast(idx, "int32"), REG_MAX), axis=-1)  # noqa: E731
    return -ops.mean(pick(left) * (1 - w_right) + pick(left + 1) * w_right, axis=-1)  # (B, A)


def yolo_loss(predictions, gt_boxes, gt_classes, points, strides, num_classes: int):
    """predictions: (box logits (B, A, 4 * REG_MAX), class logits (B, A, C)).
    Returns {"loss": weighted total, "box_loss", "class_loss", "dfl_loss"}, each a scalar."""
    box_logits, class_logits = predictions
    pred_boxes = distances_to_boxes(expected_distances(box_logits), points, strides)
    target_boxes, target_scores, foreground = task_aligned_assign(
        ops.sigmoid(class_logits), pred_boxes, points, gt_classes, gt_boxes, num_classes)
    score_sum = ops.maximum(global_batch_sum(target_scores), 1.0)
    class_loss = ops.sum(ops.binary_crossentropy(target_scores, class_logits, from_logits=True)) / score_sum
    weight = ops.sum(target_scores, axis=-1) * foreground  # (B, A)
    box_loss = ops.sum((1.0 - ciou(target_boxes, pred_boxes)) * weight) / score_sum
    dfl = _distribution_focal_loss(box_logits, boxes_to_distances(target_boxes, points, strides))
    dfl_loss = ops.sum(dfl * weight) / score_sum
    total = BOX_WEIGHT * box_loss + CLASS_WEIGHT * class_loss + DFL_WEIGHT * dfl_loss
    return {"loss": total, "box_loss": box_loss, "class_loss": class_loss, "dfl_loss": dfl_loss}
