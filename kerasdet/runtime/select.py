"""User-facing thresholds on top of what a model returns (it keeps everything above SCORE_THRESHOLD);
their defaults live in core/postprocess.py."""
from __future__ import annotations

import cv2
import numpy as np

from ..core.detections import Detections, shown_detections
from ..core.postprocess import CONF, NMS_IOU


def select_detections(d: Detections, conf: float = CONF, iou: float = NMS_IOU,
                      max_det: int | None = None, one_label: bool = True) -> Detections:
    """Detections scoring >= `conf`, at most `max_det` (None: as many as the model kept, its own cap), best
    first.

    The model already ran class-aware NMS at IoU NMS_IOU and, where it hesitates between classes, kept
    each reading with its score (models/detector.py, `detection_nms`): what mAP wants. An application
    wants one label per object: with `one_label`, of boxes of different classes that overlap at IoU
    > NMS_IOU only the best-scoring one stays. An `iou` below NMS_IOU runs a stricter class-aware NMS
    here (an exported .tflite cannot be asked for another threshold); one above it cannot undo the first.
    """
    d = shown_detections(d, conf, one_label)
    keep = np.arange(len(d.scores))
    if iou < NMS_IOU and len(keep) > 1:
        xywh = np.concatenate([d.boxes[:, :2], d.boxes[:, 2:] - d.boxes[:, :2]], 1)
        kept = cv2.dnn.NMSBoxesBatched(xywh.astype(np.float32), d.scores.astype(np.float32),
                                       d.classes.astype(np.int32), conf, iou)
        keep = np.asarray(kept, np.int64).reshape(-1)
    keep = keep[np.argsort(-d.scores[keep], kind="stable")][:max_det]
    return Detections(d.boxes[keep], d.scores[keep], d.classes[keep])
