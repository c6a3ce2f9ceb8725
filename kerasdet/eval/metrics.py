"""COCO detection metrics with pycocotools, from LabelImg records and detections in image pixels.

Conventions: boxes in pixels of the original image; `difficult` boxes are given to COCOeval as
`iscrowd=1`, so detecting them is neither rewarded nor punished (VOC's 'ignore'); up to 100
detections per image; AP is COCO's 101-point interpolated average over IoU 0.50:0.95.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ..core.detections import Detections, box_iou_matrix, shown_detections
from ..core.postprocess import CONF
from ..core.records import ImageRecord
from ..data.cache import ImageCache
from ..data.images import read_rgb

SUMMARY_NAMES = ["map", "map50", "map75", "map_small", "map_medium", "map_large",
                 "mar1", "mar10", "mar100", "mar_small", "mar_medium", "mar_large"]


class NothingToEvaluate(ValueError):
    """No ground-truth box counts: every figure would be undefined, so there is none."""


def _coco_ground_truth(records: list[ImageRecord], class_names: list[str]) -> COCO:
    images, annotations = [], []
    for image_id, r in enumerate(records):
        images.append({"id": image_id, "width": r.width, "height": r.height, "file_name": r.image_path})
        for box, label, difficult in zip(r.boxes, r.labels, r.difficult):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": int(label),
                                "bbox": [float(box[0]), float(box[1]), w, h], "area": w * h,
                                "iscrowd": int(difficult)})
    coco = COCO()
    coco.dataset = {"images": images, "annotations": annotations,
                    "categories": [{"id": i, "name": n} for i, n in enumerate(class_names)]}
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def coco_evaluate(records: list[ImageRecord], detections: list[Detections],
                  class_names: list[str]) -> dict:
    """{"map", "map50", "map75", ..., "per_class": {name: {"ap", "ap50", "boxes"}}, "summary": str}."""
    gt = _coco_ground_truth(records, class_names)
    results = [{"image_id": i, "category_id": int(c), "score": float(s),
                "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]}
               for i, d in enumerate(detections) for b, s, c in zip(d.boxes, d.scores, d.classes)]
    n_boxes = {i: sum(int((r.labels == i).sum()) for r in records) for i in range(len(class_names))}
    counted = sum(not a["iscrowd"] for a in gt.dataset["annotations"])
    if not counted:  # no figure, rather than a 0.0 that reads as a model that finds nothing
        raise NothingToEvaluate(f"nothing to evaluate: {len(records)} images with {counted} boxes of the classes "
                                f"{', '.join(class_names)} that count (difficult boxes do not); give labelled images "
                                "of those classes")
    if not results:  # boxes to find and none found: a true 0
        empty = {k: 0.0 if k in ("map", "map50") or k.startswith("mar") else None for k in SUMMARY_NAMES}
        return {**empty, "per_class": {n: {"ap": 0.0 if n_boxes[i] else None, "ap50": 0.0 if n_boxes[i] else None,
                                           "boxes": n_boxes[i]} for i, n in enumerate(class_names)},
                "summary": "no detections", "_pr_curves_50": {n: [0.0] * 101 for n in class_names}}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    # COCO's -1 means "no ground-truth boxes of this kind" (none small, say): None (JSON null), never 0.0
    metrics = {k: float(v) if v > -1 or k in ("map", "map50") else None for k, v in zip(SUMMARY_NAMES, ev.stats)}
    metrics["map"], metrics["map50"] = max(metrics["map"], 0.0), max(metrics["map50"], 0.0)
    precision = ev.eval["precision"]  # (iou, recall, class, area, maxdets)
    per_class = {}
    for i, name in enumerate(class_names):
        p = precision[:, :, i, 0, -1]
        p50 = precision[0, :, i, 0, -1]
        # a class with no box to find has no AP: None (JSON null), never 0.0
        per_class[name] = {"ap": float(p[p > -1].mean()) if (p > -1).any() else None,
                           "ap50": float(p50[p50 > -1].mean()) if (p50 > -1).any() else None,
                           "boxes": n_boxes[i]}
    summary = "\n".join(line for line in out.getvalue().splitlines() if line.startswith(" Average"))
    # precision at the 101 recall points, IoU 0.5, all sizes, 100 detections: for PR-curve plots
    curves = {name: np.where(precision[0, :, i, 0, -1] > -1, precision[0, :, i, 0, -1], np.nan).tolist()
              for i, name in enumerate(class_names)}
    return {**metrics, "per_class": per_class, "summary": summary, "_pr_curves_50": curves}


class Evaluator:
    """COCO metrics of any predictor (Keras or TFLite) on one dataset: what training validates
    with and what `kerasdet evaluate` reports. `cache` (data/cache.py) keeps decoded images for
    repeated evaluations (training); otherwise they are decoded batch by batch."""

    def __init__(self, records: list[ImageRecord], class_names: list[str], batch_size: int = 16,
                 cache: ImageCache | None = None):
        self.records, self.class_names, self.batch_size, self.cache = records, class_names, batch_size, cache

    def _read(self, index: int):
        record = self.records[index]
        load = lambda: read_rgb(record.image_path, record.apply_exif)  # noqa: E731
        return self.cache.get(index, load) if self.cache is not None else load()

    def detections(self, predictor) -> list[Detections]:
        results = []
        for start in range(0, len(self.records), self.batch_size):
            indices = range(start, min(start + self.batch_size, len(self.records)))
            results += predictor.predict([self._read(i) for i in indices], self.batch_size)
        return results

    def __call__(self, predictor) -> dict:
        return coco_evaluate(self.records, self.detections(predictor), self.class_names)


def public_metrics(metrics: dict) -> dict:
    """The figures, without the printed summary and the plotting data ("_" keys): for JSON files."""
    return {k: v for k, v in metrics.items() if k != "summary" and not k.startswith("_")}


MATCH_IOU = 0.5  # a detection and a true box are the same object (confusion matrix, mistakes)


def match_boxes(predicted: np.ndarray, true: np.ndarray, iou_threshold: float = MATCH_IOU):
    """Pair (K, 4) detections with (N, 4) ground-truth boxes one to one, regardless of class, best
    IoU first, pairs below `iou_threshold` left out: ([(p, t, iou)], unpaired p, unpaired t)."""
    ious = box_iou_matrix(predicted, true) if len(predicted) and len(true) else np.zeros((len(predicted), len(true)))
    pairs, pred_used, true_used = [], set(), set()
    for p, t in zip(*np.unravel_index(np.argsort(-ious, axis=None), ious.shape)):
        if ious[p, t] < iou_threshold:
            break
        if p not in pred_used and t not in true_used:
            pred_used.add(p), true_used.add(t)
            pairs.append((int(p), int(t), float(ious[p, t])))
    return pairs, sorted(set(range(len(predicted))) - pred_used), sorted(set(range(len(true))) - true_used)


@dataclass(frozen=True)
class Mistake:
    """One error in one image at a score threshold: a box taken for another class, a box missed, or a
    detection where nothing is. Classes are indices; what does not apply is None."""
    kind: str  # MISTAKE_KINDS
    true_class: int | None
    predicted_class: int | None
    score: float | None
    iou: float | None
    box: tuple[float, float, float, float]  # the true box, or for a false detection the detected one


MISTAKE_KINDS = ("wrong class", "missed", "false detection")


def image_mistakes(record: ImageRecord, detections: Detections, score_threshold: float = CONF,
                   iou_threshold: float = MATCH_IOU) -> list[Mistake]:
    """What `confusion_matrix` counts off its diagonal, for one image (a missed difficult box is no
    mistake, as in the COCO figures)."""
    shown = shown_detections(detections, score_threshold)
    boxes, scores, classes = shown.boxes, shown.scores, shown.classes
    pairs, extra, missed = match_boxes(boxes, record.boxes, iou_threshold)
    box = lambda b: tuple(float(v) for v in b)  # noqa: E731
    out = [Mistake("wrong class", int(record.labels[t]), int(classes[p]), float(scores[p]), iou, box(record.boxes[t]))
           for p, t, iou in pairs if classes[p] != record.labels[t]]
    out += [Mistake("missed", int(record.labels[t]), None, None, None, box(record.boxes[t]))
            for t in missed if not record.difficult[t]]
    out += [Mistake("false detection", None, int(classes[p]), float(scores[p]), None, box(boxes[p])) for p in extra]
    return out


def confusion_matrix(records: list[ImageRecord], detections: list[Detections], n_classes: int,
                     score_threshold: float = CONF, iou_threshold: float = MATCH_IOU) -> np.ndarray:
    """(n+1, n+1) counts, rows predicted class, columns true class; the last row / column is background
    (a missed box / a false detection). Boxes pair up by IoU regardless of class (`match_boxes`)."""
    matrix = np.zeros((n_classes + 1, n_classes + 1), np.int64)
    for r, d in zip(records, detections):
        shown = shown_detections(d, score_threshold)
        boxes, classes = shown.boxes, shown.classes
        pairs, extra, missed = match_boxes(boxes, r.boxes, iou_threshold)
        for p, t, _ in pairs:
            matrix[classes[p], r.labels[t]] += 1
        for p in extra:
            matrix[classes[p], n_classes] += 1
        for t in missed:
            if not r.difficult[t]:  # as in the COCO figures: a missed difficult box is no miss
                matrix[n_classes, r.labels[t]] += 1
    return matrix
