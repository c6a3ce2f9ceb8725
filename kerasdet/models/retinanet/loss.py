"""RetinaNet loss: sigmoid focal loss on classes (alpha 0.25, gamma 2) and smooth L1 on the box
deltas of positive anchors, both normalised by the number of positive anchors (arXiv 1708.02002)."""
from __future__ import annotations

from keras import ops

from ..common.global_batch import global_batch_sum
from .box_coding import encode_deltas
from .matcher import match_anchors

ALPHA, GAMMA = 0.25, 2.0
SMOOTH_L1_BETA = 1.0  # on variance-scaled deltas, as KerasCV's RetinaNet (l1_cutoff 1.0)


def _focal_loss(targets, logits):
    p = ops.sigmoid(logits)
    ce = ops.maximum(logits, 0) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))  # stable BCE
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = ALPHA * targets + (1 - ALPHA) * (1 - targets)
    return alpha_t * (1 - p_t) ** GAMMA * ce


def retinanet_loss(predictions, gt_boxes, gt_classes, anchors, num_classes: int):
    """predictions: (box deltas (B, N, 4), class logits (B, N, C)). Returns {"loss", "box_loss", "class_loss"}."""
    box_deltas, class_logits = predictions
    matched_boxes, matched_classes, weight = match_anchors(anchors, gt_boxes, gt_classes)
    positive = ops.cast(matched_classes >= 0, "float32")
    n_positive = ops.maximum(global_batch_sum(positive), 1.0)
    targets = ops.one_hot(ops.maximum(matched_classes, 0), num_classes) * positive[..., None]
    class_loss = ops.sum(_focal_loss(targets, class_logits) * weight[..., None]) / n_positive
    diff = ops.abs(encode_deltas(matched_boxes, anchors) - box_deltas)
    smooth_l1 = ops.where(diff < SMOOTH_L1_BETA, 0.5 * diff ** 2 / SMOOTH_L1_BETA, diff - 0.5 * SMOOTH_L1_BETA)
    box_loss = ops.sum(ops.sum(smooth_l1, axis=-1) * positive) / n_positive
    return {"loss": class_loss + box_loss, "box_loss": box_loss, "class_loss": class_loss}
