"""kerasdet's box maths against KerasCV's (the optional `kerascv` extra): anchors, RetinaNet box
deltas, CIoU and YOLOv8 anchor points. Skipped as a whole when keras_cv is not installed.

Where the two libraries use different conventions (anchor order, delta order, coordinate units),
the KerasCV side is rearranged here, and each test says what differs.
"""
import pytest

keras_cv = pytest.importorskip("keras_cv")

import math  # noqa: E402

import numpy as np  # noqa: E402
from keras import ops  # noqa: E402
# Not exported in keras_cv 0.9.0's public API (only used by its own label encoders):
from keras_cv.src.bounding_box.converters import (  # noqa: E402
    _decode_deltas_to_boxes, _encode_box_to_deltas)
from keras_cv.src.models.object_detection.yolo_v8.yolo_v8_detector import get_anchors  # noqa: E402

from kerasdet.core.input_size import InputSize  # noqa: E402
from kerasdet.models.common.boxes import ciou  # noqa: E402
from kerasdet.models.retinanet.anchors import retinanet_anchors  # noqa: E402
from kerasdet.models.retinanet.box_coding import decode_deltas, encode_deltas  # noqa: E402
from kerasdet.models.retinanet.config import RetinaNetConfig  # noqa: E402
from kerasdet.models.yolov8.box_coding import anchor_points  # noqa: E402

STRIDES = (8, 16, 32)
SCALES = [1.0, 2 ** (1 / 3), 2 ** (2 / 3)]
RETINANET = RetinaNetConfig()  # anchor_size 4.0, the scales above, ratios (h/w) 0.5, 1, 2
VARIANCE = RETINANET.box_variance


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), np.float64)


def _random_boxes(rng, n, low=0.0, high=320.0, min_size=2.0, max_size=200.0):
    xy = rng.uniform(low, high, (n, 2))
    wh = rng.uniform(min_size, max_size, (n, 2))
    return np.concatenate([xy, xy + wh], -1).astype(np.float32)


@pytest.mark.parametrize("input_size", [96, 320])
def test_retinanet_anchors_match_kerascv_anchor_generator(input_size):
    # KerasCV: aspect ratio = width / height, yxyx, per location scale-major
    #   (for s in scales: for a in aspect_ratios).
    # kerasdet: ratio = height / width, xyxy, per location ratio-major (for r in ratios: for s in scales).
    # So kerasdet's ratios (0.5, 1, 2) are KerasCV's (2, 1, 0.5), and the 3 x 3 anchor types of
    # each location are transposed. Locations are row-major in both. (KerasCV also counts
    # ceil(size / stride) locations per side where kerasdet counts floor; equal at these sizes.)
    ours = retinanet_anchors(InputSize.of(input_size), RETINANET, strides=STRIDES)
    generator = keras_cv.layers.AnchorGenerator(
        bounding_box_format="xyxy", sizes=[4.0 * s for s in STRIDES], scales=SCALES,
        aspect_ratios=[2.0, 1.0, 0.5], strides=list(STRIDES))
    levels = generator(image_shape=(input_size, input_size, 3))
    theirs = []
    for level, stride in enumerate(STRIDES):
        cells = (input_size // stride) ** 2
        anchors = _np(levels[level]).reshape(cells, len(SCALES), 3, 4)  # (location, scale, ratio, xyxy)
        theirs.append(anchors.transpose(0, 2, 1, 3).reshape(-1, 4))  # -> (location, ratio, scale)
    theirs = np.concatenate(theirs)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-3)


def test_retinanet_deltas_match_kerascv_encode_and_decode():
    # KerasCV's deltas are in center_yxhw order (dy, dx, log h, log w) / variance; kerasdet's are
    # (dx, dy, log w, log h) / variance. With VARIANCE = (0.1, 0.1, 0.2, 0.2) the swap commutes.
    # Degenerate sizes differ (kerasdet floors sizes at 1e-3 px, KerasCV at keras epsilon 1e-7),
    # and kerasdet's decode caps the log size ratio at 4; the random boxes here reach neither.
    rng = np.random.default_rng(0)
    anchors = retinanet_anchors(InputSize.of(96), RETINANET)
    boxes = np.stack([_random_boxes(rng, len(anchors), -20, 100, 4, 90) for _ in range(2)])  # (2, N, 4)
    ours = _np(encode_deltas(boxes, anchors, VARIANCE))
    theirs = _np(_encode_box_to_deltas(anchors=anchors, boxes=boxes, anchor_format="xyxy",
                                       box_format="xyxy", variance=VARIANCE))
    yx_order = [1, 0, 3, 2]
    np.testing.assert_allclose(ours[..., yx_order], theirs, rtol=1e-5, atol=1e-5)

    deltas = rng.normal(0, 1, boxes.shape).astype(np.float32)
    ours = _np(decode_deltas(deltas, anchors, VARIANCE))
    theirs = _np(_decode_deltas_to_boxes(anchors=anchors, boxes_delta=deltas[..., yx_order],
                                         anchor_format="xyxy", box_format="xyxy", variance=VARIANCE))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(_np(decode_deltas(encode_deltas(boxes, anchors, VARIANCE), anchors, VARIANCE)), boxes,
                               rtol=1e-5, atol=1e-3)


def _reference_ciou(b1, b2, aspect_term_scale):
    """CIoU in float64 (Zheng et al., arXiv 1911.08287). v = scale * (atan(w2/h2) - atan(w1/h1))^2
    with scale 4/pi^2 in the paper and in Keras; KerasCV squares the 4/pi^2 too."""
    b1, b2 = b1.astype(np.float64), b2.astype(np.float64)
    w1, h1 = b1[..., 2] - b1[..., 0], b1[..., 3] - b1[..., 1]
    w2, h2 = b2[..., 2] - b2[..., 0], b2[..., 3] - b2[..., 1]
    iw = np.clip(np.minimum(b1[..., 2], b2[..., 2]) - np.maximum(b1[..., 0], b2[..., 0]), 0, None)
    ih = np.clip(np.minimum(b1[..., 3], b2[..., 3]) - np.maximum(b1[..., 1], b2[..., 1]), 0, None)
    inter = iw * ih
    iou = inter / (w1 * h1 + w2 * h2 - inter)
    cw = np.maximum(b1[..., 2], b2[..., 2]) - np.minimum(b1[..., 0], b2[..., 0])
    ch = np.maximum(b1[..., 3], b2[..., 3]) - np.minimum(b1[..., 1], b2[..., 1])
    centre_d2 = ((b1[..., 0] + b1[..., 2] - b2[..., 0] - b2[..., 2]) ** 2
                 + (b1[..., 1] + b1[..., 3] - b2[..., 1] - b2[..., 3]) ** 2) / 4
    v = aspect_term_scale * (np.arctan(w2 / h2) - np.arctan(w1 / h1)) ** 2
    alpha = v / (v - iou + 1)
    return iou - centre_d2 / (cw ** 2 + ch ** 2) - alpha * v


def test_ciou_against_kerascv():
    # The two are the same formula except for the aspect-ratio term
    # v = (4/pi^2) * (atan(w2/h2) - atan(w1/h1))^2 of the paper: keras.utils.bounding_boxes
    # (which kerasdet uses) has it right; keras_cv 0.9.0 computes ((4/pi^2) * (...))^2, i.e. a v
    # smaller by 4/pi^2 = 0.405. The epsilons (1e-7, at the same places in both) do not matter
    # at pixel scale. So the results agree exactly when both boxes have the same aspect ratio,
    # and otherwise each matches its own formula; no single tolerance would be honest: on boxes
    # of very different shapes the two differ by up to ~0.37 (on near matches, the loss regime, by
    # 1e-3 at most).
    rng = np.random.default_rng(1)
    b1, b2 = _random_boxes(rng, 4000), _random_boxes(rng, 4000)
    b1, b2 = b1.reshape(2, 2000, 4), b2.reshape(2, 2000, 4)
    ours = _np(ciou(b1, b2))
    theirs = _np(keras_cv.bounding_box.compute_ciou(b1, b2, bounding_box_format="xyxy"))
    assert ours.shape == theirs.shape == (2, 2000)
    np.testing.assert_allclose(ours, _reference_ciou(b1, b2, 4 / math.pi ** 2), rtol=0, atol=1e-5)
    np.testing.assert_allclose(theirs, _reference_ciou(b1, b2, (4 / math.pi ** 2) ** 2), rtol=0, atol=1e-5)

    # same shapes (aspect term zero): identical
    centres = rng.uniform(0, 300, (500, 2))
    wh = rng.uniform(2, 150, (500, 2))
    wh2 = wh * rng.uniform(0.3, 3, (500, 1))
    centres2 = centres + rng.normal(0, 30, (500, 2))
    s1 = np.concatenate([centres - wh / 2, centres + wh / 2], -1).astype(np.float32)
    s2 = np.concatenate([centres2 - wh2 / 2, centres2 + wh2 / 2], -1).astype(np.float32)
    np.testing.assert_allclose(_np(ciou(s1, s2)),
                               _np(keras_cv.bounding_box.compute_ciou(s1, s2, bounding_box_format="xyxy")),
                               rtol=0, atol=1e-4)
    # a box with itself: 1 in both
    np.testing.assert_allclose(_np(ciou(b1, b1)), 1.0, atol=1e-5)


@pytest.mark.parametrize("input_size", [96, 320, 640])
def test_yolov8_anchor_points_match_kerascv_get_anchors(input_size):
    # KerasCV's get_anchors returns centres in units of their own stride (multiply by the strides
    # to get pixels), x then y; order is level, then row-major, as in kerasdet. (It counts
    # ceil(size / stride) points per side, kerasdet floor; equal for multiples of 32.)
    points, strides = anchor_points(InputSize.of(input_size), strides=STRIDES)
    kcv_points, kcv_strides = get_anchors(image_shape=(input_size, input_size, 3), strides=list(STRIDES))
    kcv_strides = _np(kcv_strides)
    np.testing.assert_array_equal(strides, kcv_strides)
    np.testing.assert_allclose(points, _np(kcv_points) * kcv_strides[:, None], rtol=0, atol=1e-4)
