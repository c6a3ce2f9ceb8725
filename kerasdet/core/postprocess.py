"""The post-processing inside every kerasdet model (Keras predictor and exported .tflite alike):
every (anchor, class) pair scoring above SCORE_THRESHOLD, then class-aware NMS (models/detector.py,
`detection_nms`). Users' `--conf` / `--iou` act on top."""
from __future__ import annotations

NMS_IOU = 0.6
SCORE_THRESHOLD = 0.001  # low, as COCO evaluation needs; `--conf` filters for display
MAX_DETECTIONS = 100

NMS_SETTINGS = {"iou": NMS_IOU, "score_threshold": SCORE_THRESHOLD, "max_detections": MAX_DETECTIONS,
                "class_aware": True, "multi_label": True}  # written into every model card
