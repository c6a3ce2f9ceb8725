"""The graph that ships: uint8 image -> detector -> box decoding -> NMS, in TFLite builtin ops only.

Decoding and NMS are the very functions the Keras path uses (models/detector.py), so Keras and
TFLite detections agree.
Outputs (batch 1): boxes (1, K, 4) float xyxy in input pixels, scores (1, K) float, classes (1, K)
int32, count (1,) int32 -- the first `count` of K rows are real detections. Freezing the graph
for conversion drops output names, so shapes and dtypes tell the outputs apart.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from ..models.detector import best_class_nms, decode_boxes_and_scores

def serving_function(model: keras.Model, max_detections: int = 100, iou_threshold: float = 0.6,
                     score_threshold: float = 0.001):
    size = int(model.input_shape[1])

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.uint8, name="image")])
    def serve(image):
        boxes, scores = decode_boxes_and_scores(model(tf.cast(image, tf.float32), training=False), size)
        boxes, scores, classes, count = best_class_nms(boxes[0], scores[0], max_detections, iou_threshold,
                                                       score_threshold)
        return {"boxes": boxes[None], "scores": scores[None], "classes": classes[None],
                "count": tf.reshape(count, [1])}

    return serve
