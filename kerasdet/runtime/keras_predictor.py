"""Detections from a Keras detector on whole images: letterbox -> model -> decode -> NMS -> pixels."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ..core.card import ModelCard
from ..core.detections import Detections
from ..core.input_size import InputSize
from ..core.letterbox import letterbox
from ..models.architecture import get_architecture
from ..models.detector import detection_nms


class KerasPredictor:
    def __init__(self, model: keras.Model, card: ModelCard):
        self.model, self.card = model, card
        self.input_size = card.input_size  # as the card writes it, as TFLiteDetector's
        size = InputSize.of(card.input_size)
        self.input_hw = size.hw  # (height, width) images are letterboxed to
        self.class_names = card.class_names
        arch = get_architecture(card.arch)
        nms = card.nms

        @tf.function(reduce_retracing=True)
        def run(images):
            boxes, scores = arch.decode(model(images, training=False), size)
            return tf.map_fn(
                lambda x: detection_nms(x[0], x[1], nms),
                (boxes, scores), fn_output_signature=(tf.float32, tf.float32, tf.int32, tf.int32))

        self._run = run

    def detect(self, image: np.ndarray) -> Detections:
        """One RGB uint8 image of any size -> its detections in its own pixels (as TFLiteDetector)."""
        return self.predict([image])[0]

    def predict(self, images: list[np.ndarray], batch_size: int = 16) -> list[Detections]:
        """RGB uint8 images of any size -> detections in their own pixels."""
        results = []
        for start in range(0, len(images), batch_size):
            chunk = [letterbox(im, self.input_hw) for im in images[start:start + batch_size]]
            batch = np.stack([c[0] for c in chunk]).astype(np.float32)
            boxes, scores, classes, counts = (t.numpy() for t in self._run(tf.constant(batch)))
            originals = images[start:start + batch_size]
            for original, (_, scale), b, s, c, n in zip(originals, chunk, boxes, scores, classes, counts):
                h, w = original.shape[:2]
                pixels = np.clip(b[:n] / scale, 0, [w, h, w, h])  # letterbox padding is not the image
                results.append(Detections(pixels, s[:n], c[:n].astype(np.int32)))
        return results
