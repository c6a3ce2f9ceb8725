"""Benchmark: training images/s (full step: forward, loss with label assignment, backward, update).

    python tools/bench_train.py [--size 320] [--batch 16] [--alpha 1.0] [--steps 10] [--frozen]
        [--profile DIR]

Synthetic batches (random pixels, 3 boxes each) so only the model step is measured; the
input pipeline has its own benchmark (tools/bench_data.py). Prints the median of timed steps
after warm-up. --profile writes a TensorFlow profile (open with TensorBoard's profile tab) and
prints the ops that take the most time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from kerasdet.config import Config  # noqa: E402
from kerasdet.models.detector import count_params  # noqa: E402
from kerasdet.train.fit import _Trainer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--frozen", action="store_true", help="backbone frozen (first phase)")
    parser.add_argument("--profile", help="folder for a TensorFlow profiler trace of 3 steps")
    args = parser.parse_args()

    cfg = Config()
    cfg.model.input_size, cfg.model.alpha, cfg.model.backbone = args.size, args.alpha, args.backbone
    cfg.model.weights = "none"  # same graph and cost as pretrained weights
    cfg.train.batch_size = args.batch
    trainer = _Trainer(cfg, args.classes, steps_per_epoch=100)
    rng = np.random.default_rng(0)
    images = tf.constant(rng.integers(0, 255, (args.batch, args.size, args.size, 3), dtype=np.uint8))
    boxes = np.full((args.batch, 32, 4), -1, np.float32)
    classes = np.full((args.batch, 32), -1, np.float32)
    for i in range(args.batch):
        for j in range(3):
            x, y = rng.uniform(0, args.size * 0.7, 2)
            w, h = rng.uniform(20, args.size * 0.3, 2)
            boxes[i, j] = (x, y, x + w, y + h)
            classes[i, j] = rng.integers(0, args.classes)
    targets = {"boxes": tf.constant(boxes), "classes": tf.constant(classes)}
    for _ in range(3):  # trace + warm-up
        trainer.train_step(images, targets, args.frozen)
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        float(trainer.train_step(images, targets, args.frozen)[0])
        times.append(time.perf_counter() - start)
    step = statistics.median(times)
    print(f"{args.backbone} alpha {args.alpha}, input {args.size}, batch {args.batch}, "
          f"{count_params(trainer.model) / 1e6:.2f} M parameters, backbone {'frozen' if args.frozen else 'trained'}, "
          f"{os.cpu_count()} cores: median step {step * 1000:.0f} ms = {args.batch / step:.1f} images/s")
    if args.profile:
        tf.profiler.experimental.start(args.profile)
        for _ in range(3):
            float(trainer.train_step(images, targets, args.frozen)[0])
        tf.profiler.experimental.stop()
        print(f"profile written to {args.profile}")


if __name__ == "__main__":
    main()
