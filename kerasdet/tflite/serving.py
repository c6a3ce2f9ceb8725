"""The graph that ships: uint8 image -> detector -> box decoding -> NMS, in TFLite builtin ops only.

Decoding (the model's architecture) and NMS are the very functions the Keras predictor uses, so
Keras and TFLite detections agree.

The input is (1, H, W, 3) uint8 RGB with H x W the shape of the frames it will see (4:3 photos:
320 x 240), padded inside the graph bottom and right with the letterbox grey to the input the network
was trained on (model.input_size: a square or a rectangle). A runtime that stretches every frame to
the input (MediaPipe Tasks does) then feeds exactly what kerasdet's letterbox feeds: both scale the
frame by the same factor and the padding is the same.

The outputs are core/tflite_outputs.py's, in its order; MediaPipe Tasks' ObjectDetector and the
TFLite Task Library read them through the file's metadata (metadata.py).
"""
from __future__ import annotations

import keras
import tensorflow as tf

from ..core.card import ModelCard
from ..core.input_size import InputSize
from ..core.letterbox import PAD_VALUE
from ..models.architecture import get_architecture
from ..models.detector import detection_nms


def serving_function(model: keras.Model, card: ModelCard, input_shape: tuple[int, int] | None = None):
    """`input_shape` (height, width), each at most the card's input size; that size by default."""
    nms = card.nms
    size = InputSize.of(card.input_size)
    model_h, model_w = size.hw
    height, width = input_shape or size.hw
    arch = get_architecture(card.arch)

    @tf.function(input_signature=[tf.TensorSpec([1, height, width, 3], tf.uint8, name="image")])
    def serve(image):
        padded = tf.pad(image, [[0, 0], [0, model_h - height], [0, model_w - width], [0, 0]],
                        constant_values=PAD_VALUE)
        boxes, scores = arch.decode(model(tf.cast(padded, tf.float32), training=False), size)
        boxes, scores, classes, count = detection_nms(boxes[0], scores[0], nms)
        # xyxy input pixels -> yxyx fractions of the (unpadded) input, clipped to it
        location = tf.clip_by_value(tf.gather(boxes, [1, 0, 3, 2], axis=-1) / [height, width, height, width],
                                    0.0, 1.0)
        return (location[None], tf.cast(classes, tf.float32)[None], scores[None],
                tf.cast(tf.reshape(count, [1]), tf.float32))

    return serve
