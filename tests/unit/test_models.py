"""Detector building blocks: builds, shapes, parameter budget, box coding, assignment, bad config."""
import numpy as np
import pytest

import keras
import tensorflow as tf

from kerasdet.config import ModelConfig
from kerasdet.core.input_size import InputSize
from kerasdet.core.registry import ARCHITECTURES, BACKBONES
from kerasdet.models.architecture import get_architecture
from kerasdet.models.common.backbones import WeightsError
from kerasdet.models.detector import build_detector, count_params
from kerasdet.models.retinanet.anchors import retinanet_anchors
from kerasdet.models.retinanet.box_coding import decode_deltas, encode_deltas
from kerasdet.models.retinanet.config import RetinaNetConfig
from kerasdet.models.retinanet.matcher import match_anchors
from kerasdet.models.yolov8.assigner import task_aligned_assign
from kerasdet.models.yolov8.box_coding import anchor_points, boxes_to_distances, distances_to_boxes
from kerasdet.models.yolov8.config import YoloV8Config
from kerasdet.train.fused_batchnorm import all_layers

REG_MAX = YoloV8Config().reg_max


@pytest.mark.parametrize("backbone", sorted(set(BACKBONES) - {"mobilenet_v2"}))  # v2: tests/unit/test_architectures.py
def test_each_backbone_builds_with_three_pyramid_levels(backbone):
    model = build_detector(ModelConfig(backbone=backbone, alpha=0.75, input_size=96, weights="none"), 3)
    box_out, class_logits = model(np.zeros((1, 96, 96, 3), np.float32))
    assert box_out.shape == (1, len(anchor_points(InputSize.of(96))[0]), 4 * REG_MAX) and class_logits.shape[-1] == 3


def test_mobilenet_v2_full_width_stays_under_5m_parameters():
    model = build_detector(ModelConfig(alpha=1.0, input_size=320, weights="none"), 6)
    assert count_params(model) < 5_000_000


def test_local_weights_file_is_loaded(tmp_path):
    import keras
    ref = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=None)
    ref.save_weights(tmp_path / "w.weights.h5")
    model = build_detector(ModelConfig(alpha=0.35, input_size=96, weights=str(tmp_path / "w.weights.h5")), 2)
    inner = model.get_layer("backbone").get_layer("mobilenet_v2_backbone")
    np.testing.assert_array_equal(inner.get_layer("Conv1").get_weights()[0], ref.get_layer("Conv1").get_weights()[0])


def test_imagenet_takes_a_cached_file_offline(tmp_path, monkeypatch):
    """A shipped config says `weights: imagenet`; offline, a file in the kerasdet cache is that download."""
    import keras
    from kerasdet.models.common.backbones import cached_weights
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    ref = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=None)
    cached = cached_weights("mobilenet_v2", 0.35)
    assert cached == tmp_path / "kerasdet" / "mobilenet_v2_0.35_224_no_top.weights.h5"
    cached.parent.mkdir()
    ref.save_weights(cached)
    model = build_detector(ModelConfig(alpha=0.35, input_size=96, weights="imagenet"), 2)
    inner = model.get_layer("backbone").get_layer("mobilenet_v2_backbone")
    np.testing.assert_array_equal(inner.get_layer("Conv1").get_weights()[0], ref.get_layer("Conv1").get_weights()[0])


def test_bad_weights_file_names_the_key(tmp_path):
    with pytest.raises(WeightsError, match="model.weights: .*nothere.h5 is not a file"):
        build_detector(ModelConfig(weights=str(tmp_path / "nothere.h5"), input_size=96), 2)
    (tmp_path / "junk.weights.h5").write_bytes(b"not hdf5")
    with pytest.raises(Exception, match="junk.weights.h5|HDF5|signature"):
        build_detector(ModelConfig(weights=str(tmp_path / "junk.weights.h5"), input_size=96), 2)


def test_box_coding_round_trip():
    points, strides = anchor_points(InputSize.of(64))
    boxes = np.tile(np.array([[10.0, 12.0, 40.0, 50.0]], np.float32), (len(points), 1))[None]
    inside = (points[:, 0] > 10) & (points[:, 0] < 40) & (points[:, 1] > 12) & (points[:, 1] < 50)
    d = np.asarray(boxes_to_distances(boxes, points, strides, REG_MAX))
    back = np.asarray(distances_to_boxes(d, points, strides))[0]
    fits = inside & (np.asarray(d)[0].max(-1) < REG_MAX - 1.01)
    np.testing.assert_allclose(back[fits], boxes[0][fits], atol=1e-4)


def test_assigner_picks_anchors_inside_the_box_and_scores_by_alignment():
    points, _ = anchor_points(InputSize.of(64))
    a = len(points)
    gt_boxes = np.array([[[8, 8, 40, 40], [-1, -1, -1, -1]]], np.float32)
    gt_classes = np.array([[1, -1]], np.float32)
    pred = np.tile(np.array([[8, 8, 40, 40]], np.float32), (a, 1))[None]  # perfect boxes everywhere
    scores = np.full((1, a, 2), 0.5, np.float32)
    boxes, target_scores, fg = (np.asarray(t) for t in task_aligned_assign(
        scores, pred, points, gt_classes, gt_boxes, num_classes=2, config=YoloV8Config(assign_topk=5)))
    inside = (points[:, 0] > 8) & (points[:, 0] < 40) & (points[:, 1] > 8) & (points[:, 1] < 40)
    assert 0 < fg[0].sum() <= 5 and (fg[0] <= inside).all()
    np.testing.assert_allclose(boxes[0][fg[0] > 0], [[8, 8, 40, 40]] * int(fg[0].sum()))
    assert (target_scores[0][fg[0] > 0, 1] > 0.99).all() and (target_scores[0][:, 0] == 0).all()
    assert (target_scores[0][fg[0] == 0] == 0).all()


def test_nms_keeps_every_class_an_anchor_hesitates_between_and_old_cards_keep_the_best():
    from kerasdet.core.postprocess import NMS_SETTINGS
    from kerasdet.models.detector import detection_nms
    boxes = tf.constant([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 60, 60]], tf.float32)
    scores = tf.constant([[0.6, 0.5, 0.0], [0.4, 0.0, 0.0], [0.0, 0.0, 0.0005]], tf.float32)

    def found(nms):
        _, found_scores, found_classes, count = (t.numpy() for t in detection_nms(boxes, scores, nms))
        return sorted((round(float(s), 3), int(c)) for s, c in zip(found_scores[:count], found_classes[:count]))

    # anchor 0 as class 0 and as class 1; anchor 1 is class 0 too and overlaps anchor 0 (IoU 0.81): NMS
    # drops it; anchor 2 scores under the threshold
    assert found(NMS_SETTINGS) == [(0.5, 1), (0.6, 0)]
    old_card = {k: v for k, v in NMS_SETTINGS.items() if k != "multi_label"} | {"best_class_per_anchor": True}
    assert found(old_card) == [(0.6, 0)]


def test_unknown_arch_is_a_clear_error():
    with pytest.raises(ValueError, match="model.arch: 'ssd' is not one of yolov8, retinanet"):
        build_detector(ModelConfig(arch="ssd", input_size=96, weights="none"), 2)


def test_retinanet_anchor_matching_and_box_coding():
    config = RetinaNetConfig()
    anchors = retinanet_anchors(InputSize.of(64), config)
    assert anchors.shape == (len(anchor_points(InputSize.of(64))[0]) * 9, 4)
    gt_boxes = np.array([[[4, 4, 36, 36], [50, 50, 54, 54], [-1] * 4]], np.float32)  # the 2nd is tiny
    gt_classes = np.array([[1, 0, -1]], np.float32)
    boxes, classes, weight = (np.asarray(t) for t in match_anchors(anchors, gt_boxes, gt_classes, config))
    assert (classes[0] == 1).sum() >= 1 and (classes[0] == 0).sum() >= 1  # the tiny box claims its best
    assert (classes[0] == -1).sum() > 0.9 * len(anchors)
    np.testing.assert_allclose(boxes[0][classes[0] == 1], [[4, 4, 36, 36]] * int((classes[0] == 1).sum()))
    assert set(np.unique(weight)) <= {0.0, 1.0}
    deltas = encode_deltas(boxes, anchors, config.box_variance)
    np.testing.assert_allclose(np.asarray(decode_deltas(deltas, anchors, config.box_variance))[0][classes[0] >= 0],
                               boxes[0][classes[0] >= 0], atol=1e-3)


def _batchnorm_moving_means(model):
    return {layer.name: layer.moving_mean.numpy().copy()
            for layer in all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)}


@pytest.mark.parametrize("pretrained", [True, False])
def test_backbone_batchnorm_keeps_pretrained_statistics_but_learns_from_scratch(tmp_path, pretrained):
    # Keras 3 ignores `training=False` given to a nested model once the outer model is called with
    # training=True: only a non-trainable BatchNorm stays in inference mode.
    weights = "none"
    if pretrained:
        ref = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=None)
        ref.save_weights(tmp_path / "w.weights.h5")
        weights = str(tmp_path / "w.weights.h5")
    model = build_detector(ModelConfig(alpha=0.35, input_size=96, weights=weights), 2)
    before = _batchnorm_moving_means(model)
    images = np.random.default_rng(0).uniform(0, 255, (2, 96, 96, 3)).astype(np.float32)
    model(images, training=True)
    changed = {name for name, mean in _batchnorm_moving_means(model).items() if not np.array_equal(mean, before[name])}
    backbone_bn = {name for name in before if not name.startswith(("neck", "head"))}
    assert backbone_bn and {name for name in before if name.startswith("neck")} <= changed
    assert (changed & backbone_bn == set()) if pretrained else (backbone_bn <= changed)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_loss_is_the_same_with_or_without_box_padding(arch):
    model = build_detector(ModelConfig(arch=arch, input_size=96, alpha=0.35, weights="none"), 3)
    predictions = model(np.random.default_rng(1).uniform(0, 255, (2, 96, 96, 3)).astype(np.float32))
    boxes = np.array([[[10, 10, 50, 60], [-1] * 4], [[30, 20, 90, 70], [40, 40, 60, 60]]], np.float32)
    classes = np.array([[2, -1], [0, 1]], np.float32)
    padded_boxes = np.concatenate([boxes, np.full((2, 30, 4), -1, np.float32)], axis=1)
    padded_classes = np.concatenate([classes, np.full((2, 30), -1, np.float32)], axis=1)
    loss = get_architecture(arch).loss(InputSize.of(96), 3)
    padded, plain = loss(predictions, padded_boxes, padded_classes), loss(predictions, boxes, classes)
    assert set(padded) == {"loss", *get_architecture(arch).loss_terms}
    np.testing.assert_allclose([float(padded[k]) for k in padded], [float(plain[k]) for k in padded], rtol=1e-5)
    empty = loss(predictions, np.full((2, 32, 4), -1, np.float32), np.full((2, 32), -1, np.float32))
    assert np.isfinite(float(empty["loss"])) and float(empty["box_loss"]) == 0.0


def test_upsample2x_repeats_rows_and_columns_as_nearest_neighbour():
    from kerasdet.models.common.layers import upsample2x
    inputs = keras.Input((3, 5, 4))
    x = np.random.default_rng(0).random((2, 3, 5, 4)).astype(np.float32)
    out = keras.Model(inputs, upsample2x(inputs, "up")).predict(x, verbose=0)
    np.testing.assert_array_equal(out, np.repeat(np.repeat(x, 2, axis=1), 2, axis=2))
