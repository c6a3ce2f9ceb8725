"""The training engine, after DETR's engine.py: `setup` builds what one training needs (trainer,
augmented batches, weight average, predictor) for `fit` and `lr-find` alike; `train_one_epoch` and
`validate` are the two steps the loop in fit.py repeats; `Session.resize` is progressive resizing's
one move (weights, optimizer state and the weight average carried to the new input size)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ..config import Config
from ..core.card import ModelCard
from ..core.input_size import InputSize
from ..data.cache import ImageCache
from ..data.dataset import DetectionDataset
from ..data.pipeline import make_tf_dataset
from ..data.samples import SampleLoader, box_slots
from ..eval.metrics import Evaluator
from ..models.detector import model_card
from .ema import WeightEMA
from .recipe import sized_schedule, steps_per_epoch
from .teacher import run_teacher
from .trainer import Trainer


@dataclass
class Session:
    """One training's moving parts; `steps` optimizer steps make an epoch."""
    cfg: Config
    train_ds: DetectionDataset
    trainer: Trainer
    loader: SampleLoader
    batches: object  # endless iterator of (images, targets)
    ema: WeightEMA
    card: ModelCard
    steps: int
    predictor: object = None  # the model as evaluation runs it (traced once per input size)

    def __post_init__(self):
        self.predictor = self.trainer.predictor(self.card)

    def resize(self, input_size: InputSize, epoch: int) -> None:
        """Train at `input_size` from epoch `epoch` on: the trainer carries weights, optimizer state and
        EMA; the loader keeps its decoded pictures (they do not depend on the input size)."""
        self.trainer = self.trainer.resized(input_size)
        self.loader = training_loader(self.cfg, self.train_ds, self.trainer.input_size, self.loader.cache,
                                      seed=self.cfg.train.seed + epoch)
        self.batches = training_batches(self.trainer, self.loader)
        self.ema.follow(self.trainer.model)
        self.predictor = self.trainer.predictor(self.card)


def setup(cfg: Config, train_ds: DetectionDataset, input_size: InputSize, strategy=None, steps: int | None = None,
          schedule=None) -> Session:
    """Everything one training needs at `input_size`: `steps` an epoch (default: the training images
    once over), the learning-rate `schedule` (default the config's; lr-find gives its ramp)."""
    cfg = sized_schedule(cfg, train_ds)[0]  # train.epochs auto: the number for this data
    loader = training_loader(cfg, train_ds, input_size)
    steps = steps or steps_per_epoch(len(loader), cfg.train.batch_size)
    teacher = run_teacher(cfg, train_ds.class_names, strategy)  # train.distill_from: its loss term too
    trainer = Trainer(cfg.with_input_size(input_size), len(train_ds.class_names), steps, strategy, schedule, teacher)
    card = model_card(cfg.model, train_ds.class_names, data_summary(cfg, train_ds),
                      max((len(r.boxes) for r in train_ds.records), default=0))
    return Session(cfg, train_ds, trainer, loader, training_batches(trainer, loader),
                   WeightEMA(trainer.model, steps, enabled=cfg.train.ema), card, steps)


def training_loader(cfg: Config, train_ds: DetectionDataset, input_size: InputSize | None = None,
                    cache: ImageCache | None = None,
                    seed: int | None = None) -> SampleLoader:
    """Augmented training samples at `input_size` (default model.input_size), cached as data.cache
    says (in `cache` when given: the decoded pictures do not depend on the input size)."""
    slots = box_slots(train_ds, cfg.data.max_boxes, cfg.augment)
    if cache is None and cfg.data.cache:
        cache = ImageCache(cfg.data.cache_gb, "train")
    return SampleLoader(train_ds, input_size or cfg.model.input_size, slots, cfg.augment, cache=cache,
                        seed=cfg.train.seed if seed is None else seed)


def training_batches(trainer: Trainer, loader: SampleLoader):
    """An endless iterator of shuffled training batches of train.batch_size, for the trainer's replicas."""
    t = trainer.cfg.train
    return iter(trainer.distribute(lambda batch, shard: make_tf_dataset(
        loader, batch, shuffle=True, seed=t.seed, drop_remainder=len(loader) >= t.batch_size, shard=shard).repeat(),
        t.batch_size))


def data_summary(cfg: Config, train_ds: DetectionDataset) -> dict:
    """What the model card says about the training data (export calibrates on `train`)."""
    return {"train": cfg.data.train, "val": cfg.data.val, "images": len(train_ds.records),
            "boxes_per_class": train_ds.boxes_per_class()}


def train_one_epoch(s: Session, frozen: bool, title: str, quiet: bool = False) -> dict:
    """`s.steps` optimizer steps; the epoch's mean of each loss term, its learning rate and seconds. Ctrl-C
    becomes a KeyboardInterrupt whose message says where it stopped."""
    sums = dict.fromkeys(s.trainer.loss_terms, 0.0)
    began = time.perf_counter()
    bar = tqdm(range(s.steps), desc=title + (" (backbone frozen)" if frozen else ""), disable=quiet, leave=True,
               dynamic_ncols=True)
    step = 0
    try:
        for step in bar:
            images, targets = next(s.batches)
            losses = s.trainer.train_step(images, targets, frozen)
            if not np.isfinite(losses["loss"]):
                raise FloatingPointError(f"loss is {losses['loss']} at {title} step {step + 1}; "
                                         "try a lower train.learning_rate")
            s.ema.update()
            for name, value in losses.items():
                sums[name] += value
            bar.set_postfix({name.removesuffix("_loss"): f"{total / (step + 1):.3f}" for name, total in sums.items()})
    except KeyboardInterrupt:
        bar.close()  # the message that follows starts on a line of its own
        raise KeyboardInterrupt(f"in {title.split(' at ')[0]}, step {step + 1}/{s.steps}") from None
    bar.close()
    return {**{name: total / s.steps for name, total in sums.items()}, "lr": s.trainer.learning_rate,
            "seconds": time.perf_counter() - began}


def validation(cfg: Config, val_ds: DetectionDataset | None) -> Evaluator | None:
    """The evaluator of the validation split (None without one); its decoded pictures cached for the run."""
    return Evaluator(val_ds.records, val_ds.class_names, cache=ImageCache(cfg.data.cache_gb, "val")) if val_ds else None


def validate(s: Session, evaluator: Evaluator) -> dict:
    """COCO metrics of the weight average (the weights a checkpoint saves) on the validation split."""
    with s.ema.averaged():
        return evaluator(s.predictor)
