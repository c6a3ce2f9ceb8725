"""`kerasdet evaluate MODEL DATA`: the full COCO report for a trained model on a data source."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..core.files import claim_folder
from ..data.dataset import load_dataset
from .metrics import SUMMARY_NAMES, Evaluator, NothingToEvaluate, coco_evaluate
from ..core.postprocess import TILE_OVERLAP
from ..runtime.load import load_predictor
from ..runtime.tiles import tiled


@dataclass
class EvaluationReport:
    """What an evaluation found. `figures`: COCO's map, map50, map75, ..., mar100 (None where no box is of
    its kind, never 0.0); `report["map50"]` reads one. `per_class`: {name: {"ap", "ap50", "boxes"}} (ap None
    for a class with no box). `nms`: the post-processing the detections came from. With plots: their
    files, and the mistakes in a line."""
    figures: dict
    per_class: dict
    summary: str  # pycocotools' printed summary
    nms: dict
    pr_curves_50: dict  # class -> precision at the 101 recall points, IoU 0.5
    plots: list[str] = field(default_factory=list)
    mistakes: str = ""

    def __getitem__(self, key: str):
        return self.figures[key]

    def to_json(self) -> dict:
        """The figures and the per-class table (`kerasdet evaluate --json`)."""
        return {**self.figures, "per_class": self.per_class}

    def text(self) -> str:
        """The summary, the per-class table and the conventions, as `kerasdet evaluate` prints them."""
        lines = [self.summary, "", f"{'class':<20} {'AP50':>7} {'AP':>7} {'boxes':>7}"]
        for name, m in self.per_class.items():
            ap50, ap = (f"{v:7.3f}" if v is not None else f"{'-':>7}" for v in (m["ap50"], m["ap"]))
            lines.append(f"{name:<20} {ap50} {ap} {m['boxes']:7d}")
        labels = "every class an anchor scores above it" if self.nms.get("multi_label") else "each anchor's best class"
        lines.append(f"conventions: score threshold {self.nms['score_threshold']} ({labels}), at most "
                     f"{self.nms['max_detections']} detections per image, class-aware NMS at IoU {self.nms['iou']}, "
                     "difficult boxes ignored (iscrowd), boxes in original image pixels")
        return "\n".join(lines)


def evaluate(model_path: str | Path, data: str | Path, classes: list[str] | None = None,
             batch_size: int = 16, plots: str | Path | None = None, tile: tuple[int, int] | None = None,
             tile_overlap: float = TILE_OVERLAP) -> EvaluationReport:
    """COCO metrics of a `.keras` or `.tflite` detector on a data folder or file list
    (and with `plots`, PR curves, a confusion matrix, a picture grid and mistakes.csv saved in that
    folder: plots.py).

    Class names come from the model's card; `classes`, when given, must be the same list. `tile`: (height,
    width) of tiles each image is run on, with the whole image, merged (runtime/tiles.py, `--tile`)."""
    if plots:  # before the evaluation, not after: a new or empty folder, or one kerasdet made
        claim_folder(plots, "kerasdet evaluate --plots")
    predictor = tiled(load_predictor(model_path), tile, tile_overlap)
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
    report = EvaluationReport({k: metrics[k] for k in SUMMARY_NAMES}, metrics["per_class"], metrics["summary"],
                              predictor.card.nms, metrics["_pr_curves_50"])
    if plots:
        from .plots import save_evaluation_plots
        paths, report.mistakes = save_evaluation_plots(metrics, ds.records, detections, names, plots)
        report.plots = [str(p) for p in paths]
    return report
