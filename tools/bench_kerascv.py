"""Benchmark: kerasdet's YOLOv8 against KerasCV's own YOLOV8Detector, same backbone, data and time.

    python tools/bench_kerascv.py --config configs/raccoon.yaml [--set train.epochs=20 ...]
                                  [--out runs/bench_kerascv] [--weights PATH]

Needs the optional extra: pip install -e ".[kerascv]".

kerasdet writes its own detection head, loss and label assigner instead of using KerasCV's
YOLOV8Detector; this measures what that buys. Both sides get:
- the same MobileNetV2 (alpha and input size from the config, the same local ImageNet weights,
  the same taps at strides 8/16/32, pretrained BatchNorm statistics frozen as kerasdet keeps them),
- the same train/val lists and letterbox input (longest side scaled, grey padding bottom/right),
- the same wall-clock time: kerasdet.fit runs first (data loading, tracing, evaluation and
  checkpoints included) and KerasCV then trains epoch by epoch, on the same kind of clock, starting
  a new epoch while any of that time is left (so its last epoch may run over, in its favour; the
  table shows the seconds each side really took),
- the same validation metric: kerasdet's COCO evaluator on original-image pixels, at a low
  score threshold (0.001, NMS IoU 0.6, 100 boxes) as kerasdet evaluates, best epoch kept.

The KerasCV side is KerasCV as shipped: its PAN-FPN (CSP blocks, fpn_depth 1, its lightest; widths
follow the backbone taps' channels) and head, its task-aligned YOLOV8LabelEncoder, and its loss
(CIoU + binary cross-entropy, no DFL term). Its CSP blocks take the taps' channel counts (192, 576
and 320 at alpha 1.0), so at 320 px it has 17.2 M parameters to kerasdet's 2.2 M and a training
step costs over ten times as much: in equal time it gets far fewer epochs; that is the trade
being measured (the table lists both parameter counts).
Kept simple, and said here because it favours kerasdet:
- augmentation is a horizontal flip only (kerasdet also crops, scales, shifts and colour-jitters);
- one AdamW for all weights at train.learning_rate (kerasdet gives the backbone 0.1x), weight decay
  and global clipnorm from the config; the backbone is frozen for train.freeze_backbone_epochs and
  then its last train.backbone_trainable_fraction of layers train, as in kerasdet; the learning
  rate warms up over train.warmup_epochs, then decays by a cosine over the time budget (set once
  per epoch, since the epoch count is not known in advance); no weight EMA (kerasdet's EMA decay
  ramps from 0, and at a few hundred steps it is still below 0.2).
Prints both best validation mAPs side by side and writes them to OUT/bench_kerascv.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import keras  # noqa: E402
import keras_cv  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import kerasdet  # noqa: E402
from kerasdet.core.detections import Detections  # noqa: E402
from kerasdet.core.letterbox import letterbox  # noqa: E402
from kerasdet.core.postprocess import MAX_DETECTIONS, NMS_IOU, SCORE_THRESHOLD  # noqa: E402
from kerasdet.data import load_dataset  # noqa: E402
from kerasdet.data.images import read_rgb  # noqa: E402
from kerasdet.eval.metrics import coco_evaluate  # noqa: E402
from kerasdet.train import RunFolder  # noqa: E402
from kerasdet.core.registry import BACKBONES  # noqa: E402

TAPS = dict(zip(("P3", "P4", "P5"), BACKBONES["mobilenet_v2"].taps))  # the same feature maps as kerasdet


def load_split(records, size):
    """Letterboxed uint8 images, boxes scaled to them, scales, and the unpadded content widths."""
    images, boxes, scales, widths = [], [], [], []
    for r in records:
        image, scale = letterbox(read_rgb(r.image_path, r.apply_exif), size)
        images.append(image)
        boxes.append(np.asarray(r.boxes, np.float32).reshape(-1, 4) * scale)
        scales.append(scale)
        widths.append(max(1, round(r.width * scale)))
    return np.stack(images), boxes, np.array(scales), np.array(widths, np.int32)


def train_batches(images, boxes, labels, widths, batch_size, seed):
    """tf.data of (float images, {"boxes", "classes"} padded with -1), shuffled, random h-flip."""
    slots = max(1, max(len(b) for b in boxes))
    padded_boxes = np.full((len(boxes), slots, 4), -1, np.float32)
    padded_classes = np.full((len(boxes), slots), -1, np.float32)
    for i, (b, c) in enumerate(zip(boxes, labels)):
        padded_boxes[i, :len(b)], padded_classes[i, :len(c)] = b, c

    def flip(image, target, width):
        def flipped():  # mirror the image content only: the letterbox padding stays bottom/right
            w, b = tf.cast(width, tf.float32), target["boxes"]
            mirrored = tf.stack([w - b[:, 2], b[:, 1], w - b[:, 0], b[:, 3]], -1)
            return (tf.concat([tf.reverse(image[:, :width], [1]), image[:, width:]], 1),
                    tf.where(target["classes"][:, None] >= 0, mirrored, b))
        out, b = tf.cond(tf.random.uniform(()) < 0.5, flipped, lambda: (image, target["boxes"]))
        out = tf.ensure_shape(out, image.shape)  # KerasCV's loss builds its anchors from the static shape
        return tf.cast(out, tf.float32), {"boxes": b, "classes": target["classes"]}

    ds = tf.data.Dataset.from_tensor_slices((images, {"boxes": padded_boxes, "classes": padded_classes}, widths))
    return (ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .map(flip, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size, drop_remainder=len(images) >= batch_size).prefetch(2))


def build_kerascv_detector(cfg, weights, num_classes):
    """YOLOV8Detector on a plain keras.applications MobileNetV2. KerasCV only needs a functional
    model with `pyramid_level_inputs` (level -> layer name): it cuts the feature extractor out
    with get_layer(name).output. Building MobileNetV2 on `input_tensor=` puts the [-1, 1]
    preprocessing inside that same graph, so the detector takes [0, 255] images as kerasdet does."""
    size = cfg.model.input_size
    images = keras.Input((size, size, 3), name="images")
    scaled = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="preprocess")(images)
    mobilenet = keras.applications.MobileNetV2(input_tensor=scaled, alpha=cfg.model.alpha, include_top=False,
                                               weights=None if weights == "none" else weights)
    # cut after the last tap, as kerasdet does (MobileNetV2's final 1280-channel conv is not used)
    backbone = keras.Model(images, mobilenet.get_layer(TAPS["P5"]).output, name="mobilenet_v2")
    backbone.pyramid_level_inputs = dict(TAPS)
    for layer in backbone.layers:
        layer.trainable = weights == "none"  # pretrained: start frozen, BatchNorm stays frozen
    decoder = keras_cv.layers.NonMaxSuppression(bounding_box_format="xyxy", from_logits=False,
                                                confidence_threshold=SCORE_THRESHOLD, iou_threshold=NMS_IOU,
                                                max_detections=MAX_DETECTIONS)
    model = keras_cv.models.YOLOV8Detector(backbone=backbone, num_classes=num_classes, bounding_box_format="xyxy",
                                           fpn_depth=1, prediction_decoder=decoder)
    return model, backbone


def unfreeze(backbone, fraction):
    """The last `fraction` of the backbone's weighted layers, BatchNorm left out (as kerasdet counts
    them), become trainable."""
    weighted = [layer for layer in backbone.layers
                if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)]
    for layer in weighted[len(weighted) - round(fraction * len(weighted)):] if fraction > 0 else []:
        layer.trainable = True


def compile_model(model, t):
    model.compile(optimizer=keras.optimizers.AdamW(t.learning_rate, weight_decay=t.weight_decay,
                                                   global_clipnorm=t.clipnorm),
                  box_loss="ciou", classification_loss="binary_crossentropy", jit_compile=False)


def evaluate(model, images, scales, records, class_names):
    out = model.predict(images.astype(np.float32), batch_size=16, verbose=0)
    detections = []
    for i, (r, scale) in enumerate(zip(records, scales)):
        n = int(out["num_detections"][i])
        boxes = np.clip(out["boxes"][i, :n] / scale, 0, [r.width, r.height, r.width, r.height])
        detections.append(Detections(boxes.astype(np.float32), out["confidence"][i, :n],
                                     out["classes"][i, :n].astype(np.int32)))
    return coco_evaluate(records, detections, class_names)


def fit_kerascv(cfg, weights, budget_s):
    """Train until `budget_s` wall seconds are used; returns (seconds, epochs, best epoch's row, the
    rows of all epochs, parameter count)."""
    began, t = time.perf_counter(), cfg.train
    keras.utils.set_random_seed(t.seed)
    train_ds = load_dataset(cfg.data.train, cfg.data.classes or None, cfg.data.on_error)
    val_ds = load_dataset(cfg.data.val, train_ds.class_names, cfg.data.on_error)
    images, boxes, _, widths = load_split(train_ds.records, cfg.model.input_size)
    batches = train_batches(images, boxes, [r.labels for r in train_ds.records], widths, t.batch_size, t.seed)
    val_images, _, val_scales, _ = load_split(val_ds.records, cfg.model.input_size)
    model, backbone = build_kerascv_detector(cfg, weights, len(train_ds.class_names))
    compile_model(model, t)
    history, best = [], None
    while not history or time.perf_counter() - began < budget_s:
        epoch, start = len(history), time.perf_counter()
        if weights != "none" and epoch == t.freeze_backbone_epochs:
            unfreeze(backbone, t.backbone_trainable_fraction)
            compile_model(model, t)  # new trainable variables: a new optimizer
        warmup = min(1.0, (epoch + 0.5) / t.warmup_epochs) if t.warmup_epochs > 0 else 1.0
        progress = min(1.0, (start - began) / budget_s)
        model.optimizer.learning_rate = t.learning_rate * warmup * 0.5 * (1 + math.cos(math.pi * progress))
        loss = model.fit(batches, epochs=1, shuffle=False, verbose=0).history["loss"][-1]
        metrics = evaluate(model, val_images, val_scales, val_ds.records, train_ds.class_names)
        epoch_s = time.perf_counter() - start
        history.append({"epoch": epoch + 1, "loss": float(loss), "lr": float(model.optimizer.learning_rate),
                        "map50": metrics["map50"], "map": metrics["map"], "seconds": round(epoch_s, 1)})
        if best is None or metrics[t.best_metric] > best[t.best_metric]:
            best = history[-1]
        print(f"  kerascv epoch {epoch + 1}: loss {loss:.3f}  val mAP@0.5 {metrics['map50']:.4f}  "
              f"mAP@[.5:.95] {metrics['map']:.4f}  ({epoch_s:.0f} s)", flush=True)
    return time.perf_counter() - began, len(history), best, history, model.count_params()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/raccoon.yaml", help="a kerasdet YAML config")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="kerasdet override, repeatable (e.g. train.epochs=20); applies to both sides")
    parser.add_argument("--out", default="runs/bench_kerascv")
    parser.add_argument("--weights", help="backbone weights file, or none (default: the config's model.weights)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = args.weights
    if weights and weights not in ("imagenet", "none"):
        weights = str(Path(weights).resolve())  # the config would resolve it against its own folder
    overrides = args.set + ([f"model.weights={weights}"] if weights else [])
    cfg = kerasdet.load_config(args.config, overrides)

    print(f"kerasdet: fitting {args.config} {' '.join(overrides)}", flush=True)
    began = time.perf_counter()
    result = kerasdet.fit(args.config, out=out / "kerasdet", overrides=overrides, quiet=True)
    kd_seconds = time.perf_counter() - began
    kd_params = keras.saving.load_model(result.run_dir / RunFolder.BEST, compile=False).count_params()
    rows = [{"method": "kerasdet yolov8", "seconds": round(kd_seconds, 1), "epochs": len(result.history),
             "best_epoch": result.best_epoch, "map50": result.best_metrics["map50"],
             "map": result.best_metrics["map"], "params": kd_params}]
    print(f"kerasdet: {kd_seconds:.0f} s; KerasCV YOLOV8Detector gets the same time", flush=True)

    kcv_seconds, kcv_epochs, best, history, kcv_params = fit_kerascv(cfg, cfg.model.weights, kd_seconds)
    rows.append({"method": "keras_cv YOLOV8Detector", "seconds": round(kcv_seconds, 1), "epochs": kcv_epochs,
                 "best_epoch": best["epoch"], "map50": best["map50"], "map": best["map"], "params": kcv_params})

    print(f"\n{'method':<26}{'train s':>9}{'epochs':>8}{'params':>11}{'mAP@0.5':>10}{'mAP@[.5:.95]':>14}")
    for r in rows:
        print(f"{r['method']:<26}{r['seconds']:>9.0f}{r['epochs']:>8}{r['params']:>11,}"
              f"{r['map50']:>10.4f}{r['map']:>14.4f}")
    report = {"config": str(args.config), "overrides": overrides, "input_size": cfg.model.input_size,
              "alpha": cfg.model.alpha, "best_metric": cfg.train.best_metric, "results": rows,
              "kerascv_history": history, "kerasdet_run": str(result.run_dir)}
    (out / "bench_kerascv.json").write_text(json.dumps(report, indent=2))
    print(f"written {out / 'bench_kerascv.json'}")


if __name__ == "__main__":
    main()
