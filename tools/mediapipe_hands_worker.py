"""Times MediaPipe Hands (the legacy `mp.solutions.hands`, its palm-detection and landmark models
inside the wheel) on decoded images; the half of tools/frontier.py that needs mediapipe (it runs in
its own venv, without kerasdet).

usage: mediapipe_hands_worker.py IMAGES.npz OUT.json [--repeat N] [--track]
IMAGES.npz holds one RGB uint8 array per image (keys in order). OUT.json gets the milliseconds of
each `process` call per pass and, per image, the hands found as [xmin, ymin, xmax, ymax, score] in
pixels (the box around the 21 landmarks). By default `static_image_mode`: palm detection on every
frame, as a detector is used. `--track`: video mode, where palm detection runs only until hands
are found and the landmarks then follow them from frame to frame (cheaper on a steady video; the
images should then be consecutive frames).
"""
import argparse
import json
import time

import mediapipe as mp
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("images")
    parser.add_argument("out")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--track", action="store_true")
    args = parser.parse_args()
    arrays = np.load(args.images)
    images = [np.ascontiguousarray(arrays[k]) for k in arrays.files]
    passes, found = [], []
    with mp.solutions.hands.Hands(static_image_mode=not args.track, max_num_hands=2, model_complexity=1,
                                  min_detection_confidence=0.5) as hands:
        hands.process(images[0])  # warm-up
        for _ in range(args.repeat):
            ms, found = [], []
            for image in images:
                start = time.perf_counter()
                result = hands.process(image)
                ms.append((time.perf_counter() - start) * 1e3)
                h, w = image.shape[:2]
                rows = []
                for landmarks, handedness in zip(result.multi_hand_landmarks or [], result.multi_handedness or []):
                    xs = [p.x * w for p in landmarks.landmark]
                    ys = [p.y * h for p in landmarks.landmark]
                    rows.append([min(xs), min(ys), max(xs), max(ys), handedness.classification[0].score])
                found.append(rows)
            passes.append(ms)
    with open(args.out, "w") as f:
        json.dump({"ms": passes, "hands": found}, f)


if __name__ == "__main__":
    main()
