"""One entry point that opens a `.keras` checkpoint or an exported `.tflite` as a predictor."""
from __future__ import annotations

from pathlib import Path

from ..models.load import load_model


def load_predictor(model_path: str | Path, num_threads: int | None = None):
    """A `KerasPredictor` or `TFLiteDetector`: both take RGB images of any size, return `Detections`
    in the images' own pixels, and carry their `card` (class names, input size, ...)."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no such model file")
    if model_path.suffix == ".tflite":
        from .tflite_detector import TFLiteDetector
        return TFLiteDetector(model_path, num_threads=num_threads)
    if model_path.suffix != ".keras":
        raise ValueError(f"{model_path}: expected a .keras checkpoint or a .tflite file")
    from .keras_predictor import KerasPredictor
    return KerasPredictor(*load_model(model_path))
