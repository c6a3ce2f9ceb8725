"""YOLOv8 as a kerasdet `Architecture`: the head, its loss and its decoding in one place, with its
hyper-parameters (config.py)."""
from __future__ import annotations

import tensorflow as tf

from ..architecture import Architecture
from .box_coding import anchor_points, distances_to_boxes, expected_distances
from .config import YoloV8Config
from .head import yolo_head
from .loss import yolo_loss


class YOLOv8(Architecture):
    name = "yolov8"
    loss_terms = ("box_loss", "class_loss", "dfl_loss")
    distills = True
    config_class = YoloV8Config
    config: YoloV8Config

    def build_head(self, features, num_classes, width, input_size):
        return yolo_head(features, num_classes, width, input_size, self.config)

    def loss_fn(self, input_size, num_classes, distill_weight: float = 1.0):
        points, strides = (tf.constant(a) for a in anchor_points(input_size))
        return lambda predictions, boxes, classes, teacher=None: yolo_loss(
            predictions, boxes, classes, points, strides, num_classes, self.config, teacher, distill_weight)

    def decode_boxes(self, box_outputs, input_size):
        points, strides = anchor_points(input_size)
        return distances_to_boxes(expected_distances(box_outputs, self.config.reg_max), points, strides)


ARCHITECTURE = YOLOv8()
