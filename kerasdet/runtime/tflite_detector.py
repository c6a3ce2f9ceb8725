"""`kerasdet.TFLiteDetector`: run an exported `.tflite` with LiteRT (ai_edge_litert), with the same
letterbox pre-processing as training and the Keras path; boxes come back in original image pixels.

The light runtime: it imports kerasdet's dependency-free core only (no TensorFlow, Keras or
albumentations), so `from kerasdet import TFLiteDetector` is quick on a Raspberry Pi.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.card import check_card_fits, read_card
from ..core.detections import Detections
from ..core.letterbox import letterbox
from ..core.postprocess import SCORE_THRESHOLD
from ..core.tflite_outputs import CATEGORY, COUNT, LOCATION, OUTPUT_NAMES, SCORE


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
        self.input_shape = tuple(int(n) for n in self._input["shape"][1:3])  # (height, width)
        self._outputs = self._find_outputs(self.interpreter.get_output_details())
        self.card = check_card_fits(read_card(self.path), self._head_classes(), self.path)
        self.input_size = self.card.input_size
        self.class_names = self.card.class_names

    def _find_outputs(self, details) -> dict[str, int]:
        """The outputs by name (kerasdet.tflite.serving describes them)."""
        found = {d["name"]: d["index"] for d in details}
        if sorted(found) != sorted(OUTPUT_NAMES):
            shapes = [(d["name"], tuple(d["shape"]), np.dtype(d["dtype"]).name) for d in details]
            raise ValueError(f"{self.path}: outputs {shapes} are not a kerasdet detector's "
                             f"{list(OUTPUT_NAMES)}; a file exported by kerasdet before 0.3? Export it again: "
                             "kerasdet export MODEL.keras")
        return found

    def _head_classes(self) -> int | None:
        """How many classes the model scores: the last axis of the class scores (B, A, C), the one rank-3
        sigmoid of the graph (the decoding tail stays float, int8 files included); None if not found."""
        shapes = {d["index"]: d["shape"] for d in self.interpreter.get_tensor_details()}
        found = {int(shapes[i][-1]) for op in self.interpreter._get_ops_details() if op["op_name"] == "LOGISTIC"
                 for i in op["outputs"] if len(shapes[i]) == 3}
        return found.pop() if len(found) == 1 else None

    def detect(self, image: np.ndarray, score_threshold: float = SCORE_THRESHOLD) -> Detections:
        """One RGB uint8 image of any size -> its detections in its own pixels."""
        letterboxed, scale = letterbox(image, self.input_shape)
        self.interpreter.set_tensor(self._input["index"], letterboxed[None])
        self.interpreter.invoke()
        get = lambda key: self.interpreter.get_tensor(self._outputs[key])[0]  # noqa: E731
        n = int(get(COUNT))
        scores = get(SCORE)[:n]
        keep = scores >= score_threshold
        input_h, input_w = self.input_shape
        yxyx = get(LOCATION)[:n][keep] * [input_h, input_w, input_h, input_w] / scale
        h, w = image.shape[:2]
        pixels = np.clip(yxyx[:, [1, 0, 3, 2]], 0, [w, h, w, h])
        return Detections(pixels.astype(np.float32), scores[keep], get(CATEGORY)[:n][keep].astype(np.int32))

    def predict(self, images: list[np.ndarray], batch_size: int = 1) -> list[Detections]:
        return [self.detect(image) for image in images]
