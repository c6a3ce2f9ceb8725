"""`kerasdet evaluate MODEL DATA`: the full COCO report for a trained model on a data source."""
from __future__ import annotations

from pathlib import Path

from .data.dataset import load_dataset
from .data.images import read_rgb
from .metrics import coco_evaluate
from .models.load import load_predictor


def evaluate(model_path: str | Path, data: str | Path, classes: list[str] | None = None,
             batch_size: int = 16, plots: str | Path | None = None) -> dict:
    """COCO metrics of a `.keras` or `.tflite` detector on a data folder or file list
    (and with `plots`, PR curves, a confusion matrix and a picture grid saved in that folder)."""
    predictor, names = load_predictor(model_path)
    ds = load_dataset(data, classes or names or None)
    detections = []
    for start in range(0, len(ds.records), batch_size):
        chunk = ds.records[start:start + batch_size]
        detections += predictor.predict([read_rgb(r.image_path, r.apply_exif) for r in chunk], batch_size)
    metrics = coco_evaluate(ds.records, detections, ds.class_names)
    if plots:
        from .evaluation_plots import save_evaluation_plots
        metrics["_plots"] = [str(p) for p in save_evaluation_plots(metrics, ds.records, detections,
                                                                   ds.class_names, plots)]
    return metrics


def format_report(metrics: dict) -> str:
    lines = [metrics["summary"], "", f"{'class':<20} {'AP50':>7} {'AP':>7} {'boxes':>7}"]
    for name, m in metrics["per_class"].items():
        lines.append(f"{name:<20} {m['ap50']:7.3f} {m['ap']:7.3f} {m['boxes']:7d}")
    lines.append("conventions: score threshold 0.001, at most 100 detections per image, each anchor keeps its "
                 "best class, class-aware NMS at "
                 "IoU 0.6, difficult boxes ignored (iscrowd), boxes in original image pixels")
    return "\n".join(lines)
