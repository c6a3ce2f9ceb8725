"""k-fold cross-validation of a training recipe on one LabelImg dataset: mean and spread of mAP.

    python tools/kfold.py CONFIG DATA --classes a,b --folds 3 --name RECIPE [--set KEY=VALUE ...]
                          [--seed 0] [--fold I] [--out runs/kfold]

Small datasets (100-300 photos) give validation splits of 30 photos, too few to tell two recipes
apart: here every photo is scored once, by the model of the fold that did not train on it. The
folds come from `kerasdet split --folds` (the same for every recipe with the same --seed), each
fold trains with `kerasdet.fit` as `kerasdet train CONFIG --set ...` would, with the fold's lists
as data.train / data.val. Per fold it records the best validation epoch's mAP (what best.keras
scores; chosen on the same photos, as a user's run does) and the last epoch's (no choice made).
Folds already finished under --out are read back, so a killed study continues where it stopped.
Writes OUT/<dataset>/<name>/summary.json and prints one line per fold and the mean +- std.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kerasdet.config import load_config  # noqa: E402
from kerasdet.data.split import kfold_dataset  # noqa: E402
from kerasdet.train import fit  # noqa: E402

METRICS = ("map50", "map")
FOLD_RESULT = "fold_result.json"  # in each fold's run folder, once the fold has finished


def run_fold(config: str, overrides: list[str], lists: Path, run_dir: Path) -> dict:
    """Train one fold (or read its finished result): best and last validation mAP, minutes."""
    result_file = run_dir / FOLD_RESULT
    if result_file.exists():
        return json.loads(result_file.read_text())
    cfg = load_config(config, overrides + [f"data.train={(lists / 'train.txt').resolve()}",
                                           f"data.val={(lists / 'val.txt').resolve()}"])
    began = time.perf_counter()
    result = fit(cfg, out=run_dir, exist_ok=True, quiet=True)
    last = result.history[-1]
    row = {"best": {k: float(result.best_metrics[k]) for k in METRICS}, "best_epoch": result.best_epoch,
           "last": {k: float(last[k]) for k in METRICS}, "minutes": (time.perf_counter() - began) / 60}
    result_file.write_text(json.dumps(row, indent=1))
    return row


def summarise(rows: list[dict]) -> dict:
    """Mean and standard deviation over folds of each metric, best and last."""
    return {which: {k: {"mean": float(np.mean([r[which][k] for r in rows])),
                        "std": float(np.std([r[which][k] for r in rows]))} for k in METRICS}
            for which in ("best", "last")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("data", help="a LabelImg data source (folder, list, ...)")
    parser.add_argument("--classes", required=True, help="comma-separated class names (data.classes)")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--name", required=True, help="the recipe's name: its results go to OUT/<dataset>/<name>")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    parser.add_argument("--seed", type=int, default=0, help="which folds (the same seed, the same folds)")
    parser.add_argument("--fold", type=int, help="train only this fold (1..folds), e.g. to alternate two recipes "
                                                 "fold by fold; the summary covers the folds finished so far")
    parser.add_argument("--out", default="runs/kfold")
    args = parser.parse_args()

    dataset = Path(args.data).resolve().name
    lists = Path(args.out) / dataset / f"folds-seed{args.seed}"
    kfold_dataset(args.data, lists, args.folds, seed=args.seed)
    overrides = args.set + [f"data.classes=[{args.classes}]"]
    study = Path(args.out) / dataset / args.name
    rows = []
    for i in range(1, args.folds + 1):
        finished = (study / f"fold{i}" / FOLD_RESULT).exists()
        if args.fold not in (None, i) and not finished:
            continue
        row = run_fold(args.config, overrides, lists / f"fold{i}", study / f"fold{i}")
        rows.append(row)
        print(f"{dataset} {args.name} fold {i}/{args.folds}: best mAP@0.5 {row['best']['map50']:.3f} "
              f"mAP@[.5:.95] {row['best']['map']:.3f} (epoch {row['best_epoch']}), last {row['last']['map50']:.3f} / "
              f"{row['last']['map']:.3f}, {row['minutes']:.1f} min", flush=True)
    summary = {"config": args.config, "set": args.set, "data": args.data, "folds": args.folds, "seed": args.seed,
               "folds_finished": len(rows), "per_fold": rows, **summarise(rows)}
    (study / "summary.json").write_text(json.dumps(summary, indent=1))
    for which in ("best", "last"):
        s = summary[which]
        print(f"{dataset} {args.name} {which} ({len(rows)} of {args.folds} folds): mAP@0.5 {s['map50']['mean']:.3f} +- {s['map50']['std']:.3f}, "
              f"mAP@[.5:.95] {s['map']['mean']:.3f} +- {s['map']['std']:.3f}")


if __name__ == "__main__":
    main()
