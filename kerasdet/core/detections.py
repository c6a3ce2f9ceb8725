"""`Detections`: what every predictor returns for one image, in that image's own pixels."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .postprocess import NMS_IOU


@dataclass
class Detections:
    boxes: np.ndarray  # (K, 4) xyxy pixels of the original image
    scores: np.ndarray  # (K,)
    classes: np.ndarray  # (K,) int


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, 4) and (N, 4) xyxy boxes -> (M, N) IoU."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter + 1e-9)


def one_box_per_object(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices of the boxes to keep, best first: greedy NMS regardless of class, a box overlapping a
    better one at IoU > `iou` dropped. After a model's class-aware NMS at the same IoU this removes only
    its other readings of one object (the same box with another class), leaving the best label.
    (A few dozen boxes: numpy is enough; OpenCV's NMSBoxes does the same with a score threshold.)"""
    order = np.argsort(-scores, kind="stable")
    ious = box_iou_matrix(boxes[order], boxes[order])
    dropped = np.zeros(len(order), bool)
    for i in range(len(order)):
        if not dropped[i]:
            dropped[i + 1:] |= ious[i, i + 1:] > iou
    return order[~dropped]


def shown_detections(d: Detections, score_threshold: float, one_label: bool = True) -> Detections:
    """What an application shows: the detections scoring >= `score_threshold`; with `one_label`, one
    label per object, best first. The model reports every class it hesitates between (models/detector.py,
    `detection_nms`); of boxes of different classes overlapping at IoU > NMS_IOU, the best-scoring stays."""
    keep = np.flatnonzero(d.scores >= score_threshold)
    if one_label:
        keep = keep[one_box_per_object(d.boxes[keep], d.scores[keep], NMS_IOU)]
    return Detections(d.boxes[keep], d.scores[keep], d.classes[keep])
