"""`kerasdet lr-find CONFIG`: the learning-rate range test (L. Smith, "Cyclical Learning Rates for
Training Neural Networks", 2017; fast.ai's `lr_find`).

Training starts as `kerasdet train` would (same data, augmentation, model, weights and teacher; the
backbone frozen when the recipe starts frozen; at the smaller input of train.progressive_epochs when
it starts there) while the head's learning rate rises exponentially from `start` to `end`, one rate
per step (the backbone's follows at train.backbone_lr_factor times it).
The loss at each step is recorded and smoothed; the test stops once the smoothed loss has grown
DIVERGED times above its minimum. The suggested train.learning_rate is a tenth of the rate at that
minimum: the loss still falls fast there, and a tenth stays clear of where it blows up.

Nothing is saved but the curve: lr_find.csv and lr_find.png in a new folder under train.out.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from tqdm.auto import tqdm

from ..config import Config
from ..core.files import claim_folder, write_file
from ..core.input_size import InputSize
from ..data.dataset import load_dataset
from .engine import setup
from .recipe import backbone_frozen, input_sizes, sized_schedule
from .run_folder import RunFolder
from .schedule import ExponentialRamp, ramp_rate

START, END, STEPS = 1e-6, 1.0, 100
SMOOTHING = 0.9  # of the loss's exponential moving average: a batch's loss is noisy
DIVERGED = 4.0  # stop once the smoothed loss is this many times its minimum
BELOW_MINIMUM = 10.0  # the suggestion: the rate at the smoothed minimum over this
CSV, PLOT = "lr_find.csv", "lr_find.png"


@dataclass
class LRFindResult:
    rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggested: float
    frozen: bool  # the backbone was frozen (the recipe's first phase)
    input_size: InputSize  # the recipe's first (train.progressive_epochs: a smaller one)
    out: Path


def smooth(losses, beta: float = SMOOTHING) -> np.ndarray:
    """Exponential moving average with bias correction (the first values are not pulled to 0)."""
    average, out = 0.0, []
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        out.append(average / (1 - beta ** (i + 1)))
    return np.array(out)


def suggest(rates, smoothed) -> float:
    """A tenth of the rate where the smoothed loss is lowest."""
    return float(rates[int(np.argmin(smoothed))] / BELOW_MINIMUM)


def diverged(smoothed) -> bool:
    return not np.isfinite(smoothed[-1]) or smoothed[-1] > DIVERGED * np.min(smoothed)


def lr_find(cfg: Config, start: float = START, end: float = END, steps: int = STEPS,
            out: str | Path | None = None, quiet: bool = False) -> LRFindResult:
    if not 0 < start < end:
        raise ValueError(f"lr-find: need 0 < start < end, got start {start:g}, end {end:g}")
    out = _out_dir(cfg, out)  # before the ramp: a folder of the user's is refused at once
    keras.utils.set_random_seed(cfg.train.seed)
    train_ds = load_dataset(cfg.data.train, cfg.data.classes or None, cfg.data.on_error)
    print(f"train: {train_ds.source} ({train_ds.layout}): {train_ds.summary()}")
    cfg = sized_schedule(cfg, train_ds)[0]  # train.epochs auto: the number the training would run
    factor = start / cfg.train.learning_rate  # the head's rate is train.learning_rate x factor
    # as training starts (its first input size, a distilled run's loss), the rate ramped instead of scheduled
    s = setup(cfg, train_ds, input_sizes(cfg, train_ds)[0][0], steps=steps, schedule=lambda peak: ExponentialRamp(
        peak * factor, peak * factor * end / start, steps) if peak > 0 else 0.0)  # backbone_lr_factor 0
    trainer, batches = s.trainer, s.batches
    frozen = backbone_frozen(cfg, epoch=0)
    rates, losses = [], []
    bar = tqdm(range(steps), desc=f"lr-find at {trainer.input_size}"
               + (" (backbone frozen)" if frozen else ""), disable=quiet)
    for step in bar:
        images, targets = next(batches)
        rates.append(float(ramp_rate(step, steps, start, end)))
        losses.append(trainer.train_step(images, targets, frozen)["loss"])
        smoothed = smooth(losses)
        bar.set_postfix(lr=f"{rates[-1]:.2e}", loss=f"{smoothed[-1]:.3f}")
        if step > 5 and diverged(smoothed):
            break
    bar.close()
    smoothed = smooth(losses)
    finite = np.isfinite(smoothed)
    result = LRFindResult(rates, losses, smoothed.tolist(), suggest(np.array(rates)[finite], smoothed[finite]),
                          frozen, trainer.input_size, out)
    _save(result, cfg.train.learning_rate)
    return result


def _out_dir(cfg: Config, out: str | Path | None) -> Path:
    path = Path(out) if out else RunFolder.next_free(cfg.train.out, f"{cfg.name}-lr-find").path
    return claim_folder(path, "kerasdet lr-find")  # new, empty, or made by kerasdet: never a folder of the user's


def _save(result: LRFindResult, configured: float) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    table = pd.DataFrame({"step": range(1, len(result.rates) + 1), "lr": result.rates, "loss": result.losses,
                          "smoothed": result.smoothed})
    write_file(result.out / CSV, lambda tmp: table.to_csv(tmp, index=False))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(result.rates, result.losses, alpha=0.3, label="loss")
    ax.plot(result.rates, result.smoothed, label="smoothed")
    ax.axvline(result.suggested, color="tab:green", linestyle="--", label=f"suggested {result.suggested:.2g}")
    ax.axvline(configured, color="tab:gray", linestyle=":", label=f"config's {configured:.2g}")
    ax.set_xscale("log")
    finite = [v for v in result.smoothed if np.isfinite(v)]
    ax.set_ylim(min(finite) * 0.9, min(max(finite), DIVERGED * min(finite)) * 1.05)
    ax.set_xlabel("learning rate (head)")
    ax.set_ylabel("training loss")
    ax.set_title(f"LR range test at {result.input_size}" + (" (backbone frozen)" if result.frozen else ""))
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    write_file(result.out / PLOT, lambda tmp: fig.savefig(tmp, dpi=90))
    plt.close(fig)
