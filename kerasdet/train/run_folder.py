"""`RunFolder`: one training run's folder. Every file name a run writes is here, and so is the
resume state: one `.npz` whose entries are named `weights/<variable path>` (the live weights),
`optimizer/<variable path>`, `ema/...`, `progress/...`, so a state that does not fit the model is
an error naming what is missing, not a silent mix-up. (An `.npz` rather than Keras'
`.weights.h5`: h5py took 1.1 s an epoch for 2.3 MB of tiny-model weights, NumPy 0.1 s.)

Files are written beside and renamed into place, so a run killed mid-save keeps the previous one
(core/files.py); the folder's manifest lists every file kerasdet wrote in it, so `--exist-ok` removes
exactly those (an export beside best.keras included) and a folder of the user's is never taken for a run.
"""
from __future__ import annotations

import contextlib
import errno
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..core.card import ModelCard
from ..core.files import (DiskFullError, claim_folder, disk_full, is_owned, record, remove_owned, temporary_name,
                          write_file)
from ..models.load import save_model


def _flatten(tree: dict, prefix: str = "") -> dict:
    """{"model": {"alpha": 1.0}} -> {"model.alpha": 1.0}: differences named by their config key."""
    flat = {}
    for key, value in tree.items():
        flat.update(_flatten(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


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


def _then(path: Path) -> str:
    """How to go on after a full disk: resume when the run has a state to resume from."""
    return (f"continue with --resume {path.parent}" if (path.parent / RunFolder.STATE).exists()
            else "train again")


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
    _NAMED = (CONFIG, CLASSES, BEST, LAST, STATE, METRICS, PLOT, RESULTS, DATA)

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
        """Make the folder, or take one kerasdet made; a folder of the user's is refused (core/files.py). A run
        from before manifests is recognised by its files."""
        legacy = (*self._NAMED, self.TENSORBOARD) if self._legacy_run() else ()
        claim_folder(self.path, "kerasdet train", adopt=legacy)
        return self

    def _legacy_run(self) -> bool:
        """A run written before manifests: its config beside a resume state or a results file (a best.keras
        alone may be anyone's)."""
        return (self / self.CONFIG).exists() and any((self / n).exists() for n in (self.STATE, self.RESULTS))

    def run_files(self) -> list[str]:
        """The files of a run that trained in this folder (none: a new folder, a folder of the user's, or a
        run that stopped before its first epoch, say on a data error)."""
        if not (is_owned(self.path) or self._legacy_run()):
            return []
        names = (self.STATE, self.BEST, self.LAST, self.METRICS, self.RESULTS)
        return [name for name in names if (self / name).exists()]

    def clear(self) -> list[str]:
        """Remove every file kerasdet wrote here (the run's, and exports, plots beside them), nothing else: a
        fresh start in place. Returns the names removed."""
        return remove_owned(self.path)

    def remove_temporaries(self) -> None:
        """What saves killed half-way left beside the files they would have replaced."""
        for name in self._NAMED:
            temporary_name(self / name).unlink(missing_ok=True)

    def write(self, name: str, save, needed: int | None = None) -> Path:
        """Write one of the run's files (core/files.write_file); a full disk says how to go on."""
        return write_file(self / name, save, needed=needed, then=_then(self / name))

    def write_text(self, name: str, text: str) -> Path:
        return self.write(name, lambda p: p.write_text(text, encoding="utf-8"), len(text.encode()))

    def record(self, name: str) -> None:
        """List a file or folder another library writes in place (TensorBoard's) as the run's."""
        record(self / name)

    @contextlib.contextmanager
    def disk_full_as_error(self):
        """A full disk met by any writer of the run (CSV, plot, TensorBoard, checkpoint) is a DiskFullError."""
        try:
            yield
        except OSError as err:
            if err.errno == errno.ENOSPC and not isinstance(err, DiskFullError):
                path = Path(err.filename) if err.filename else self.path / "?"
                raise disk_full(path, then=_then(path)) from None
            raise

    def finished(self) -> bool:
        return (self / self.RESULTS).exists()

    def save_model(self, model, card: ModelCard, name: str) -> Path:
        weights = sum(int(np.prod(w.shape)) * 4 for w in model.weights)
        self.write(name, lambda p: save_model(model, card, p), weights)
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
        self.write(self.STATE, lambda p: np.savez(p, **entries), sum(v.nbytes for v in entries.values()))

    def check_state_fits(self, fingerprint: dict) -> None:
        """Before loading: the saved state was made for this model and these classes, or a sentence why not."""
        with np.load(self / self.STATE, allow_pickle=False) as npz:
            saved = json.loads(str(npz["fingerprint"])) if "fingerprint" in npz else None
        if saved is None:
            return  # a state from before fingerprints: the per-variable check in load_state still applies
        now, then = _flatten(fingerprint), _flatten(saved)
        # Keys the saved state lacks came with a later kerasdet (model.preset, model.neck_width): not
        # compared, and load_state still checks every variable's shape.
        differ = [f"{k}: {then.get(k)!r} in the state, {now.get(k)!r} now" for k in sorted(then)
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
