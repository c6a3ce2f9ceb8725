"""Benchmark: training images/s (full step: forward, loss with label assignment, backward, update).

    python tools/bench_train.py [--size 320|WxH] [--batch 16] [--alpha 1.0] [--steps 8] [--weights PATH|none]
                                 [--arch yolov8|retinanet] [--trainable-fraction F] [--profile DIR]

Synthetic batches (random pixels, 3 boxes each) so only the model step is measured; the input
pipeline has its own benchmark (tools/bench_data.py). With pretrained weights (the default, from
../shared/weights when present) the backbone's BatchNorm runs in inference mode, as in real
fine-tuning. Prints the median of timed steps after warm-up for both training phases, and a
breakdown of where the time goes: backbone forward, detector forward, loss, backward + update.
`--profile DIR` also traces three training steps with TensorFlow's profiler (open DIR in
TensorBoard's Profile tab) and prints op time per model part and per op type.
"""
from __future__ import annotations

import argparse
import collections
import glob
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from timing import median_ms  # noqa: E402  (tools/timing.py)
import tensorflow as tf  # noqa: E402

from kerasdet.config import Config  # noqa: E402
from kerasdet.core.input_size import InputSize  # noqa: E402
from kerasdet.core.registry import ARCHITECTURES  # noqa: E402
from kerasdet.models.detector import count_params  # noqa: E402
from kerasdet.train import Trainer  # noqa: E402

SHARED_WEIGHTS = Path(__file__).resolve().parents[2] / "shared" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="320", help="a square side, or WxH (model.input_size [W, H])")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--arch", default="yolov8", choices=tuple(ARCHITECTURES))
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--trainable-fraction", type=float, default=1.0,
                        help="train.backbone_trainable_fraction (configs/hands.yaml uses 0.5)")
    parser.add_argument("--weights", default=None, help="weights file, or none (default: ../shared/weights)")
    parser.add_argument("--profile", metavar="DIR", help="trace 3 backbone-trained steps into DIR and summarise")
    args = parser.parse_args()

    weights = args.weights
    if weights is None:
        candidate = SHARED_WEIGHTS / f"mobilenet_v2_{args.alpha:g}_224_no_top.weights.h5".replace("_1_", "_1.0_")
        weights = str(candidate) if candidate.exists() and args.backbone == "mobilenet_v2" else "none"
    width, _, height = args.size.partition("x")
    size = InputSize(int(width), int(height or width))
    cfg = Config()
    cfg.model.input_size, cfg.model.alpha, cfg.model.backbone = size.to_config(), args.alpha, args.backbone
    cfg.model.weights, cfg.model.arch = weights, args.arch
    cfg.train.batch_size = args.batch
    cfg.train.epochs = 50  # the learning-rate schedule's span (train.epochs auto is sized from data; none here)
    cfg.train.backbone_trainable_fraction = args.trainable_fraction
    trainer = Trainer(cfg, args.classes, steps_per_epoch=100)
    model = trainer.model
    rng = np.random.default_rng(0)
    images = tf.constant(rng.integers(0, 255, (args.batch, *size.hw, 3), dtype=np.uint8))
    side = min(size.hw)
    boxes = np.full((args.batch, 32, 4), -1, np.float32)
    classes = np.full((args.batch, 32), -1, np.float32)
    for i in range(args.batch):
        for j in range(3):
            x, y = rng.uniform(0, side * 0.7, 2)
            w, h = rng.uniform(20, side * 0.3, 2)
            boxes[i, j] = (x, y, x + w, y + h)
            classes[i, j] = rng.integers(0, args.classes)
    targets = {"boxes": tf.constant(boxes), "classes": tf.constant(classes)}
    floats = tf.cast(images, tf.float32)
    backbone = model.get_layer("backbone")
    bn_training = cfg.model.weights == "none"
    backbone_fwd = tf.function(lambda: backbone(floats, training=bn_training))
    detector_fwd = tf.function(lambda: model(floats, training=True))
    predictions = detector_fwd()
    loss_only = tf.function(lambda: trainer.loss(predictions, targets["boxes"], targets["classes"])["loss"])
    step = {frozen: (lambda f=frozen: trainer.train_step(images, targets, f)["loss"]) for frozen in (True, False)}

    ms = {"backbone forward": median_ms(lambda: backbone_fwd(), args.steps, warmup=2),
          "detector forward (training mode)": median_ms(lambda: detector_fwd(), args.steps, warmup=2),
          "loss (assignment + class + box terms)": median_ms(lambda: loss_only(), args.steps, warmup=2),
          "step, backbone frozen": median_ms(step[True], args.steps, warmup=2),
          "step, backbone trained": median_ms(step[False], args.steps, warmup=2)}
    print(f"{args.backbone} alpha {args.alpha}, input {args.size}, batch {args.batch}, weights "
          f"{Path(weights).name}, {count_params(model) / 1e6:.2f} M parameters, {os.cpu_count()} cores, "
          f"backbone trainable fraction {args.trainable_fraction}")
    for name, value in ms.items():
        print(f"  {name:<40} {value:7.0f} ms/batch  {value / args.batch:6.1f} ms/image")
    for phase in ("backbone frozen", "backbone trained"):
        value = ms[f"step, {phase}"]
        backward = value - ms["detector forward (training mode)"] - ms["loss (assignment + class + box terms)"]
        print(f"{phase}: {args.batch / value * 1000:.1f} images/s "
              f"(backward + update ~{max(backward, 0):.0f} ms/batch)")
    if args.profile:
        tf.profiler.experimental.start(args.profile)
        for _ in range(3):
            step[False]()
        tf.profiler.experimental.stop()
        print_profile(args.profile, steps=3)


def print_profile(logdir: str, steps: int, top: int = 12) -> None:
    """Sum the traced TensorFlow ops by model part (forward / backward) and by op type. Times are
    per step and summed over threads, so they add up to more than the wall time on 2 cores."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    path = sorted(glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb")))[-1]
    space = xplane_pb2.XSpace()
    space.ParseFromString(Path(path).read_bytes())
    plane = next(p for p in space.planes if p.name == "/host:CPU")
    by_part, by_type = collections.Counter(), collections.Counter()
    for line in plane.lines:
        for event in line.events:
            name = plane.event_metadata[event.metadata_id].name
            if ":" not in name or "::" in name or " " in name:  # executor / eager bookkeeping, not ops
                continue
            ms = event.duration_ps / 1e9 / steps
            part = next((p for p in ("backbone", "neck", "head") if f"/{p}" in name), "loss + optimizer")
            by_part[("backward " if name.startswith("gradient_tape") else "forward ") + part] += ms
            by_type[name.rsplit(":", 1)[1].replace("_MklNative", "").replace("_Mkl", "")] += ms
    print(f"profile ({path}), op time per step summed over threads: {sum(by_part.values()):.0f} ms")
    for title, table in (("by model part", by_part), ("by op type", by_type)):
        print(f"  {title}:")
        for name, ms in table.most_common(top):
            print(f"    {name:<40} {ms:7.0f} ms")


if __name__ == "__main__":
    main()
