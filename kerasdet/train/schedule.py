"""Learning rate: linear warm-up, then cosine decay to a small floor."""
from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable("kerasdet")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak: float, warmup_steps: int, total_steps: int, floor: float = 0.01):
        self.peak, self.warmup_steps, self.total_steps, self.floor = peak, warmup_steps, total_steps, floor

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.peak * (step + 1) / max(self.warmup_steps, 1)
        progress = ops.clip((step - self.warmup_steps) / max(self.total_steps - self.warmup_steps, 1), 0.0, 1.0)
        cosine = self.peak * (self.floor + (1 - self.floor) * 0.5 * (1 + ops.cos(math.pi * progress)))
        return ops.where(step < self.warmup_steps, warm, cosine)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps,
                "floor": self.floor}
