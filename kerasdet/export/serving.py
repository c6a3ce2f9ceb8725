"""The graph that ships: uint8 image -> detector -> box decoding -> NMS, in TFLite builtin ops only.

KerasCV's NMS converts only with Select TF ops (FlexBitwiseAnd), which LiteRT cannot run, so
NMS here is TensorFlow's NonMaxSuppressionV4 on one image (builtin NON_MAX_SUPPRESSION_V4),
made class-aware by offsetting each box by its class index times the image size.
Outputs (batch 1): boxes (1, K, 4) float xyxy in input pixels, scores (1, K) float, classes (1, K)
int32, count (1,) int32 -- the first `count` of K rows are real detections. Freezing the graph
for conversion drops output names, so shapes and dtypes tell the outputs apart.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from ..models.detector import decode_boxes_and_scores

OUTPUT_NAMES = ("boxes", "scores", "classes", "count")


def serving_function(model: keras.Model, max_detections: int = 100, iou_threshold: float = 0.6,
                     score_threshold: float = 0.001):
    size = int(model.input_shape[1])

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.uint8, name="image")])
    def serve(image):
        boxes, scores = decode_boxes_and_scores(model(tf.cast(image, tf.float32), training=False), size)
        boxes, scores = boxes[0], scores[0]
        best_score = tf.reduce_max(scores, axis=-1)
        best_class = tf.cast(tf.argmax(scores, axis=-1), tf.float32)
        shifted = boxes + best_class[:, None] * float(size + 1)  # classes never overlap each other
        # The op itself: tf.image.non_max_suppression_padded(pad_to_max_output_size=True) runs a
        # Python while-loop version instead, which converts to a WHILE graph, not the builtin.
        keep, count = tf.raw_ops.NonMaxSuppressionV4(
            boxes=tf.gather(shifted, [1, 0, 3, 2], axis=-1), scores=best_score,
            max_output_size=max_detections, iou_threshold=iou_threshold, score_threshold=score_threshold,
            pad_to_max_output_size=True)
        return {"boxes": tf.gather(boxes, keep)[None], "scores": tf.gather(best_score, keep)[None],
                "classes": tf.cast(tf.gather(best_class, keep), tf.int32)[None],
                "count": tf.reshape(count, [1])}

    return serve
