"""Small building blocks shared by the neck and the head (ReLU6 keeps int8 export exact and fast).

BatchNorm momentum 0.9: fine-tuning runs are a few hundred steps, and moving statistics that
average over longer lag behind the fast-changing new layers, so inference would see other
activations than training did.
"""
from __future__ import annotations

import keras


def conv_bn(x, filters: int, kernel: int = 1, strides: int = 1, name: str = ""):
    x = keras.layers.Conv2D(filters, kernel, strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name=f"{name}_bn")(x)
    return keras.layers.ReLU(6.0, name=f"{name}_relu")(x)


def separable_bn(x, filters: int, strides: int = 1, name: str = ""):
    """Depthwise 3x3 then pointwise 1x1 + BatchNorm: a cheap 3x3 conv. One BatchNorm, not two:
    on this CPU a BatchNorm's forward and backward cost as much as the pointwise conv itself."""
    x = keras.layers.DepthwiseConv2D(3, strides, padding="same", use_bias=False, name=f"{name}_dw")(x)
    return conv_bn(x, filters, 1, name=f"{name}_pw")


def upsample2x(x, name: str = ""):
    """Nearest-neighbour 2x upsampling from Concatenate + Reshape, which XNNPACK runs in int8 and fp32.

    keras.layers.UpSampling2D repeats with tf.repeat, which converts to TFLite TILE ops: XNNPACK has
    no TILE, so each one cut the delegated graph in two and the int8 network ran in 7 pieces. Here,
    joining a (H, W, C) map with itself on channels and reading it as (H, 2W, C) repeats each
    column; doing the same on the widened rows repeats each row. Same values, standard layers."""
    height, width, channels = x.shape[1:]
    x = keras.layers.Concatenate(name=f"{name}_cols")([x, x])
    x = keras.layers.Reshape((height, 2 * width, channels), name=f"{name}_cols_flat")(x)
    x = keras.layers.Concatenate(axis=2, name=f"{name}_rows")([x, x])
    return keras.layers.Reshape((2 * height, 2 * width, channels), name=f"{name}_rows_flat")(x)
