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

from ..config import Config, load_config
from ..core.class_names import class_names_to_text
from ..data.dataset import DetectionDataset, load_dataset
from ..data.errors import DataError
from ..eval.metrics import public_metrics
from .distribute import make_strategy, worker_name, writes_the_run
from .engine import Session, setup, train_one_epoch, validate, validation
from .history import RunHistory
from .recipe import (backbone_frozen, input_sizes, mosaic_on, sized_schedule, small_object_advice, stops_early,
                     validated)
from .run_folder import Progress, RunFolder


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


def _stopped_sentence(run: RunFolder, where: str, epochs: int | str) -> str:
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
    of = f"/{epochs}" if isinstance(epochs, int) else ""  # train.epochs auto: the number is the run's own
    stopped = f"stopped by Ctrl-C {where or f'after epoch {done}{of}'}"
    return (f"{stopped}; {run.path} keeps the {done} finished epoch{'s' if done != 1 else ''}: "
            f"`kerasdet train --resume {run.path}` continues from epoch {done + 1}")


def _train(run: RunFolder, cfg: Config, resuming: bool, quiet: bool) -> FitResult:
    t = cfg.train
    strategy = make_strategy(t.distribute)  # first: MultiWorkerMirroredStrategy must precede other TF work
    keras.utils.set_random_seed(t.seed)
    train_ds, val_ds = _load_data(cfg, run)
    say = (lambda text: None) if quiet else print
    cfg, plan = sized_schedule(cfg, train_ds)  # train.epochs auto: a number from here on (again on a resume)
    t = cfg.train
    say(plan)
    sizes, why = input_sizes(cfg, train_ds)
    if why:
        say(why)
    advice = small_object_advice(train_ds, sizes[-1])  # sizes[-1]: model.input_size
    if advice:
        say(advice)
    s = setup(cfg, train_ds, sizes[0], strategy)
    evaluator = validation(cfg, val_ds)
    fingerprint = {"model": {k: v for k, v in asdict(cfg.model).items() if k != "weights"},
                   "class_names": train_ds.class_names}
    progress, history = _start(run, s, resuming, fingerprint), RunHistory(run)
    paced = False

    for epoch in range(progress.epoch, t.epochs):
        if sizes[epoch] != s.trainer.input_size:  # train.progressive_epochs are over (or resumed after)
            s.resize(sizes[epoch], epoch)
            say(f"input {sizes[epoch]} (model.input_size) from epoch {epoch + 1} on")
        s.loader.mosaic_enabled = mosaic_on(cfg, epoch)
        small = f" at {sizes[epoch]}" if sizes[epoch] != sizes[-1] else ""  # the last epochs: model.input_size
        frozen = backbone_frozen(cfg, epoch)
        row = train_one_epoch(s, frozen, f"epoch {epoch + 1}/{t.epochs}{small}", quiet)
        if evaluator is not None and validated(cfg, epoch):
            row.update(_validate_and_keep_best(run, s, evaluator, progress, epoch, say))
        if not frozen and not paced:  # the first epoch at full cost (after the frozen ones): the time left
            paced = say(_pace(row, epoch, t.epochs)) or True
        progress.epoch = epoch + 1
        history.log({"epoch": epoch + 1, **row})
        run.save_state(s.trainer, s.ema, progress, fingerprint)  # what a resume reads
        if evaluator is not None and stops_early(cfg, epoch, progress.stale):
            print(f"early stop: no better {t.best_metric} for {t.patience} evaluations")
            break
    return _finish(run, s, evaluator is not None, progress, history)


def _pace(row: dict, epoch: int, epochs: int) -> str:
    """'epoch 6 took 52 s with its validation: the 14 epochs left take about 12 min here', said after the
    first epoch that trains the backbone (the frozen ones before it are faster)."""
    seconds = row["seconds"] + row.get("val_seconds", 0.0)
    left = epochs - epoch - 1
    return (f"epoch {epoch + 1} took {seconds:.0f} s" + (" with its validation" if "val_seconds" in row else "") + (
        f": the {left} epoch{'s' if left != 1 else ''} left take about {max(round(left * seconds / 60), 1)} min here"
        if left else ""))


def _start(run: RunFolder, s: Session, resuming: bool, fingerprint: dict) -> Progress:
    """Where the loop starts: epoch 0, or where a killed run's state says (checked to fit first)."""
    t = s.cfg.train
    if s.trainer.strategy.num_replicas_in_sync > 1:
        print(f"train.distribute {t.distribute}: {type(s.trainer.strategy).__name__}, "
              f"{s.trainer.strategy.num_replicas_in_sync} replicas, global batch {t.batch_size}")
    if not resuming:
        return Progress()
    run.check_state_fits(fingerprint)
    progress = run.load_state(s.trainer, s.ema)
    print(f"resuming {run.path} at epoch {progress.epoch + 1}/{t.epochs} (best {t.best_metric} {progress.best:.4f})")
    return progress


def _validate_and_keep_best(run: RunFolder, s: Session, evaluator, progress: Progress, epoch: int, say) -> dict:
    """Validate the weight average; best.keras when `train.best_metric` improved. The row's metrics."""
    t, began = s.cfg.train, time.perf_counter()
    metrics = validate(s, evaluator)
    improved = progress.record(metrics, t.best_metric, epoch + 1)
    if improved:
        with s.ema.averaged():
            run.save_model(s.trainer.model, s.card, run.BEST)
    say(f"  val mAP@0.5 {metrics['map50']:.4f}  mAP@[.5:.95] {metrics['map']:.4f}" + (
        "  (best, saved)" if improved else f"  (best {t.best_metric} {progress.best:.4f} at epoch {progress.best_epoch})"))
    return {"map50": metrics["map50"], "map": metrics["map"], "val_seconds": time.perf_counter() - began}


def _finish(run: RunFolder, s: Session, validated_any: bool, progress: Progress, history: RunHistory) -> FitResult:
    """results.png, last.keras (and best.keras where nothing was validated: the last weights are the best
    known), results.json. last.keras once, at the end: a Keras save walks every layer (~2.5 s on 2 cores),
    and a killed run resumes from last_state.npz, not from it."""
    history.plot()
    with s.ema.averaged():
        run.save_model(s.trainer.model, s.card, run.LAST)
        if not validated_any:
            run.save_model(s.trainer.model, s.card, run.BEST)
    summary = {"run_dir": str(run.path), "best_epoch": progress.best_epoch,
               "best": public_metrics(progress.best_metrics)}
    run.write_text(run.RESULTS, json.dumps(summary, indent=2))
    return FitResult(run.path, progress.best_metrics, history.rows, progress.best_epoch)


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
        print("".join(f"    {line}\n" for line in ds.problem_lines()), end="")  # what was left out, and why
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
