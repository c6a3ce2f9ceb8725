"""Exponential moving average of all model weights (BatchNorm statistics included).

The average spans about one epoch of updates, and its decay ramps up as in Ultralytics,
d = d_max * (1 - exp(-updates / tau)). Ultralytics fixes d_max = 0.9999 and tau = 2000 updates: on
COCO that is a window of about 1.4 epochs, but a 20-epoch run of 1,240 updates ends at d = 0.46,
an average of the last two steps. With BatchNorm momentum 0.9 (models/common/layers.py) the moving
statistics are then those of the last ten batches, and validation swings by points between epochs
at a learning rate near zero. So the window is a run's own epoch, d_max = 1 - 1 / steps_per_epoch
(at most 0.9999), reached over the first epoch (tau a fifth of it, Ultralytics' ratio).
Evaluation and checkpoints see the averaged weights: `with ema.averaged(): ...`.
"""
from __future__ import annotations

import contextlib
import math

import keras
import numpy as np


def ema_decay(updates: int, steps_per_epoch: int) -> float:
    """The averaging weight of the old average after `updates` updates: see the module docstring."""
    window = max(steps_per_epoch, 1)
    return min(1 - 1 / window, 0.9999) * (1 - math.exp(-updates / (window / 5)))


class WeightEMA:
    def __init__(self, model: keras.Model, steps_per_epoch: int, enabled: bool = True):
        self.model, self.steps_per_epoch, self.enabled = model, steps_per_epoch, enabled
        self.updates = 0
        self.shadow = [np.array(w) for w in model.get_weights()] if enabled else []

    def update(self) -> None:
        if not self.enabled:
            return
        self.updates += 1
        d = ema_decay(self.updates, self.steps_per_epoch)
        for shadow, w in zip(self.shadow, self.model.get_weights()):
            shadow *= d
            shadow += (1 - d) * w

    def follow(self, model: keras.Model) -> None:
        """Average `model` from now on: the same network rebuilt at another input size (progressive
        resizing), whose weights come in the same order."""
        self.model = model

    @contextlib.contextmanager
    def averaged(self):
        """Inside the block the model holds the averaged weights; the live ones come back after
        (with EMA disabled, the live weights throughout)."""
        if not self.enabled:
            yield
            return
        self._swap()
        try:
            yield
        finally:
            self._swap()

    def _swap(self) -> None:
        live = self.model.get_weights()
        self.model.set_weights(self.shadow)
        self.shadow = live

    # --- resume: the shadow weights by the model variables' names --------------------------------
    def state(self) -> dict[str, np.ndarray]:
        if not self.enabled:
            return {}
        return {"updates": np.array(self.updates),
                **{f"weights/{v.path}": w for v, w in zip(self.model.weights, self.shadow)}}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        if self.enabled:
            self.shadow = [np.array(state[f"weights/{v.path}"]) for v in self.model.weights]
            self.updates = int(state["updates"])
