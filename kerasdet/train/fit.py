"""`kerasdet.fit(config)`: fine-tune a detector, keep the best checkpoint by validation mAP.

The loop: for each epoch, train (trainer.py), validate the EMA weights (metrics.Evaluator), keep
best.keras by `train.best_metric`, save the resume state (run_folder.py), stop early when the
metric has not improved for `train.patience` evaluations. Seeds are fixed.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np
from tqdm.auto import tqdm

from ..config import Config, load_config
from ..core.class_names import class_names_to_text
from ..core.letterbox import common_frame, input_hw, input_size_text, scaled_input_size
from ..data.cache import ImageCache
from ..data.dataset import DetectionDataset, load_dataset
from ..data.errors import DataError
from ..data.pipeline import make_tf_dataset
from ..data.samples import SampleLoader, box_slots
from ..metrics import Evaluator, public_metrics
from ..models.detector import model_card
from .distribute import make_strategy, worker_name, writes_the_run
from .ema import WeightEMA
from .history import RunHistory
from .run_folder import Progress, RunFolder
from .teacher import run_teacher
from .trainer import Trainer


@dataclass
class FitResult:
    run_dir: Path
    best_metrics: dict
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0


def fit(config: Config | str | Path, out: str | Path | None = None, resume: str | Path | None = None,
        overrides: list[str] | None = None, quiet: bool = False, exist_ok: bool = False) -> FitResult:
    """Train from a Config (or a YAML path). `resume=RUN_DIR` continues a killed run; `out` holding a
    run already is an error unless `exist_ok`, which starts over in it."""
    run, cfg = _open_run(config, out, resume, overrides, exist_ok)
    chief = writes_the_run(cfg.train.distribute)
    if not chief:  # it trains in step with the chief, writing to a scratch copy of the run
        print(f"{worker_name()}: the chief writes the run; this worker's copy is {run.path}")
    with run.disk_full_as_error():  # one sentence with the path, not an HDF5 / zip / pandas traceback
        try:
            return _train(run, cfg, resume is not None, quiet or not chief)
        except KeyboardInterrupt as stop:  # Ctrl-C: where it stopped and how to go on, not a traceback
            raise Interrupted(_stopped_sentence(run, str(stop), cfg.train.epochs)) from None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during `fit`; its message is one sentence (where it stopped, the command that resumes), which
    `kerasdet train` prints instead of a traceback, exiting with 130 as for any SIGINT."""


def _stopped_sentence(run: RunFolder, where: str, epochs: int) -> str:
    """'stopped by Ctrl-C in epoch 3/30, step 5/12; ...' (`where`, from _train_epoch; else after the last epoch
    saved) with the resume command, or why there is nothing to resume."""
    try:
        with np.load(run / run.STATE, allow_pickle=False) as npz:
            done = int(npz["progress/epoch"])
    except (OSError, KeyError, ValueError):
        done = 0
    if not done:
        return (f"stopped by Ctrl-C {where + ', ' if where else ''}before the first epoch ended: {run.path} holds no "
                "epoch to resume from; run the same `kerasdet train` command again to start over")
    stopped = f"stopped by Ctrl-C {where or f'after epoch {done}/{epochs}'}"
    return (f"{stopped}; {run.path} keeps the {done} finished epoch{'s' if done != 1 else ''}: "
            f"`kerasdet train --resume {run.path}` continues from epoch {done + 1}")


def _train(run: RunFolder, cfg: Config, resuming: bool, quiet: bool) -> FitResult:
    t = cfg.train
    strategy = make_strategy(t.distribute)  # first: MultiWorkerMirroredStrategy must precede other TF work
    if strategy.num_replicas_in_sync > 1:
        print(f"train.distribute {t.distribute}: {type(strategy).__name__}, {strategy.num_replicas_in_sync} replicas, "
              f"global batch {t.batch_size}")
    keras.utils.set_random_seed(t.seed)
    train_ds, val_ds = _load_data(cfg, run)
    fingerprint = {"model": {k: v for k, v in asdict(cfg.model).items() if k != "weights"},
                   "class_names": train_ds.class_names}
    if resuming:
        run.check_state_fits(fingerprint)
    sizes, why = input_sizes(cfg, train_ds)
    if why and not quiet:
        print(why)
    loader = training_loader(cfg, train_ds, sizes[0])
    steps = max(len(loader) // t.batch_size, 1)
    teacher = run_teacher(cfg, train_ds.class_names, strategy)
    trainer = Trainer(cfg.with_input_size(sizes[0]), len(train_ds.class_names), steps, strategy, teacher=teacher)
    batches = training_batches(trainer, loader)
    ema = WeightEMA(trainer.model, steps, enabled=t.ema)
    card = model_card(cfg.model, train_ds.class_names, _data_summary(cfg, train_ds))
    predictor = trainer.predictor(card)
    evaluator = Evaluator(val_ds.records, val_ds.class_names, cache=ImageCache(cfg.data.cache_gb, "val")
                          ) if val_ds else None
    progress = run.load_state(trainer, ema) if resuming else Progress()
    if resuming:
        print(f"resuming {run.path} at epoch {progress.epoch + 1}/{t.epochs} (best {t.best_metric} {progress.best:.4f})")
    history = RunHistory(run)

    for epoch in range(progress.epoch, t.epochs):
        size = sizes[epoch]
        if size != trainer.input_size:  # train.progressive_epochs are over (or resumed after)
            trainer = trainer.resized(size)
            loader = training_loader(cfg, train_ds, trainer.input_size, loader.cache, seed=t.seed + epoch)
            batches = training_batches(trainer, loader)
            ema.follow(trainer.model)
            predictor = trainer.predictor(card)
            if not quiet:
                print(f"input {input_size_text(trainer.input_size)} (model.input_size) from epoch {epoch + 1} on")
        frozen = backbone_frozen(cfg, epoch)
        loader.mosaic_enabled = epoch < t.epochs - cfg.augment.close_mosaic
        small = f" at {input_size_text(size)}" if size != cfg.model.input_size else ""
        row = _train_epoch(trainer, ema, batches, steps, frozen, f"epoch {epoch + 1}/{t.epochs}{small}", quiet)
        if evaluator is not None and validated(cfg, epoch):
            began = time.perf_counter()
            with ema.averaged():
                metrics = evaluator(predictor)
                improved = progress.record(metrics, t.best_metric, epoch + 1)
                if improved:
                    run.save_model(trainer.model, card, run.BEST)
            row.update(map50=metrics["map50"], map=metrics["map"], val_seconds=time.perf_counter() - began)
            if not quiet:
                print(f"  val mAP@0.5 {metrics['map50']:.4f}  mAP@[.5:.95] {metrics['map']:.4f}" + (
                    "  (best, saved)" if improved else
                    f"  (best {t.best_metric} {progress.best:.4f} at epoch {progress.best_epoch})"))
        progress.epoch = epoch + 1
        history.log({"epoch": epoch + 1, **row})
        run.save_state(trainer, ema, progress, fingerprint)  # what a resume reads
        if evaluator is not None and progress.stale >= t.patience:
            print(f"early stop: no better {t.best_metric} for {t.patience} evaluations")
            break

    history.plot()
    # last.keras once, at the end: a Keras save walks every layer (~2.5 s on 2 cores, 2-5% of an
    # epoch), and a killed run resumes from last_state.npz, not from last.keras.
    with ema.averaged():
        run.save_model(trainer.model, card, run.LAST)
        if evaluator is None:  # no validation: the last weights are the best we know
            run.save_model(trainer.model, card, run.BEST)
    summary = {"run_dir": str(run.path), "best_epoch": progress.best_epoch,
               "best": public_metrics(progress.best_metrics)}
    run.write_text(run.RESULTS, json.dumps(summary, indent=2))
    return FitResult(run.path, progress.best_metrics, history.rows, progress.best_epoch)


def backbone_frozen(cfg: Config, epoch: int) -> bool:
    """Whether epoch `epoch` (from 0) trains the head alone: the first train.freeze_backbone_epochs
    of a pretrained backbone (one trained from scratch is never frozen)."""
    return epoch < cfg.train.freeze_backbone_epochs and cfg.model.weights != "none"


def validated(cfg: Config, epoch: int) -> bool:
    """Whether epoch `epoch` (from 0) ends with a validation: every train.eval_every epochs from
    train.eval_from on, and always the last."""
    t, number = cfg.train, epoch + 1
    return number == t.epochs or (number >= max(t.eval_from, t.progressive_epochs + 1) and number % t.eval_every == 0)


def input_sizes(cfg: Config, train_ds: DetectionDataset) -> tuple[list, str]:
    """(The input size each epoch trains at, a sentence saying why): model.input_size, but for the
    first train.progressive_epochs, which train at train.progressive_scale of it, shaped like most
    training images (the scaled model input itself when they share no shape)."""
    t, full = cfg.train, cfg.model.input_size
    if not t.progressive_epochs:
        return [full] * t.epochs, ""
    frame, n = common_frame([(r.width, r.height) for r in train_ds.records])
    small = scaled_input_size(full, t.progressive_scale, frame)
    if input_hw(small) == input_hw(full):
        small = full
    shape = (f"shaped like {n} of the {len(train_ds)} training images" if frame else
             f"no shape is shared by half of the {len(train_ds)} training images")
    why = (f"input {input_size_text(small)} for the first {t.progressive_epochs} epochs (train.progressive_scale "
           f"{t.progressive_scale:g} of {input_size_text(full)}, {shape}), then {input_size_text(full)}")
    return [small] * t.progressive_epochs + [full] * (t.epochs - t.progressive_epochs), why


def training_loader(cfg: Config, train_ds: DetectionDataset, input_size=None, cache: ImageCache | None = None,
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


def _open_run(config, out, resume, overrides, exist_ok) -> tuple[RunFolder, Config]:
    """The run folder and its config: a new run (config.yaml written), or a killed one to resume; in a
    multi_worker cluster, for a worker that is not the chief, a scratch copy (the chief opens the run)."""
    if resume is not None:
        run = RunFolder(resume)
        if run.finished():
            raise ValueError(f"--resume {run.path}: this run finished (see {run / run.RESULTS}); its best model "
                             f"is {run / run.BEST}. Nothing to resume")
        if not run.has_state():
            raise FileNotFoundError(f"--resume {run.path}: no {run.STATE} (not a kerasdet run, or killed "
                                    "before its first epoch ended)")
        cfg = load_config(run / run.CONFIG, overrides)
        if not writes_the_run(cfg.train.distribute):
            return _scratch_copy(run), cfg
        run.create().remove_temporaries()  # a run from before manifests gets one: its files are kerasdet's
        return run, cfg
    cfg = config if isinstance(config, Config) else load_config(config, overrides)
    if not writes_the_run(cfg.train.distribute):
        return _scratch_copy(None), cfg
    run = RunFolder(out) if out else RunFolder.next_free(cfg.train.out, cfg.name)
    found = run.run_files()
    if found and not exist_ok:
        raise FileExistsError(f"--out {run.path} holds a run already ({', '.join(found)}): --resume {run.path} "
                              "continues it, --exist-ok starts over in it (removing every file kerasdet wrote "
                              "there), or choose another --out")
    run.create()  # refuses a folder of the user's; takes one kerasdet made (a start that failed on a data error)
    if found:
        run.clear()
    cfg.save(run / run.CONFIG)
    return run, cfg


def _scratch_copy(run: RunFolder | None) -> RunFolder:
    """A temporary run folder for a worker that is not the chief; resuming `run`, it starts from the
    chief's state (the run folder must be on a filesystem every worker sees, or copied to each)."""
    scratch = RunFolder(tempfile.mkdtemp(prefix="kerasdet_worker_")).create()
    for name in (run.CONFIG, run.STATE, run.METRICS) if run is not None else ():
        if (run / name).exists():
            shutil.copy(run / name, scratch / name)
    return scratch


def _load_data(cfg: Config, run: RunFolder) -> tuple[DetectionDataset, DetectionDataset | None]:
    """Both splits, each summarised in one line (what is used, what was left out and why, in run/DATA)."""
    train_ds = load_dataset(cfg.data.train, cfg.data.classes or None, cfg.data.on_error)
    val_ds = load_dataset(cfg.data.val, train_ds.class_names, cfg.data.on_error) if cfg.data.val else None
    splits = {"train": train_ds, "val": val_ds} if val_ds is not None else {"train": train_ds}
    run.write_text(run.DATA, json.dumps({name: ds.report() for name, ds in splits.items()}, indent=1))
    for name, ds in splits.items():
        print(f"{name}: {ds.source} ({ds.layout}): {ds.summary()}")
    if val_ds is None:
        print("  no data.val: no epoch is validated, and best.keras is the last epoch's weights (give data.val a "
              "split of your photos, e.g. from `kerasdet split`)")
    elif not len(val_ds):  # an empty list would train with no validation and no word about it
        raise DataError(val_ds.problems, hint=f"data.val {cfg.data.val}: no image to validate on ({val_ds.summary()})"
                                              ": give it labelled photos, or leave data.val out to train without "
                                              "validation")
    if any(ds.problems or ds.warnings for ds in splits.values()):
        print(f"  every problem and image not used is listed in {run / run.DATA}")
    for name, ds in splits.items():
        _check_enough_left(name, ds, cfg.data.max_left_out)
    run.write_text(run.CLASSES, class_names_to_text(train_ds.class_names))
    return train_ds, val_ds


def _check_enough_left(name: str, ds: DetectionDataset, max_left_out: float) -> None:
    """data.on_error: skip must not train on what little is left, nor without a box of some class."""
    shares = {"images": ds.images_dropped / max(len(ds) + ds.images_dropped, 1),
              "boxes": ds.boxes_dropped / max(ds.boxes + ds.boxes_dropped, 1)}
    lost = [f"{share:.0%} of the {what}" for what, share in shares.items() if share > max_left_out]
    if lost:
        raise DataError(ds.problems, hint=f"The {name} data lost {' and '.join(lost)} to these problems, more than "
                                          f"data.max_left_out {max_left_out:g}: fix the data (or data.classes), "
                                          "or raise data.max_left_out.")
    missing = [c for c, n in ds.boxes_per_class().items() if n == 0]
    if name == "train" and missing:
        raise DataError(ds.problems, hint=f"No box of class {', '.join(missing)} is left in the training data "
                                          f"({ds.summary()}): check data.classes against the XML's <name>s.")


def _data_summary(cfg: Config, train_ds: DetectionDataset) -> dict:
    """What the model card says about the training data (export calibrates on `train`)."""
    return {"train": cfg.data.train, "val": cfg.data.val, "images": len(train_ds.records),
            "boxes_per_class": train_ds.boxes_per_class()}


def _train_epoch(trainer: Trainer, ema: WeightEMA, batches, steps: int, frozen: bool, title: str,
                 quiet: bool) -> dict:
    """`steps` optimisation steps; the epoch's mean of each loss term, its learning rate and seconds."""
    sums = dict.fromkeys(trainer.loss_terms, 0.0)
    began = time.perf_counter()
    bar = tqdm(range(steps), desc=title + (" (backbone frozen)" if frozen else ""), disable=quiet, leave=True,
               dynamic_ncols=True)
    step = 0
    try:
        for step in bar:
            images, targets = next(batches)
            losses = trainer.train_step(images, targets, frozen)
            if not np.isfinite(losses["loss"]):
                raise FloatingPointError(f"loss is {losses['loss']} at {title} step {step + 1}; "
                                         "try a lower train.learning_rate")
            ema.update()
            for name, value in losses.items():
                sums[name] += value
            bar.set_postfix({name.removesuffix("_loss"): f"{total / (step + 1):.3f}" for name, total in sums.items()})
    except KeyboardInterrupt:
        bar.close()  # the message that follows starts on a line of its own
        raise KeyboardInterrupt(f"in {title.split(' at ')[0]}, step {step + 1}/{steps}") from None
    bar.close()
    return {**{name: total / steps for name, total in sums.items()}, "lr": trainer.learning_rate,
            "seconds": time.perf_counter() - began}
