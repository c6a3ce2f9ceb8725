"""Exponential moving average of all model weights (BatchNorm statistics included).

The decay ramps up as in Ultralytics, d = 0.9999 * (1 - exp(-updates / 2000)), so short
fine-tuning runs average over the last few dozen steps rather than lag behind by thousands.
"""
from __future__ import annotations

import math

import keras
import numpy as np


class WeightEMA:
    def __init__(self, model: keras.Model, decay: float = 0.9999, tau: float = 2000.0):
        self.model, self.decay, self.tau = model, decay, tau
        self.updates = 0
        self.shadow = [np.array(w) for w in model.get_weights()]

    def update(self) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        for shadow, w in zip(self.shadow, self.model.get_weights()):
            shadow *= d
            shadow += (1 - d) * w

    def swap(self) -> None:
        """Exchange the live weights and the averaged ones (call twice to undo)."""
        live = self.model.get_weights()
        self.model.set_weights(self.shadow)
        self.shadow = live
