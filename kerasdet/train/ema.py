"""Exponential moving average of all model weights (BatchNorm statistics included).

The decay ramps up as in Ultralytics, d = 0.9999 * (1 - exp(-updates / 2000)), so short
fine-tuning runs average over the last few dozen steps rather than lag behind by thousands.
Evaluation and checkpoints see the averaged weights: `with ema.averaged(): ...`.
"""
from __future__ import annotations

import contextlib
import math

import keras
import numpy as np


class WeightEMA:
    def __init__(self, model: keras.Model, enabled: bool = True, decay: float = 0.9999, tau: float = 2000.0):
        self.model, self.enabled, self.decay, self.tau = model, enabled, decay, tau
        self.updates = 0
        self.shadow = [np.array(w) for w in model.get_weights()] if enabled else []

    def update(self) -> None:
        if not self.enabled:
            return
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        for shadow, w in zip(self.shadow, self.model.get_weights()):
            shadow *= d
            shadow += (1 - d) * w

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
