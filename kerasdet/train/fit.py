"""`kerasdet.fit(config)`: fine-tune a detector, keep the best checkpoint by validation mAP.

Recipe for a few hundred images: warm-up then cosine learning rate, global-norm gradient
clipping, a first phase with the backbone frozen (no gradients through it at all, so it is also
fast), then the backbone trained at a lower rate; EMA of the weights for evaluation and
checkpoints; early stopping on validation mAP (`train.best_metric`); fixed seeds.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from ..config import Config, load_config
from ..data.dataset import CLASS_NAMES_FILE, class_names_to_text, load_dataset
from ..data.images import read_rgb
from ..data.pipeline import make_tf_dataset
from ..data.samples import SampleLoader
from ..metrics import coco_evaluate, public_metrics
from ..models.detector import build_detector, detection_loss
from ..models.predictor import KerasPredictor
from .ema import WeightEMA
from .fused_batchnorm import use_fused_batchnorm
from .history import RunHistory
from .schedule import WarmupCosine

STATE_FILE = "last_state.npz"


@dataclass
class FitResult:
    run_dir: Path
    best_metrics: dict
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0


def _new_run_dir(cfg: Config) -> Path:
    base = Path(cfg.train.out)
    for i in range(1, 10_000):
        candidate = base / f"{cfg.name}{i}"
        if not candidate.exists():
            return candidate.resolve()
    raise RuntimeError(f"too many runs in {base}")


def _last_backbone_variables(backbone: keras.Model, fraction: float) -> list:
    """Trainable variables of the deepest `fraction` of the backbone's layers. Gradients then
    stop there, so the high-resolution early layers (most of the backward cost) are skipped."""
    inner = [layer for layer in backbone.layers if isinstance(layer, keras.Model)][-1]
    layers = [layer for layer in inner.layers if layer.trainable_weights]
    keep = layers[len(layers) - round(fraction * len(layers)):] if fraction > 0 else []
    return [v for layer in keep for v in layer.trainable_weights]


class _Trainer:
    """Owns the model, the two optimizers (head, backbone) and the compiled train step."""

    def __init__(self, cfg: Config, num_classes: int, steps_per_epoch: int):
        t = cfg.train
        self.cfg, self.num_classes = cfg, num_classes
        self.model = build_detector(cfg.model, num_classes)
        use_fused_batchnorm(self.model)
        backbone = self.model.get_layer("backbone")
        backbone_ids = {id(v) for v in backbone.trainable_variables}
        self.head_vars = [v for v in self.model.trainable_variables if id(v) not in backbone_ids]
        self.backbone_vars = _last_backbone_variables(backbone, t.backbone_trainable_fraction)
        total = t.epochs * steps_per_epoch
        warmup = t.warmup_epochs * steps_per_epoch
        self.head_opt = keras.optimizers.AdamW(WarmupCosine(t.learning_rate, warmup, total),
                                               weight_decay=t.weight_decay, beta_1=0.9)
        self.backbone_opt = keras.optimizers.AdamW(
            WarmupCosine(t.learning_rate * t.backbone_lr_factor, warmup, total),
            weight_decay=t.weight_decay, beta_1=0.9)
        self.head_opt.build(self.head_vars)
        self.backbone_opt.build(self.backbone_vars)
        self.loss = detection_loss(cfg.model.arch, cfg.model.input_size, self.num_classes)
        self._steps = {frozen: self._make_step(frozen) for frozen in (True, False)}

    def _make_step(self, backbone_frozen: bool):
        variables = self.head_vars if backbone_frozen else self.head_vars + self.backbone_vars
        n_head = len(self.head_vars)

        @tf.function(jit_compile=False)
        def step(images, boxes, classes):
            with tf.GradientTape() as tape:
                predictions = self.model(tf.cast(images, tf.float32), training=True)
                total, box, cls, dfl = self.loss(predictions, boxes, classes)
            grads = tape.gradient(total, variables)
            grads, _ = tf.clip_by_global_norm(grads, self.cfg.train.clipnorm)
            self.head_opt.apply_gradients(zip(grads[:n_head], self.head_vars))
            if not backbone_frozen:
                # The backbone optimizer counts its own steps, so its schedule stays aligned.
                self.backbone_opt.apply_gradients(zip(grads[n_head:], self.backbone_vars))
            return total, box, cls, dfl

        return step

    def train_step(self, images, targets, backbone_frozen: bool):
        return self._steps[backbone_frozen](images, targets["boxes"], targets["classes"])

    # --- resume -------------------------------------------------------------------------------
    def state(self) -> dict:
        state = {f"head_opt_{i}": np.array(v) for i, v in enumerate(self.head_opt.variables)}
        state.update({f"backbone_opt_{i}": np.array(v) for i, v in enumerate(self.backbone_opt.variables)})
        return state

    def load_state(self, state) -> None:
        for prefix, opt in (("head_opt_", self.head_opt), ("backbone_opt_", self.backbone_opt)):
            for i, v in enumerate(opt.variables):
                v.assign(state[f"{prefix}{i}"])


def fit(config: Config | str | Path, out: str | Path | None = None, resume: str | Path | None = None,
        overrides: list[str] | None = None, quiet: bool = False) -> FitResult:
    """Train from a Config (or a YAML path). `resume=RUN_DIR` continues a killed run."""
    if resume is not None:
        run_dir = Path(resume).resolve()
        if not (run_dir / STATE_FILE).exists():
            raise FileNotFoundError(f"--resume {run_dir}: no {STATE_FILE} (not a kerasdet run, or killed "
                                    "before its first epoch ended)")
        cfg = load_config(run_dir / "config.yaml", overrides)
    else:
        cfg = config if isinstance(config, Config) else load_config(config, overrides)
        run_dir = Path(out).resolve() if out else _new_run_dir(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    t = cfg.train
    keras.utils.set_random_seed(t.seed)

    train_ds = load_dataset(cfg.data.train, cfg.data.classes or None, cfg.data.on_error)
    class_names = train_ds.class_names
    val_ds = load_dataset(cfg.data.val, class_names, cfg.data.on_error) if cfg.data.val else None
    skipped = train_ds.skipped + (val_ds.skipped if val_ds else [])
    if skipped:
        (run_dir / "skipped.txt").write_text("".join(f"{p}\n" for p in skipped))
        print(f"data.on_error=skip: {len(skipped)} problem files left out, listed in {run_dir / 'skipped.txt'}")
    if resume is None:
        cfg.save(run_dir / "config.yaml")
    (run_dir / CLASS_NAMES_FILE).write_text(class_names_to_text(class_names))

    loader = SampleLoader(train_ds, cfg.model.input_size, _box_slots(train_ds, cfg.data.max_boxes),
                          cfg.augment, cache=cfg.data.cache, seed=t.seed)
    steps_per_epoch = max(len(loader) // t.batch_size, 1)
    batches = make_tf_dataset(loader, t.batch_size, shuffle=True, seed=t.seed,
                              drop_remainder=len(loader) >= t.batch_size).repeat()
    trainer = _Trainer(cfg, len(class_names), steps_per_epoch)
    model = trainer.model
    ema = WeightEMA(model) if t.ema else None
    predictor = KerasPredictor(model)
    val_images = [read_rgb(r.image_path, r.apply_exif) for r in val_ds.records] if val_ds else []

    history = RunHistory(run_dir)
    start_epoch, best, best_epoch, stale = 0, -1.0, 0, 0
    best_metrics: dict = {}
    if resume is not None:
        state = np.load(run_dir / STATE_FILE, allow_pickle=False)
        model.load_weights(run_dir / "last.weights.h5")
        trainer.load_state(state)
        if ema is not None:
            ema.shadow = [state[f"ema_{i}"] for i in range(len(ema.shadow))]
            ema.updates = int(state["ema_updates"])
        start_epoch, best, best_epoch, stale = (int(state[k]) if k != "best" else float(state[k])
                                                for k in ("epoch", "best", "best_epoch", "stale"))
        best_metrics = json.loads(str(state["best_metrics"]))
        print(f"resuming {run_dir} at epoch {start_epoch + 1}/{t.epochs} (best mAP {best:.4f})")

    iterator = iter(batches)
    for epoch in range(start_epoch, t.epochs):
        frozen = epoch < t.freeze_backbone_epochs and cfg.model.weights != "none"
        sums = np.zeros(4)
        began = time.perf_counter()
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{t.epochs}" + (" (backbone frozen)" if frozen else ""),
                   disable=quiet, leave=True, dynamic_ncols=True)
        for step in bar:
            images, targets = next(iterator)
            losses = np.array([float(v) for v in trainer.train_step(images, targets, frozen)])
            if not np.isfinite(losses[0]):
                raise FloatingPointError(f"loss is {losses[0]} at epoch {epoch + 1} step {step + 1}; "
                                         "try a lower train.learning_rate")
            sums += losses
            if ema is not None:
                ema.update()
            bar.set_postfix(loss=f"{sums[0] / (step + 1):.3f}", box=f"{sums[1] / (step + 1):.3f}",
                            cls=f"{sums[2] / (step + 1):.3f}", dfl=f"{sums[3] / (step + 1):.3f}")
        bar.close()
        mean = sums / steps_per_epoch
        row = {"epoch": epoch + 1, "loss": mean[0], "box_loss": mean[1], "class_loss": mean[2], "dfl_loss": mean[3],
               "lr": float(trainer.head_opt.learning_rate), "seconds": time.perf_counter() - began,
               "map50": float("nan"), "map": float("nan")}
        last_epoch = epoch + 1 == t.epochs
        if val_ds is not None and ((epoch + 1) % t.eval_every == 0 or last_epoch):
            if ema is not None:
                ema.swap()
            metrics = coco_evaluate(val_ds.records, predictor.predict(val_images), class_names)
            row["map50"], row["map"] = metrics["map50"], metrics["map"]
            improved = metrics[t.best_metric] > best
            if improved:
                best, best_epoch, stale, best_metrics = metrics[t.best_metric], epoch + 1, 0, metrics
                _atomic(model.save, run_dir / "best.keras")
            else:
                stale += 1
            if ema is not None:
                ema.swap()
            if not quiet:
                print(f"  val mAP@0.5 {metrics['map50']:.4f}  mAP@[.5:.95] {metrics['map']:.4f}"
                      + ("  (best, saved)" if improved else f"  (best {t.best_metric} {best:.4f} at epoch {best_epoch})"))
        history.log(row)
        _save_last(run_dir, model, trainer, ema, epoch + 1, best, best_epoch, stale, best_metrics)
        if val_ds is not None and stale >= t.patience:
            print(f"early stop: no better {t.best_metric} for {t.patience} evaluations")
            break
    if val_ds is None:  # no validation: the last weights are the best we know
        if ema is not None:
            ema.swap()
        model.save(run_dir / "best.keras")
    summary = {"run_dir": str(run_dir), "best_epoch": best_epoch,
               "best": public_metrics(best_metrics)}
    (run_dir / "results.json").write_text(json.dumps(summary, indent=2))
    return FitResult(run_dir, best_metrics, history.rows, best_epoch)


def _box_slots(dataset, max_boxes: int) -> int:
    """Boxes per training sample: data.max_boxes, or more when an image holds more, so that no
    box is dropped (the loss only looks at the slots a batch uses, so spare slots cost nothing)."""
    crowded = max(dataset.records, key=lambda r: len(r.boxes), default=None)
    most = len(crowded.boxes) if crowded is not None else 0
    if most > max_boxes:
        print(f"data.max_boxes is {max_boxes} but {crowded.xml_path} has {most} boxes: "
              f"padding to {most} so that none is dropped")
    return max(most, max_boxes)


def _atomic(save, path: Path) -> None:
    """Write beside, then rename: a run killed mid-save keeps its previous checkpoint intact."""
    tmp = path.with_name(path.name.replace(".", ".tmp.", 1))
    save(tmp)
    tmp.replace(path)


def _save_last(run_dir: Path, model, trainer: _Trainer, ema: WeightEMA | None, epoch: int, best: float,
               best_epoch: int, stale: int, best_metrics: dict) -> None:
    """last.keras (EMA weights, for users) and the resume state (live weights, optimizers, EMA)."""
    _atomic(lambda p: model.save_weights(p), run_dir / "last.weights.h5")
    state = trainer.state()
    if ema is not None:
        state.update({f"ema_{i}": w for i, w in enumerate(ema.shadow)})
        state["ema_updates"] = np.array(ema.updates)
        ema.swap()
    _atomic(model.save, run_dir / "last.keras")
    if ema is not None:
        ema.swap()
    state.update(epoch=np.array(epoch), best=np.array(best), best_epoch=np.array(best_epoch),
                 stale=np.array(stale), best_metrics=np.array(json.dumps(
                     public_metrics(best_metrics))))
    _atomic(lambda p: np.savez(p, **state), run_dir / STATE_FILE)
