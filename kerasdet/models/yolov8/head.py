"""YOLOv8-style decoupled head: per level, a box branch (4 x reg_max distance bins) and a class
branch (logits), each concatenated over all anchor points: (B, A, 4 * reg_max) and (B, A, C).

Two outputs, not one: box-bin logits and class logits have different ranges, and int8 export
gives each tensor one quantization scale; sharing one would cost the class scores precision."""
from __future__ import annotations

import math

import keras

from ...core.input_size import InputSize
from ..common.backbones import STRIDES
from ..common.layers import separable_bn
from .config import YoloV8Config


def yolo_head(features, num_classes: int, width: int, input_size: InputSize, config: YoloV8Config,
              name: str = "head"):
    input_h, input_w = input_size.hw
    bins = 4 * config.reg_max
    box_outputs, class_outputs = [], []
    for level, (feature, stride) in enumerate(zip(features, STRIDES)):
        n = f"{name}_p{level + 3}"
        stem = separable_bn(feature, width, name=f"{n}_stem")  # shared by both branches: cheaper
        box = separable_bn(stem, width, name=f"{n}_box")
        box = keras.layers.Conv2D(bins, 1, name=f"{n}_box_out",
                                  bias_initializer=keras.initializers.Constant(1.0))(box)
        cls = separable_bn(stem, width, name=f"{n}_cls")
        # Prior-probability bias (as in RetinaNet / Ultralytics): about config.prior_objects objects per
        # image at start. KerasCV's YOLOV8 head starts at 0.5 and is one reason it fine-tunes so poorly.
        prior = math.log(config.prior_objects / num_classes / (input_h / stride * input_w / stride))
        cls = keras.layers.Conv2D(num_classes, 1, name=f"{n}_cls_out",
                                  bias_initializer=keras.initializers.Constant(prior))(cls)
        box_outputs.append(keras.layers.Reshape((-1, bins), name=f"{n}_box_flat")(box))
        class_outputs.append(keras.layers.Reshape((-1, num_classes), name=f"{n}_cls_flat")(cls))
    return [keras.layers.Concatenate(axis=1, name="box_logits")(box_outputs),
            keras.layers.Concatenate(axis=1, name="class_logits")(class_outputs)]
