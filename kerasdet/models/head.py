"""YOLOv8-style decoupled head: per level, a box branch (4 x REG_MAX distance bins) and a class
branch (logits), concatenated over all anchor points into one (B, A, 4 * REG_MAX + C) tensor."""
from __future__ import annotations

import math

import keras

from .box_coding import REG_MAX
from .layers import separable_bn


def yolo_head(features, num_classes: int, width: int, input_size: int, name: str = "head"):
    outputs = []
    for level, (feature, stride) in enumerate(zip(features, (8, 16, 32))):
        n = f"{name}_p{level + 3}"
        stem = separable_bn(feature, width, name=f"{n}_stem")  # shared by both branches: cheaper
        box = separable_bn(stem, width, name=f"{n}_box")
        box = keras.layers.Conv2D(4 * REG_MAX, 1, name=f"{n}_box_out",
                                  bias_initializer=keras.initializers.Constant(1.0))(box)
        cls = separable_bn(stem, width, name=f"{n}_cls")
        # Prior-probability bias (as in RetinaNet / Ultralytics): about 5 objects per image at
        # start, so the thousands of background anchors do not swamp the first steps.
        # KerasCV's YOLOV8 head starts at 0.5 and is one reason it fine-tunes so poorly.
        prior = math.log(5 / num_classes / (input_size / stride) ** 2)
        cls = keras.layers.Conv2D(num_classes, 1, name=f"{n}_cls_out",
                                  bias_initializer=keras.initializers.Constant(prior))(cls)
        out = keras.layers.Concatenate(name=f"{n}_concat")([box, cls])
        outputs.append(keras.layers.Reshape((-1, 4 * REG_MAX + num_classes), name=f"{n}_flat")(out))
    return keras.layers.Concatenate(axis=1, name="predictions")(outputs)
