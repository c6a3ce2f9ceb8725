"""Anchor points and the YOLOv8 box coding: each side's distance from the anchor point is a
distribution over `REG_MAX` bins (in stride units), read out as its expectation."""
from __future__ import annotations

import numpy as np
from keras import ops

from ...core.letterbox import input_hw
from ..common.backbones import STRIDES

REG_MAX = 16  # bins per box side; distances up to 15 strides


def anchor_points(input_size: int | list[int], strides=STRIDES) -> tuple[np.ndarray, np.ndarray]:
    """(A, 2) anchor centres in pixels (x, y), and (A,) their strides; level by level, row-major.
    `input_size` as model.input_size: a square side or [width, height]."""
    height, width = input_hw(input_size)
    points, point_strides = [], []
    for s in strides:
        ys, xs = np.meshgrid(np.arange(height // s), np.arange(width // s), indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()], 1) * s + s / 2)
        point_strides.append(np.full(xs.size, s))
    return np.concatenate(points).astype("float32"), np.concatenate(point_strides).astype("float32")


def expected_distances(box_logits):
    """(B, A, 4 * REG_MAX) logits -> (B, A, 4) left, top, right, bottom in stride units."""
    shape = ops.shape(box_logits)
    probs = ops.softmax(ops.reshape(box_logits, (shape[0], shape[1], 4, REG_MAX)), axis=-1)
    return ops.sum(probs * ops.arange(REG_MAX, dtype=probs.dtype), axis=-1)


def distances_to_boxes(distances, points, strides):
    """ltrb (stride units) around anchor points -> xyxy pixels."""
    d = distances * strides[:, None]
    return ops.concatenate([points - d[..., :2], points + d[..., 2:]], axis=-1)


def boxes_to_distances(boxes, points, strides):
    """xyxy pixels -> ltrb in stride units, clipped to the range the bins can express."""
    d = ops.concatenate([points - boxes[..., :2], boxes[..., 2:] - points], axis=-1) / strides[:, None]
    return ops.clip(d, 0.0, REG_MAX - 1.01)
