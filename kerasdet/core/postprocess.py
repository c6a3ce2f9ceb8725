"""The post-processing inside every kerasdet model (Keras predictor and exported .tflite alike):
every (anchor, class) pair scoring above SCORE_THRESHOLD, then class-aware NMS (models/detector.py,
`detection_nms`). Users' `--conf` / `--iou` act on top.

Below them, the one home of the prediction defaults: what `kerasdet detect` / `cam` (and the Python
API behind them) keep by default, and the score a detection must reach to count as shown in
`evaluate --plots` (confusion matrix, mistakes)."""
from __future__ import annotations

import os

NMS_IOU = 0.6
SCORE_THRESHOLD = 0.001  # low, as COCO evaluation needs; `--conf` filters for display
MAX_DETECTIONS = 100  # a model's own cap (the card's max_detections), unless trained on crowded photos:
CROWD_FACTOR = 3  # model.max_detections auto: this times the most boxes of one training image, when that is more

NMS_SETTINGS = {"iou": NMS_IOU, "score_threshold": SCORE_THRESHOLD, "max_detections": MAX_DETECTIONS,
                "class_aware": True, "multi_label": True}  # written into every model card



def max_detections_for(most_boxes: int) -> int:
    """`model.max_detections: auto`: MAX_DETECTIONS, or CROWD_FACTOR x the most boxes of one training image,
    rounded up to a multiple of 50, when that is more. A model reporting every class it hesitates between
    (multi_label) needs room for more than one reading an object; COCO's 100 is room for 33 objects."""
    return max(MAX_DETECTIONS, -(-CROWD_FACTOR * most_boxes // 50) * 50)


# Prediction defaults of detect and cam: `--iou` NMS_IOU (no NMS beyond the model's; lower is stricter, higher
# cannot undo it), `--max-det` none beyond the model's own cap, and:
CONF = 0.25  # `--conf`: lowest score kept and shown (SCORE_THRESHOLD above is the model's own, for mAP)
THREADS = min(4, os.cpu_count() or 1)  # LiteRT interpreter threads (a .keras model uses TensorFlow's own)

# Tiled inference (`--tile WxH`, runtime/tiles.py), as SAHI's defaults: tiles overlap by a fifth of a side, and
# boxes of two tiles are one object when they share half of the smaller one (intersection over smaller, IoS)
TILE_OVERLAP = 0.2  # `--tile-overlap`
TILE_MATCH_IOS = 0.5
TILE_EDGE_PX = 2  # a box ending this close to a tile edge inside the frame is cut there
