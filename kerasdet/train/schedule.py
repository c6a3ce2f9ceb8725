"""Learning rates: the recipe's linear warm-up then cosine decay to a small floor; the LR range test's
exponential ramp."""
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


def ramp_rate(step, steps: int, start: float, end: float):
    """The LR range test's rate at `step` of `steps`: `start` to `end`, evenly spaced in log scale."""
    return start * (end / start) ** (step / max(steps - 1, 1))


@keras.saving.register_keras_serializable("kerasdet")
class ExponentialRamp(keras.optimizers.schedules.LearningRateSchedule):
    """`ramp_rate` as a schedule (train/lr_find.py)."""

    def __init__(self, start: float, end: float, steps: int):
        self.start, self.end, self.steps = start, end, steps

    def __call__(self, step):
        return ramp_rate(ops.cast(step, "float32"), self.steps, self.start, self.end)

    def get_config(self):
        return {"start": self.start, "end": self.end, "steps": self.steps}
