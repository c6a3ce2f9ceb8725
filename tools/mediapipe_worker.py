"""Runs a .tflite through MediaPipe Tasks' ObjectDetector on decoded images; the half of
tools/eval_mediapipe.py that needs mediapipe (it runs in mediapipe's own venv, without kerasdet).

usage: mediapipe_worker.py MODEL.tflite IMAGES.npz OUT.json [--repeat N]
IMAGES.npz holds one RGB uint8 array per image (keys in order); OUT.json gets, per image,
[[xmin, ymin, xmax, ymax, score, class index, class name], ...] in the image's pixels, and the
milliseconds each `detect` took (the image already decoded), the last of `--repeat` passes.
"""
import argparse
import json
import time

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python import vision
from mediapipe.tasks.python.core.base_options import BaseOptions


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("images")
    parser.add_argument("out")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    options = vision.ObjectDetectorOptions(base_options=BaseOptions(model_asset_path=args.model),
                                           score_threshold=0.0, max_results=-1)
    detector = vision.ObjectDetector.create_from_options(options)
    arrays = np.load(args.images)
    images = [mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(arrays[k])) for k in arrays.files]
    for _ in range(args.repeat):
        results, ms = [], []
        for image in images:
            start = time.perf_counter()
            found = detector.detect(image)
            ms.append((time.perf_counter() - start) * 1e3)
            rows = []
            for d in found.detections:  # MediaPipe gives a box the model read as two classes once, with both
                box = d.bounding_box        # in `categories`: a row for each, as kerasdet lists them
                rows += [[box.origin_x, box.origin_y, box.origin_x + box.width, box.origin_y + box.height,
                          c.score, c.index, c.category_name] for c in d.categories]
            results.append(rows)
    with open(args.out, "w") as f:
        json.dump({"detections": results, "ms": ms}, f)


if __name__ == "__main__":
    main()
