"""Training-time speed-up: run Keras BatchNormalization layers on TensorFlow's fused kernel.

Keras 3 normalizes with separate ops (moments, then x * scale + offset), each a pass over the
activations, and the backward pass repeats that; on 2 CPU cores BatchNorm was a fifth of a
training step. `tf.compat.v1.nn.fused_batch_norm` does the same arithmetic in one oneDNN op each
way. Only the layers' `call` is replaced, on this model instance, so saved `.keras` files keep
plain Keras layers (loadable without kerasdet) and the TFLite converter sees the usual graph.

Under a strategy with several replicas, BatchNorm must use the global batch's statistics:
`synchronized=True` switches the layers to Keras' own cross-replica path instead.
"""
from __future__ import annotations

import types

import keras
import tensorflow as tf


def _fused_call(self, inputs, training=None, mask=None):
    if (mask is not None or inputs.dtype != tf.float32 or len(inputs.shape) != 4 or self.axis not in (-1, 3)
            or self.synchronized):
        return type(self).call(self, inputs, training=training, mask=mask)
    scale = self.gamma if self.scale else tf.ones_like(self.moving_mean)
    offset = self.beta if self.center else tf.zeros_like(self.moving_mean)
    if training and self.trainable:  # the same condition Keras uses for batch statistics
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, scale, offset, epsilon=self.epsilon, is_training=True)
        # The kernel returns the unbiased batch variance; Keras keeps the biased one.
        n = tf.cast(tf.size(inputs) // tf.shape(inputs)[-1], tf.float32)
        variance = variance * (n - 1.0) / n
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return y
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(
        inputs, scale, offset, mean=self.moving_mean, variance=self.moving_variance,
        epsilon=self.epsilon, is_training=False)
    return y


def all_layers(model: keras.Model):
    """Every layer of `model`, those of nested models included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def use_fused_batchnorm(model: keras.Model, synchronized: bool = False) -> int:
    """Route every BatchNormalization in `model` (nested models included) through the fused
    kernel, or with `synchronized` through Keras' cross-replica statistics. Returns how many
    layers were switched."""
    count = 0
    for layer in all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = synchronized
            layer.call = types.MethodType(_fused_call, layer)
            count += 1
    return count
