"""Study: what the post-processing settings change on crowded photos: COCO mAP of one `.keras` checkpoint
on one data source, re-evaluated with other NMS IoU thresholds and detection caps (the model card's `nms`,
which every kerasdet model and exported file carries, core/postprocess.py).

    python tools/nms_sweep.py RUN/best.keras DATA [--iou 0.5 0.6 0.7] [--max-det 30 100 300]

Each setting is one row: mAP@0.5, mAP@[.5:.95], mean recall at 100 detections, and the most detections
an image kept. The crowding of DATA (boxes per image: mean, most) is printed first, so a cap can be read
against it. COCO counts at most 100 detections an image, so caps over 100 only show in the last column.
"""
from __future__ import annotations

import argparse
import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kerasdet.data.dataset import load_dataset  # noqa: E402
from kerasdet.eval.metrics import Evaluator, coco_evaluate  # noqa: E402
from kerasdet.models.load import load_model  # noqa: E402
from kerasdet.runtime.keras_predictor import KerasPredictor  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", help="a .keras checkpoint")
    p.add_argument("data", help="a LabelImg data source (folder, list, ...)")
    p.add_argument("--iou", type=float, nargs="+", default=[0.5, 0.6, 0.7])
    p.add_argument("--max-det", type=int, nargs="+", default=[30, 100, 300])
    args = p.parse_args()
    model, card = load_model(args.model)
    data = load_dataset(args.data, card.class_names)
    evaluator = Evaluator(data.records, data.class_names)
    per_image = [len(r.boxes) for r in data.records]
    print(f"{args.data}: {len(per_image)} images, boxes per image mean {np.mean(per_image):.1f}, most "
          f"{max(per_image)}; the model's card: {card.nms}")
    print("iou  max_det  mAP@0.5  mAP@[.5:.95]  mAR@100  most kept")
    for iou in args.iou:
        for max_det in args.max_det:
            nms = {**card.nms, "iou": iou, "max_detections": max_det}
            found = evaluator.detections(KerasPredictor(model, dataclasses.replace(card, nms=nms)))
            m = coco_evaluate(data.records, found, data.class_names)
            print(f"{iou:.2f} {max_det:7d}  {m['map50']:.4f}   {m['map']:.4f}        {m['mar100']:.4f}   "
                  f"{max(len(d.scores) for d in found)}")


if __name__ == "__main__":
    main()
