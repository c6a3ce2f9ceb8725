"""`kerasdet kfold CONFIG DATA`: k-fold cross-validation of a training recipe on one dataset, mean and
spread of mAP.

Small datasets (100-300 photos) give validation splits of 30 photos, too few to tell two recipes
apart: here every photo is scored once, by the model of the fold that did not train on it. The
folds come from `kerasdet split --folds` (the same for every recipe with the same --folds, --seed and
--group), each fold trains with `fit` as `kerasdet train CONFIG --set ...` would, with the fold's lists
as data.train / data.val (`fold_overrides`). Per fold it records the best validation epoch's mAP (what
best.keras scores; chosen on the same photos, as a user's run does) and the last epoch's (no choice
made). Folds already finished are read back, so a killed study continues where it stopped.

Layout: OUT/<dataset>/folds<K>-seed<S>[-<group hash>]/fold<i>/{train,val}.txt (the lists),
OUT/<dataset>/<name>/fold<i>/ (a run folder each, with fold_result.json once finished) and
OUT/<dataset>/<name>/summary.json. Every file goes through core/files.py: only new files, or
kerasdet's own, are written.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import load_config
from ..core.files import claim_folder, write_text
from ..data.dataset import load_dataset
from ..data.split import kfold_dataset
from .fit import fit

METRICS = ("map50", "map")
FOLD_RESULT = "fold_result.json"  # in each fold's run folder, once the fold has finished
SUMMARY = "summary.json"
OUT = "runs/kfold"
MADE_BY = "kerasdet kfold"


def lists_folder(out: str | Path, data: str | Path, folds: int, seed: int = 0, group: str | None = None) -> Path:
    """Where the fold lists of one dataset, k, seed and group live (shared by every recipe)."""
    tag = f"folds{folds}-seed{seed}" + (f"-{hashlib.sha1(group.encode()).hexdigest()[:8]}" if group else "")
    return Path(out) / Path(data).resolve().name / tag


def fold_overrides(lists: Path, classes: list[str]) -> list[str]:
    """The `--set` lines that make CONFIG train one fold: `kerasdet train CONFIG --set ...` trains the same."""
    quoted = json.dumps  # JSON is YAML: paths and class names with YAML's special characters stay text
    return [f"data.train={quoted(str((lists / 'train.txt').resolve()))}",
            f"data.val={quoted(str((lists / 'val.txt').resolve()))}", f"data.classes={quoted(list(classes))}"]


def study_classes(config: str | Path, data: str | Path, classes: list[str] | None, overrides: list[str]) -> list[str]:
    """One class list for every fold: the given one, else the config's data.classes, else every class in DATA
    (sorted), so a class rare enough to miss one fold's training lists does not change that fold's model."""
    if classes:
        return list(classes)
    configured = load_config(config, overrides, check_paths=False).data.classes
    return list(configured) or load_dataset(data, on_error="skip").class_names


def run_fold(config: str | Path, overrides: list[str], run_dir: Path, plan: dict) -> dict:
    """Train one fold (or read its finished result): best and last validation mAP, minutes."""
    result_file = run_dir / FOLD_RESULT
    if result_file.exists():
        row = json.loads(result_file.read_text())
        if row.get("plan", plan) != plan:
            raise ValueError(f"{run_dir} holds a fold of another study ({row['plan']}, this one is {plan}): give "
                             "another --name, or --out")
        return row
    cfg = load_config(config, overrides)
    began = time.perf_counter()
    result = fit(cfg, out=run_dir, exist_ok=True, quiet=True)
    if not result.best_metrics or not result.history:
        raise RuntimeError(f"{run_dir}: the fold finished without a validation result")
    last = result.history[-1]
    row = {"best": {k: float(result.best_metrics[k]) for k in METRICS}, "best_epoch": result.best_epoch,
           "last": {k: float(last[k]) for k in METRICS}, "minutes": (time.perf_counter() - began) / 60,
           "plan": plan}
    write_text(result_file, json.dumps(row, indent=1))
    return row


def summarise(rows: list[dict]) -> dict:
    """Mean and standard deviation over folds of each metric, best and last."""
    return {which: {k: {"mean": float(np.mean([r[which][k] for r in rows])),
                        "std": float(np.std([r[which][k] for r in rows]))} for k in METRICS}
            for which in ("best", "last")}


def kfold(config: str | Path, data: str | Path, folds: int = 3, name: str | None = None,
          classes: list[str] | None = None, overrides: list[str] | None = None, seed: int = 0,
          group: str | None = None, fold: int | None = None, out: str | Path = OUT,
          report: Callable[[str], None] | None = print) -> dict:
    """Train CONFIG on each of `folds` folds of DATA (or only fold `fold`, 1..folds, e.g. to alternate two
    recipes fold by fold) and summarise the folds finished so far. `name`: the recipe's name (default: the
    config file's), its results go to OUT/<dataset>/<name>. Returns the summary written to summary.json;
    `report` gets one line per fold and the mean +- std."""
    overrides = list(overrides or [])
    if fold is not None and not 1 <= fold <= folds:
        raise ValueError(f"--fold {fold}: give a fold from 1 to {folds}")
    name = name or Path(config).stem
    say = report or (lambda line: None)
    dataset = Path(data).resolve().name
    names = study_classes(config, data, classes, overrides)
    lists = lists_folder(out, data, folds, seed, group)
    plan = {"data": str(Path(data).resolve()), "folds": folds, "seed": seed, "group": group, "classes": names}
    study = claim_folder(Path(out) / dataset / name, MADE_BY)  # before the lists: a folder of the user's is refused
    kfold_dataset(data, lists, folds, group=group, seed=seed)
    rows = []
    for i in range(1, folds + 1):
        run_dir = study / f"fold{i}"
        if fold not in (None, i) and not (run_dir / FOLD_RESULT).exists():
            continue
        try:
            row = run_fold(config, overrides + fold_overrides(lists / f"fold{i}", names), run_dir, plan)
        except KeyboardInterrupt:  # not fit's sentence: `kerasdet train --resume` would not finish the fold's result
            raise KeyboardInterrupt(f"stopped by Ctrl-C in fold {i}/{folds}; the folds finished are kept in {study}: "
                                    f"the same command goes on with fold {i}, from its start") from None
        rows.append(row)
        say(f"{dataset} {name} fold {i}/{folds}: best mAP@0.5 {row['best']['map50']:.3f} mAP@[.5:.95] "
            f"{row['best']['map']:.3f} (epoch {row['best_epoch']}), last {row['last']['map50']:.3f} / "
            f"{row['last']['map']:.3f}, {row['minutes']:.1f} min")
    summary = {"config": str(config), "set": overrides, **plan, "lists": str(lists), "folds_finished": len(rows),
               "per_fold": rows, **summarise(rows)}
    write_text(study / SUMMARY, json.dumps(summary, indent=1))
    for which in ("best", "last"):
        s = summary[which]
        say(f"{dataset} {name} {which} ({len(rows)} of {folds} folds): mAP@0.5 {s['map50']['mean']:.3f} +- "
            f"{s['map50']['std']:.3f}, mAP@[.5:.95] {s['map']['mean']:.3f} +- {s['map']['std']:.3f}")
    say(f"summary: {study / SUMMARY}")
    return summary
