"""RetinaNet's anchor matching: IoU >= 0.5 positive, < 0.4 background, between ignored (RetinaNetConfig);
every ground-truth box also claims its best anchor, so small or odd-shaped boxes are never unmatched."""
from __future__ import annotations

from keras import ops

from ..common.boxes import pairwise_iou
from .config import RetinaNetConfig


def match_anchors(anchors, gt_boxes, gt_classes, config: RetinaNetConfig):
    """anchors (N, 4); gt_boxes (B, M, 4) and gt_classes (B, M) with -1 padding.

    Returns matched boxes (B, N, 4), matched classes (B, N) int (-1 background),
    and a weight (B, N): 1 for positive and background anchors, 0 for ignored ones.
    """
    valid = ops.cast(gt_classes >= 0, "float32")  # (B, M)
    iou = pairwise_iou(gt_boxes[:, :, None, :], anchors[None, None]) * valid[..., None]  # (B, M, N)
    best_gt = ops.argmax(iou, axis=1)  # (B, N)
    best_iou = ops.max(iou, axis=1)
    # each real box's own best anchor is positive whatever its IoU
    best_anchor = ops.argmax(iou, axis=2)  # (B, M)
    claimed = ops.max(ops.one_hot(best_anchor, ops.shape(anchors)[0]) * valid[..., None], axis=1) > 0
    positive = (best_iou >= config.positive_iou) | claimed
    ignored = ~positive & (best_iou >= config.negative_iou)
    matched_boxes = ops.take_along_axis(gt_boxes, best_gt[..., None], axis=1)
    matched_classes = ops.take_along_axis(ops.cast(gt_classes, "int32"), best_gt, axis=1)
    matched_classes = ops.where(positive, matched_classes, -1)
    return matched_boxes, matched_classes, ops.cast(~ignored, "float32")
