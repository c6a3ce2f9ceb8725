"""Box geometry on tensors (keras.ops), shared by the architectures' losses and assigners."""
from __future__ import annotations

from keras import ops
from keras.utils import bounding_boxes


def pairwise_iou(a, b):
    """a (..., M, 1, 4), b (..., 1, A, 4) xyxy -> IoU (..., M, A) in [0, 1]."""
    lt = ops.maximum(a[..., :2], b[..., :2])
    rb = ops.minimum(a[..., 2:], b[..., 2:])
    inter = ops.prod(ops.maximum(rb - lt, 0.0), axis=-1)
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter + 1e-9)


def ciou(boxes1, boxes2):
    """Complete IoU (arXiv 1911.08287) of matching xyxy boxes (..., 4) -> (...): Keras' own
    implementation (keras.utils.bounding_boxes). KerasCV 0.9.0's squares the paper's 4/pi^2 in the
    aspect-ratio term (0.405x of it); tests/test_kerascv_reference.py shows both."""
    return bounding_boxes.compute_ciou(boxes1, boxes2, bounding_box_format="xyxy")
