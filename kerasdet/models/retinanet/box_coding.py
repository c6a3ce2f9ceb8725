"""RetinaNet box deltas: centre offset in anchor sizes and log size ratio, divided by the usual
variances (RetinaNetConfig.box_variance: 0.1, 0.1, 0.2, 0.2) so that targets come out near unit scale."""
from __future__ import annotations

from keras import ops


def _centre_size(boxes):
    return (boxes[..., :2] + boxes[..., 2:]) / 2, ops.maximum(boxes[..., 2:] - boxes[..., :2], 1e-3)


def encode_deltas(boxes, anchors, variance: tuple[float, ...]):
    """xyxy boxes (..., N, 4) relative to anchors (N, 4) -> deltas (..., N, 4)."""
    centre, size = _centre_size(boxes)
    a_centre, a_size = _centre_size(anchors)
    deltas = ops.concatenate([(centre - a_centre) / a_size, ops.log(size / a_size)], axis=-1)
    return deltas / ops.convert_to_tensor(variance, deltas.dtype)


def decode_deltas(deltas, anchors, variance: tuple[float, ...]):
    """Inverse of encode_deltas: deltas (..., N, 4) -> xyxy pixels."""
    deltas = deltas * ops.convert_to_tensor(variance, deltas.dtype)
    a_centre, a_size = _centre_size(anchors)
    centre = a_centre + deltas[..., :2] * a_size
    size = a_size * ops.exp(ops.minimum(deltas[..., 2:], 4.0))  # exp(4): 55x the anchor at most
    return ops.concatenate([centre - size / 2, centre + size / 2], axis=-1)
