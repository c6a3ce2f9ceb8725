"""`kerasdet evaluate MODEL DATA`: the full COCO report for a trained model on a data source."""
from __future__ import annotations

import sys
from pathlib import Path

from .core.files import claim_folder
from .core.postprocess import NMS_SETTINGS
from .data.dataset import load_dataset
from .metrics import Evaluator, NothingToEvaluate, coco_evaluate
from .models.load import load_predictor


def evaluate(model_path: str | Path, data: str | Path, classes: list[str] | None = None,
             batch_size: int = 16, plots: str | Path | None = None) -> dict:
    """COCO metrics of a `.keras` or `.tflite` detector on a data folder or file list
    (and with `plots`, PR curves, a confusion matrix, a picture grid and mistakes.csv saved in that
    folder: evaluation_plots.py).

    Class names come from the model's card; `classes`, when given, must be the same list."""
    if plots:  # before the evaluation, not after: a new or empty folder, or one kerasdet made
        claim_folder(plots, "kerasdet evaluate --plots")
    predictor = load_predictor(model_path)
    names = predictor.card.class_names
    if classes and list(classes) != names:
        raise ValueError(f"--classes {','.join(classes)} disagrees with the classes {model_path} was trained "
                         f"on ({','.join(names)}); leave --classes out, the model knows its own")
    ds = load_dataset(data, names, on_error="skip")
    if not ds.boxes:  # before the model runs: say why there is no figure, not 0.0
        raise NothingToEvaluate(f"{data}: nothing to evaluate ({ds.summary()}): no box of {model_path}'s classes "
                                f"({', '.join(names)}) is in it; give the labelled images the model should find"
                                + (f" (the first problem: {ds.problems[0]})" if ds.problems else ""))
    if ds.problems:
        shown = "".join(f"\n  {p}" for p in ds.problems[:10])
        print(f"{data}: {ds.summary()}; the metrics leave these out:{shown}", file=sys.stderr)
    evaluator = Evaluator(ds.records, names, batch_size)
    detections = evaluator.detections(predictor)
    metrics = coco_evaluate(ds.records, detections, names)
    metrics["_nms"] = predictor.card.nms  # the post-processing these detections came from: for the report
    if plots:
        from .evaluation_plots import save_evaluation_plots
        metrics["_plots"] = [str(p) for p in save_evaluation_plots(metrics, ds.records, detections, names, plots)]
    return metrics


def format_report(metrics: dict) -> str:
    lines = [metrics["summary"], "", f"{'class':<20} {'AP50':>7} {'AP':>7} {'boxes':>7}"]
    for name, m in metrics["per_class"].items():
        ap50, ap = (f"{v:7.3f}" if v is not None else f"{'-':>7}" for v in (m["ap50"], m["ap"]))
        lines.append(f"{name:<20} {ap50} {ap} {m['boxes']:7d}")
    nms = metrics.get("_nms", NMS_SETTINGS)
    labels = ("every class an anchor scores above it" if nms.get("multi_label") else "each anchor's best class")
    lines.append(f"conventions: score threshold {nms['score_threshold']} ({labels}), at most {nms['max_detections']} "
                 f"detections per image, class-aware NMS at IoU {nms['iou']}, difficult boxes ignored (iscrowd), "
                 "boxes in original image pixels")
    return "\n".join(lines)
