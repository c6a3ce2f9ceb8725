"""`Trainer`: the model, its two optimizers (head, backbone) and the compiled training step.

Recipe for a few hundred images: warm-up then cosine learning rate, global-norm gradient
clipping, a first phase with the backbone frozen (no gradients through it at all, so it is also
fast), then the last `train.backbone_trainable_fraction` of the backbone trained at a lower rate.
The loss and its named terms come from the architecture (models/<arch>/). With a teacher
(teacher.py), each batch also goes through it, outside the gradient, and the loss compares.

Under a `tf.distribute` strategy (distribute.py) each replica takes its slice of the global
batch. The losses normalise by the whole global batch (models/common/global_batch.py), so each
replica's loss is its share and the global gradient is the replicas' sum: it is all-reduced
before clipping (clipping applies to the global gradient, as on one device), and BatchNorm uses
the global batch's statistics (Keras' synchronized BatchNormalization). One step on N replicas
then updates the weights as one step on one device with the same global batch.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ..config import Config
from ..core.card import ModelCard
from ..core.input_size import InputSize
from ..models.architecture import get_architecture
from ..models.detector import build_detector
from ..runtime.keras_predictor import KerasPredictor
from .fused_batchnorm import use_fused_batchnorm
from .schedule import WarmupCosine


def last_backbone_variables(backbone: keras.Model, fraction: float) -> list:
    """Trainable variables of the deepest `fraction` of the backbone's layers. Gradients then
    stop there, so the high-resolution early layers (most of the backward cost) are skipped."""
    inner = [layer for layer in backbone.layers if isinstance(layer, keras.Model)][-1]
    layers = [layer for layer in inner.layers if layer.trainable_weights]
    keep = layers[len(layers) - round(fraction * len(layers)):] if fraction > 0 else []
    return [v for layer in keep for v in layer.trainable_weights]


class Trainer:
    def __init__(self, cfg: Config, num_classes: int, steps_per_epoch: int,
                 strategy: tf.distribute.Strategy | None = None, schedule=None, teacher=None):
        """`schedule(peak)`: the learning-rate schedule of an optimizer whose rate is `peak` (the
        head's train.learning_rate, the backbone's that times train.backbone_lr_factor); by default
        the recipe's warm-up and cosine over train.epochs. `teacher`: a frozen model from
        `load_teacher` whose predictions the loss also learns (train.distill_from)."""
        self.strategy = strategy or tf.distribute.get_strategy()
        self.teacher = teacher
        self._args = {"num_classes": num_classes, "steps_per_epoch": steps_per_epoch, "schedule": schedule}  # for `resized`
        with self.strategy.scope():  # variables (model, optimizers) are mirrored on every replica
            self._build(cfg, num_classes, steps_per_epoch, schedule)
        self._steps = {frozen: self._make_step(frozen) for frozen in (True, False)}

    def _build(self, cfg: Config, num_classes: int, steps_per_epoch: int, schedule) -> None:
        t = cfg.train
        self.cfg = cfg
        self.model = build_detector(cfg.model, num_classes)
        use_fused_batchnorm(self.model, synchronized=self.strategy.num_replicas_in_sync > 1)
        arch = get_architecture(cfg.model.arch)
        options = {"distill_weight": t.distill_weight} if self.teacher is not None else {}
        self.loss = arch.loss(self.input_size, num_classes, **options)
        self.loss_terms = ("loss",) + arch.loss_terms + (("distill_loss",) if self.teacher is not None else ())
        backbone = self.model.get_layer("backbone")
        backbone_ids = {id(v) for v in backbone.trainable_variables}
        self.head_vars = [v for v in self.model.trainable_variables if id(v) not in backbone_ids]
        self.backbone_vars = last_backbone_variables(backbone, t.backbone_trainable_fraction)
        if schedule is None:
            if not isinstance(t.epochs, int):  # `auto` is sized from the data first (engine.setup does)
                raise ValueError(f"train.epochs is {t.epochs!r}: size it with train.recipe.sized_schedule first")
            total, warmup = t.epochs * steps_per_epoch, t.warmup_epochs * steps_per_epoch
            schedule = lambda peak: WarmupCosine(peak, warmup, total)  # noqa: E731
        # Each optimizer holds its rate in a variable that `step` sets from the schedule once a step.
        # Given the schedule itself, Keras' AdamW evaluates it again for every variable it decays
        # (keras/src/backend/tensorflow/optimizer.py, `weight_decay_fn`): ~250 times a step for
        # MobileNetV2, a third of the step's tracing time and ~10% of a small model's step.
        self.schedules = {part: schedule(t.learning_rate * factor)
                          for part, factor in (("head", 1.0), ("backbone", t.backbone_lr_factor))}
        self.optimizers = {  # named, so the resume state finds each variable by its path
            part: keras.optimizers.AdamW(float(self.rate(part, 0)), weight_decay=t.weight_decay, beta_1=0.9,
                                         name=f"{part}_optimizer")
            for part in self.schedules}
        self.optimizers["head"].build(self.head_vars)
        self.optimizers["backbone"].build(self.backbone_vars)

    def _make_step(self, backbone_frozen: bool):
        variables = self.head_vars if backbone_frozen else self.head_vars + self.backbone_vars
        n_head = len(self.head_vars)
        replicas = self.strategy.num_replicas_in_sync

        def replica_step(images, boxes, classes):
            images = tf.cast(images, tf.float32)
            teacher = () if self.teacher is None else (self.teacher(images, training=False),)
            with tf.GradientTape() as tape:
                losses = self.loss(self.model(images, training=True), boxes, classes, *teacher)
            grads = tape.gradient(losses["loss"], variables)
            if replicas > 1:
                grads = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, grads)
            grads, norm = tf.clip_by_global_norm(grads, self.cfg.train.clipnorm)
            if replicas > 1:
                grads = [g / replicas for g in grads]  # Keras optimizers sum the replicas' gradients again
            self.optimizers["head"].apply_gradients(zip(grads[:n_head], self.head_vars))
            if not backbone_frozen:
                # The backbone optimizer counts its own steps, so its schedule stays aligned.
                self.optimizers["backbone"].apply_gradients(zip(grads[n_head:], self.backbone_vars))
            return losses, norm

        @tf.function(jit_compile=False)
        def step(images, boxes, classes):
            for part, optimizer in self.optimizers.items():  # cross-replica: every replica's copy
                optimizer.learning_rate.assign(self.rate(part, optimizer.iterations))
            shares, norm = self.strategy.run(replica_step, args=(images, boxes, classes))
            losses = {name: self.strategy.reduce(tf.distribute.ReduceOp.SUM, share, axis=None)
                      for name, share in shares.items()}
            return losses, self.strategy.reduce(tf.distribute.ReduceOp.MEAN, norm, axis=None)  # the same on all

        return step

    @property
    def input_size(self) -> InputSize:
        """The model's input size (model.input_size, or a smaller one during train.progressive_epochs)."""
        return InputSize.of(self.cfg.model.input_size)

    def resized(self, input_size: InputSize) -> "Trainer":
        """This trainer at another input size (progressive resizing), carrying on: a new model and
        loss for `input_size` (the head's anchor grid depends on it), holding this one's weights and
        optimizer state. Convolutions and BatchNorm do not depend on the input's size, so every
        variable keeps its shape and, both models built alike, its place in the lists copied."""
        # Built as this one was (model.weights too: a pretrained backbone's BatchNorm layers are not
        # trained, so `none` would make other variables trainable), then given this one's weights.
        other = Trainer(self.cfg.with_input_size(input_size), strategy=self.strategy, teacher=self.teacher, **self._args)
        for ours, theirs in ((self.model.weights, other.model.weights),
                             (self._state_variables(), other._state_variables())):
            if [v.shape for v in ours] != [v.shape for v in theirs]:
                raise ValueError(f"the model at input size {input_size} does not hold the same variables as at "
                                 f"{self.input_size}")
            for source, target in zip(ours, theirs):
                target.assign(source)
        return other

    def train_step(self, images, targets, backbone_frozen: bool) -> dict[str, float]:
        """One optimisation step on a global batch (under a strategy: a distributed one, from
        `distribute_dataset`); returns the loss terms (`loss_terms`) as floats."""
        losses, grad_norm = self._steps[backbone_frozen](images, targets["boxes"], targets["classes"])
        self.last_grad_norm = float(grad_norm)  # of the global gradient, before clipping
        return {name: float(losses[name]) for name in self.loss_terms}

    def distribute(self, make_dataset, global_batch: int):
        """Training batches for every replica from `make_dataset(batch_size, shard)`, a tf.data
        pipeline of `batch_size` samples a batch reading only `shard` = (count, index) of them: one
        pipeline per machine, each replica a slice of the global batch."""
        if self.strategy.num_replicas_in_sync == 1:
            return make_dataset(global_batch, (1, 0))
        return self.strategy.distribute_datasets_from_function(lambda context: make_dataset(
            context.get_per_replica_batch_size(global_batch), (context.num_input_pipelines,
                                                               context.input_pipeline_id)))

    def rate(self, part: str, step):
        """The learning rate of optimizer `part` ('head' or 'backbone') at `step`."""
        schedule = self.schedules[part]
        return schedule(step) if callable(schedule) else schedule

    @property
    def learning_rate(self) -> float:
        """The head's rate for the next step."""
        return float(self.rate("head", self.optimizers["head"].iterations))

    def predictor(self, card: ModelCard) -> KerasPredictor:
        return KerasPredictor(self.model, card)

    # --- resume: optimizer variables by their paths ----------------------------------------------
    def _state_variables(self) -> list:
        """The optimizers' variables but their rates, which each step sets from the schedule."""
        return [v for opt in self.optimizers.values() for v in opt.variables if v is not opt.learning_rate]

    def state(self) -> dict[str, np.ndarray]:
        return {v.path: np.array(v) for v in self._state_variables()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for v in self._state_variables():
            v.assign(state[v.path])
