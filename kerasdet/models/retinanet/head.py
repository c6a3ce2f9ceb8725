"""RetinaNet head: per level, a class branch (9 x C logits per location) and a box branch (9 x 4
deltas), concatenated over all anchors: (B, N, 4) and (B, N, C), the same two-output layout as the
YOLOv8 head. Light like it: a shared depthwise-separable stem, one block per branch (RetinaNet's
four full 3x3 convs of 256 channels would outweigh the whole MobileNet backbone)."""
from __future__ import annotations

import math

import keras

from ..common.layers import separable_bn
from .config import RetinaNetConfig


def retinanet_head(features, num_classes: int, width: int, config: RetinaNetConfig, name: str = "head"):
    box_outputs, class_outputs = [], []
    anchors = config.anchors_per_location
    prior = -math.log((1 - config.prior_probability) / config.prior_probability)
    for level, feature in enumerate(features):
        n = f"{name}_p{level + 3}"
        stem = separable_bn(feature, width, name=f"{n}_stem")
        box = separable_bn(stem, width, name=f"{n}_box")
        box = keras.layers.Conv2D(anchors * 4, 1, name=f"{n}_box_out",
                                  kernel_initializer=keras.initializers.RandomNormal(stddev=0.01))(box)
        cls = separable_bn(stem, width, name=f"{n}_cls")
        cls = keras.layers.Conv2D(anchors * num_classes, 1, name=f"{n}_cls_out",
                                  kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
                                  bias_initializer=keras.initializers.Constant(prior))(cls)
        box_outputs.append(keras.layers.Reshape((-1, 4), name=f"{n}_box_flat")(box))
        class_outputs.append(keras.layers.Reshape((-1, num_classes), name=f"{n}_cls_flat")(cls))
    return [keras.layers.Concatenate(axis=1, name="box_deltas")(box_outputs),
            keras.layers.Concatenate(axis=1, name="class_logits")(class_outputs)]
