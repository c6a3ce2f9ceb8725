"""`kerasdet.TFLiteDetector`: run an exported `.tflite` with LiteRT (ai_edge_litert), with the same
letterbox pre-processing as training and the Keras path; boxes come back in original image pixels.

The light runtime: it imports kerasdet's dependency-free core only (no TensorFlow, Keras or
albumentations), so `from kerasdet import TFLiteDetector` is quick on a Raspberry Pi.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.card import read_card
from ..core.detections import Detections
from ..core.letterbox import letterbox
from ..core.postprocess import SCORE_THRESHOLD


class TFLiteDetector:
    def __init__(self, path: str | Path, num_threads: int | None = None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such model file")
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ValueError(f"{self.path}: not a TFLite model LiteRT can load ({err})") from None
        (self._input,) = self.interpreter.get_input_details()
        self._outputs = self._find_outputs(self.interpreter.get_output_details())
        self.card = read_card(self.path)
        self.input_size = self.card.input_size
        self.class_names = self.card.class_names

    def _find_outputs(self, details) -> dict[str, int]:
        """boxes (1, K, 4) float, scores (1, K) float, classes (1, K) int32, count (1,) int32."""
        kinds = {}
        for d in details:
            rank, is_float = len(d["shape"]), np.issubdtype(d["dtype"], np.floating)
            kind = {(3, True): "boxes", (2, True): "scores", (2, False): "classes", (1, False): "count"}.get(
                (rank, is_float))
            if kind:
                kinds[kind] = d["index"]
        if len(kinds) != 4 or len(details) != 4:
            shapes = [(tuple(d["shape"]), np.dtype(d["dtype"]).name) for d in details]
            raise ValueError(f"{self.path}: outputs {shapes} are not a kerasdet detector's")
        return kinds

    def detect(self, image: np.ndarray, score_threshold: float = SCORE_THRESHOLD) -> Detections:
        """One RGB uint8 image of any size -> its detections in its own pixels."""
        letterboxed, scale = letterbox(image, self.input_size)
        self.interpreter.set_tensor(self._input["index"], letterboxed[None])
        self.interpreter.invoke()
        get = lambda key: self.interpreter.get_tensor(self._outputs[key])  # noqa: E731
        n = int(get("count")[0])
        boxes, scores, classes = get("boxes")[0, :n], get("scores")[0, :n], get("classes")[0, :n]
        keep = scores >= score_threshold
        h, w = image.shape[:2]
        pixels = np.clip(boxes[keep] / scale, 0, [w, h, w, h])
        return Detections(pixels.astype(np.float32), scores[keep], classes[keep].astype(np.int32))

    def predict(self, images: list[np.ndarray], batch_size: int = 1) -> list[Detections]:
        return [self.detect(image) for image in images]
