"""RetinaNet as a kerasdet `Architecture`: the head, its loss and its decoding in one place, with its
hyper-parameters (config.py)."""
from __future__ import annotations

import tensorflow as tf

from ..architecture import Architecture
from .anchors import retinanet_anchors
from .box_coding import decode_deltas
from .config import RetinaNetConfig
from .head import retinanet_head
from .loss import retinanet_loss


class RetinaNet(Architecture):
    name = "retinanet"
    loss_terms = ("box_loss", "class_loss")
    config_class = RetinaNetConfig
    config: RetinaNetConfig

    def build_head(self, features, num_classes, width, input_size):
        return retinanet_head(features, num_classes, width, self.config)

    def loss_fn(self, input_size, num_classes):
        anchors = tf.constant(retinanet_anchors(input_size, self.config))
        return lambda predictions, boxes, classes: retinanet_loss(predictions, boxes, classes, anchors,
                                                                  num_classes, self.config)

    def decode_boxes(self, box_outputs, input_size):
        return decode_deltas(box_outputs, retinanet_anchors(input_size, self.config), self.config.box_variance)


ARCHITECTURE = RetinaNet()
