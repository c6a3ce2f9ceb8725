"""`RunFolder`: one training run's folder. Every file name a run writes is here, and so is the
resume state: one `.npz` whose entries are named `weights/<variable path>` (the live weights),
`optimizer/<variable path>`, `ema/...`, `progress/...`, so a state that does not fit the model is
an error naming what is missing, not a silent mix-up. (An `.npz` rather than Keras'
`.weights.h5`: h5py took 1.1 s an epoch for 2.3 MB of tiny-model weights, NumPy 0.1 s.)

Files are written beside and renamed into place, so a run killed mid-save keeps the previous one.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..core.card import ModelCard
from ..models.load import save_model


@dataclass
class Progress:
    """Where a run stands: what early stopping and the best checkpoint follow."""
    epoch: int = 0  # epochs done
    best: float = -1.0
    best_epoch: int = 0
    stale: int = 0  # evaluations since the best one
    best_metrics: dict = field(default_factory=dict)

    def record(self, metrics: dict, key: str, epoch: int) -> bool:
        """Take one evaluation's metrics; True when `key` improved on the best so far."""
        if metrics[key] > self.best:
            self.best, self.best_epoch, self.stale, self.best_metrics = metrics[key], epoch, 0, metrics
            return True
        self.stale += 1
        return False


def _atomic(save, path: Path) -> None:
    """Write beside, then rename: a run killed mid-save keeps its previous file intact."""
    tmp = path.with_name(path.name.replace(".", ".tmp.", 1))
    save(tmp)
    tmp.replace(path)


class RunFolder:
    CONFIG = "config.yaml"
    CLASSES = "classes.txt"  # for people: the models carry their class names in their card
    BEST = "best.keras"
    LAST = "last.keras"
    STATE = "last_state.npz"  # resume state: live weights, optimizers, EMA, progress
    METRICS = "metrics.csv"
    PLOT = "results.png"
    RESULTS = "results.json"
    DATA = "data.json"  # how each split was read: layout, pairing, counts, every problem and warning
    TENSORBOARD = "tensorboard"

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @classmethod
    def next_free(cls, base: str | Path, prefix: str) -> "RunFolder":
        """The first of BASE/<prefix>1, BASE/<prefix>2, ... that does not exist yet."""
        for i in range(1, 10_000):
            candidate = Path(base) / f"{prefix}{i}"
            if not candidate.exists():
                return cls(candidate)
        raise RuntimeError(f"too many runs in {base}")

    def create(self) -> "RunFolder":
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def run_files(self) -> list[str]:
        """The files of a run this folder holds already (none: a new or unrelated folder)."""
        names = (self.CONFIG, self.STATE, self.BEST, self.LAST, self.METRICS, self.RESULTS, self.DATA)
        return [name for name in names if (self / name).exists()]

    def clear(self) -> None:
        """Remove what a run wrote (its named files and temporaries), nothing else: a fresh start in place."""
        for name in (self.CONFIG, self.CLASSES, self.BEST, self.LAST, self.STATE, self.METRICS, self.PLOT,
                     self.RESULTS, self.DATA):
            for path in (self / name, (self / name).with_name(name.replace(".", ".tmp.", 1))):
                path.unlink(missing_ok=True)
        shutil.rmtree(self / self.TENSORBOARD, ignore_errors=True)

    def finished(self) -> bool:
        return (self / self.RESULTS).exists()

    def save_model(self, model, card: ModelCard, name: str) -> Path:
        _atomic(lambda p: save_model(model, card, p), self / name)
        return self / name

    # --- resume state ---------------------------------------------------------------------------
    def has_state(self) -> bool:
        return (self / self.STATE).exists()

    def save_state(self, trainer, ema, progress: Progress, fingerprint: dict) -> None:
        """`fingerprint`: what a resume must agree with (the model config and class names)."""
        entries = {f"weights/{v.path}": np.array(v) for v in trainer.model.weights}
        entries["fingerprint"] = np.array(json.dumps(fingerprint, sort_keys=True))
        entries.update({f"optimizer/{k}": v for k, v in trainer.state().items()})
        entries.update({f"ema/{k}": v for k, v in ema.state().items()})
        progress_dict = asdict(progress)
        progress_dict["best_metrics"] = json.dumps(progress.best_metrics)
        entries.update({f"progress/{k}": np.array(v) for k, v in progress_dict.items()})
        _atomic(lambda p: np.savez(p, **entries), self / self.STATE)

    def check_state_fits(self, fingerprint: dict) -> None:
        """Before loading: the saved state was made for this model and these classes, or a sentence why not."""
        with np.load(self / self.STATE, allow_pickle=False) as npz:
            saved = json.loads(str(npz["fingerprint"])) if "fingerprint" in npz else None
        if saved is None:
            return  # a state from before fingerprints: the per-variable check in load_state still applies
        flat = lambda d, prefix="": {k2: v2 for k, v in d.items() for k2, v2 in (  # noqa: E731
            flat(v, f"{prefix}{k}.").items() if isinstance(v, dict) else [(f"{prefix}{k}", v)])}
        now, then = flat(fingerprint), flat(saved)
        differ = [f"{k}: {then.get(k)!r} in the state, {now.get(k)!r} now" for k in sorted(set(now) | set(then))
                  if now.get(k) != then.get(k)]
        if differ:
            raise ValueError(f"--resume {self.path}: the saved state does not fit this run's config ("
                             + "; ".join(differ) + f"). Resume with {self / self.CONFIG} unchanged, or start a new "
                             "run (--exist-ok starts over in this folder)")

    def load_state(self, trainer, ema) -> Progress:
        with np.load(self / self.STATE, allow_pickle=False) as npz:
            entries = dict(npz)
        section = lambda prefix: {k[len(prefix):]: v for k, v in entries.items() if k.startswith(prefix)}  # noqa: E731
        try:
            for v in trainer.model.weights:
                v.assign(entries[f"weights/{v.path}"])
            trainer.load_state(section("optimizer/"))
            ema.load_state(section("ema/"))
            p = section("progress/")
            return Progress(int(p["epoch"]), float(p["best"]), int(p["best_epoch"]), int(p["stale"]),
                            json.loads(str(p["best_metrics"])))
        except (KeyError, ValueError) as err:
            raise ValueError(f"{self / self.STATE}: this resume state does not fit the model of "
                             f"{self / self.CONFIG} (missing or mismatched: {err})") from None
