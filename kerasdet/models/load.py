"""One entry point for a trained model on disk: a `.keras` checkpoint or an exported `.tflite`."""
from __future__ import annotations

from pathlib import Path

from ..data.dataset import read_class_names


def load_predictor(model_path: str | Path, num_threads: int | None = None):
    """(predictor, class names); both predictors take RGB images of any size and return
    `Detections` in the images' own pixels, so everything after this is one code path."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no such model file")
    if model_path.suffix == ".tflite":
        from .tflite_predictor import TFLiteDetector
        detector = TFLiteDetector(model_path, num_threads=num_threads)
        return detector, detector.class_names
    if model_path.suffix != ".keras":
        raise ValueError(f"{model_path}: expected a .keras checkpoint or a .tflite file")
    import keras

    from .predictor import KerasPredictor
    try:
        model = keras.saving.load_model(model_path)
    except Exception as err:  # a corrupt zip, a non-Keras file renamed .keras, ...
        raise ValueError(f"{model_path}: not a loadable Keras model ({type(err).__name__}: {err})") from None
    return KerasPredictor(model), read_class_names(model_path.parent)
