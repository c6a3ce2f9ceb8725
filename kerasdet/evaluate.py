"""`kerasdet evaluate MODEL DATA`: the full COCO report for a trained model on a data source."""
from __future__ import annotations

from pathlib import Path

from .data.dataset import load_dataset, read_class_names
from .data.images import read_rgb
from .metrics import coco_evaluate


def load_predictor(model_path: Path):
    """(predictor, class names) for a `.keras` checkpoint or a `.tflite` file: one code path after."""
    if model_path.suffix == ".tflite":
        from .models.tflite_predictor import TFLiteDetector
        detector = TFLiteDetector(model_path)
        return detector, detector.class_names
    if model_path.suffix != ".keras":
        raise ValueError(f"{model_path}: expected a .keras checkpoint or a .tflite file")
    import keras

    from .models.predictor import KerasPredictor
    try:
        model = keras.saving.load_model(model_path)
    except Exception as err:  # a corrupt zip, a non-Keras file renamed .keras, ...
        raise ValueError(f"{model_path}: not a loadable Keras model ({type(err).__name__}: {err})") from None
    return KerasPredictor(model), read_class_names(model_path.parent)


def evaluate(model_path: str | Path, data: str | Path, classes: list[str] | None = None,
             batch_size: int = 16) -> dict:
    """COCO metrics of a `.keras` detector on a data folder or file list."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise FileNotFoundError(f"{model_path}: no such model file")
    predictor, names = load_predictor(model_path)
    ds = load_dataset(data, classes or names or None)
    detections = []
    for start in range(0, len(ds.records), batch_size):
        chunk = ds.records[start:start + batch_size]
        detections += predictor.predict([read_rgb(r.image_path, r.apply_exif) for r in chunk], batch_size)
    return coco_evaluate(ds.records, detections, ds.class_names)


def format_report(metrics: dict) -> str:
    lines = [metrics["summary"], "", f"{'class':<20} {'AP50':>7} {'AP':>7} {'boxes':>7}"]
    for name, m in metrics["per_class"].items():
        lines.append(f"{name:<20} {m['ap50']:7.3f} {m['ap']:7.3f} {m['boxes']:7d}")
    lines.append("conventions: score threshold 0.001, at most 100 detections per image, each anchor keeps its "
                 "best class, class-aware NMS at "
                 "IoU 0.6, difficult boxes ignored (iscrowd), boxes in original image pixels")
    return "\n".join(lines)
