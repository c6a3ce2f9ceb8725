"""The graph that ships: uint8 image -> detector -> box decoding -> NMS, in TFLite builtin ops only.

Decoding (the model's architecture) and NMS are the very functions the Keras predictor uses, so
Keras and TFLite detections agree.
Outputs (batch 1): boxes (1, K, 4) float xyxy in input pixels, scores (1, K) float, classes (1, K)
int32, count (1,) int32 -- the first `count` of K rows are real detections. Freezing the graph
for conversion drops output names, so shapes and dtypes tell the outputs apart.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from ..core.card import ModelCard
from ..models.architecture import get_architecture
from ..models.detector import best_class_nms


def serving_function(model: keras.Model, card: ModelCard):
    size, nms = card.input_size, card.nms
    arch = get_architecture(card.arch)

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.uint8, name="image")])
    def serve(image):
        boxes, scores = arch.decode(model(tf.cast(image, tf.float32), training=False), size)
        boxes, scores, classes, count = best_class_nms(boxes[0], scores[0], nms["max_detections"], nms["iou"],
                                                       nms["score_threshold"])
        return {"boxes": boxes[None], "scores": scores[None], "classes": classes[None],
                "count": tf.reshape(count, [1])}

    return serve
