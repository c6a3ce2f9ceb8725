"""RetinaNet loss: sigmoid focal loss on classes (RetinaNetConfig: alpha 0.25, gamma 2) and smooth L1
on the box deltas of positive anchors, both normalised by the number of positive anchors (arXiv 1708.02002)."""
from __future__ import annotations

from keras import ops

from ..common.global_batch import global_batch_sum
from .box_coding import encode_deltas
from .config import RetinaNetConfig
from .matcher import match_anchors


def _focal_loss(targets, logits, alpha: float, gamma: float):
    p = ops.sigmoid(logits)
    ce = ops.maximum(logits, 0) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))  # stable BCE
    p_t = p * targets + (1 - p) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return alpha_t * (1 - p_t) ** gamma * ce


def retinanet_loss(predictions, gt_boxes, gt_classes, anchors, num_classes: int, config: RetinaNetConfig):
    """predictions: (box deltas (B, N, 4), class logits (B, N, C)). Returns {"loss", "box_loss", "class_loss"}."""
    box_deltas, class_logits = predictions
    matched_boxes, matched_classes, weight = match_anchors(anchors, gt_boxes, gt_classes, config)
    positive = ops.cast(matched_classes >= 0, "float32")
    n_positive = ops.maximum(global_batch_sum(positive), 1.0)
    targets = ops.one_hot(ops.maximum(matched_classes, 0), num_classes) * positive[..., None]
    focal = _focal_loss(targets, class_logits, config.focal_alpha, config.focal_gamma)
    class_loss = ops.sum(focal * weight[..., None]) / n_positive
    diff = ops.abs(encode_deltas(matched_boxes, anchors, config.box_variance) - box_deltas)
    beta = config.smooth_l1_beta  # on variance-scaled deltas, as KerasCV's RetinaNet (l1_cutoff 1.0)
    smooth_l1 = ops.where(diff < beta, 0.5 * diff ** 2 / beta, diff - 0.5 * beta)
    box_loss = ops.sum(ops.sum(smooth_l1, axis=-1) * positive) / n_positive
    return {"loss": class_loss + box_loss, "box_loss": box_loss, "class_loss": class_loss}
