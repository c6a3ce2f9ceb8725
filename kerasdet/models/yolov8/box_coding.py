"""Anchor points and the YOLOv8 box coding: each side's distance from the anchor point is a
distribution over `reg_max` bins (in stride units; YoloV8Config), read out as its expectation."""
from __future__ import annotations

import numpy as np
from keras import ops

from ...core.input_size import InputSize
from ..common.backbones import STRIDES


def anchor_points(input_size: InputSize, strides=STRIDES) -> tuple[np.ndarray, np.ndarray]:
    """(A, 2) anchor centres in pixels (x, y), and (A,) their strides; level by level, row-major."""
    height, width = input_size.hw
    points, point_strides = [], []
    for s in strides:
        ys, xs = np.meshgrid(np.arange(height // s), np.arange(width // s), indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()], 1) * s + s / 2)
        point_strides.append(np.full(xs.size, s))
    return np.concatenate(points).astype("float32"), np.concatenate(point_strides).astype("float32")


def expected_distances(box_logits, reg_max: int):
    """(B, A, 4 * reg_max) logits -> (B, A, 4) left, top, right, bottom in stride units."""
    shape = ops.shape(box_logits)
    probs = ops.softmax(ops.reshape(box_logits, (shape[0], shape[1], 4, reg_max)), axis=-1)
    return ops.sum(probs * ops.arange(reg_max, dtype=probs.dtype), axis=-1)


def distances_to_boxes(distances, points, strides):
    """ltrb (stride units) around anchor points -> xyxy pixels."""
    d = distances * strides[:, None]
    return ops.concatenate([points - d[..., :2], points + d[..., 2:]], axis=-1)


def boxes_to_distances(boxes, points, strides, reg_max: int):
    """xyxy pixels -> ltrb in stride units, clipped to the range `reg_max` bins can express."""
    d = ops.concatenate([points - boxes[..., :2], boxes[..., 2:] - points], axis=-1) / strides[:, None]
    return ops.clip(d, 0.0, reg_max - 1.01)
