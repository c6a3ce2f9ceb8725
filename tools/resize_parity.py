"""How much an exported model cares how a runtime shrinks frames to its input: held-out mAP of one
.tflite on frames of 1x, 2x, 3x the model's input, shrunk to the input the way each runtime does.

    python tools/resize_parity.py runs/mine/best_int8.tflite splits/mine/val.txt [--scales 1 2 3] [--json out.json]

Each source image is first made a frame of `scale` x the model's input (its own aspect kept: INTER_AREA
down, INTER_LINEAR up), as a camera of that resolution would give it. Then:
- `kerasdet`: TFLiteDetector on the frame (its bilinear letterbox);
- `nearest` (MediaPipe on every platform: a 2x shrink is im[0::2, 0::2]), `area`, `cubic`: the frame
  shrunk to the input's shape with that OpenCV interpolation first, so TFLiteDetector resizes nothing.
The real MediaPipe runtimes are measured by tools/eval_mediapipe.py; this tool isolates the resize,
one LiteRT interpreter for all rows. Boxes are mapped back to the source image's pixels and scored
with kerasdet's COCO evaluator; the spread column is the largest minus the smallest mAP@0.5 at a scale.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

RESIZES = {"nearest": cv2.INTER_NEAREST, "area": cv2.INTER_AREA, "cubic": cv2.INTER_CUBIC}


def frame_at(image: np.ndarray, input_hw: tuple[int, int], scale: float) -> np.ndarray:
    """`image` as a frame `scale` times the model input, fitted inside it with the image's aspect."""
    h, w = image.shape[:2]
    fit = min(input_hw[0] * scale / h, input_hw[1] * scale / w)
    size = (max(1, round(w * fit)), max(1, round(h * fit)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if fit < 1 else cv2.INTER_LINEAR)


def detect_resized(detector, frame: np.ndarray, interpolation: int | None):
    """Detections in `frame`'s pixels, the frame shrunk to the input first with `interpolation` (None:
    TFLiteDetector's own letterbox)."""
    from kerasdet.core.detections import Detections
    from kerasdet.core.letterbox import letterbox_shape
    if interpolation is None:
        return detector.detect(frame)
    (h, w), scale = letterbox_shape(frame.shape[:2], detector.input_shape)
    dets = detector.detect(cv2.resize(frame, (w, h), interpolation=interpolation))
    return Detections(dets.boxes / scale, dets.scores, dets.classes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("data")
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0, 3.0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from kerasdet.core.card import read_card
    from kerasdet.core.detections import Detections
    from kerasdet.data import load_dataset
    from kerasdet.data.images import read_rgb
    from kerasdet.eval.metrics import coco_evaluate
    from kerasdet.runtime.tflite_detector import TFLiteDetector

    names = read_card(args.model).class_names
    records = load_dataset(args.data, names, on_error="skip").records
    detector = TFLiteDetector(args.model, num_threads=args.threads)
    print(f"{args.model}: input {detector.input_shape[1]}x{detector.input_shape[0]}, {len(records)} images of "
          f"{args.data}")
    results = {"model": str(args.model), "data": str(args.data), "images": len(records), "scales": {}}
    print(f"{'scale':>5} {'resize':<9} {'mAP@0.5':>8} {'mAP@.5:.95':>11}")
    for scale in args.scales:
        rows = {}
        for name, interpolation in (("kerasdet", None), *RESIZES.items()):
            dets = []
            for r in records:
                image = read_rgb(r.image_path, r.apply_exif)
                frame = frame_at(image, detector.input_shape, scale)
                d = detect_resized(detector, frame, interpolation)
                back = image.shape[1] / frame.shape[1]
                dets.append(Detections(d.boxes * back, d.scores, d.classes))
            m = coco_evaluate(records, dets, names)
            rows[name] = {"map50": m["map50"], "map": m["map"]}
            print(f"{scale:5g} {name:<9} {m['map50']:8.3f} {m['map']:11.3f}", flush=True)
        spread = max(r["map50"] for r in rows.values()) - min(r["map50"] for r in rows.values())
        spread_map = max(r["map"] for r in rows.values()) - min(r["map"] for r in rows.values())
        print(f"{scale:5g} {'spread':<9} {spread:8.3f} {spread_map:11.3f}")
        results["scales"][f"{scale:g}"] = {**rows, "spread_map50": spread, "spread_map": spread_map}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
