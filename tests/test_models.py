"""Detector building blocks: builds, shapes, parameter budget, box coding, assignment, bad config."""
import numpy as np
import pytest

from kerasdet.config import ModelConfig
from kerasdet.models.backbones import WeightsError
from kerasdet.models.detector import build_detector
from kerasdet.models.assigner import task_aligned_assign
from kerasdet.models.box_coding import (REG_MAX, anchor_points, boxes_to_distances, distances_to_boxes)
from kerasdet.models.detector import count_params


@pytest.mark.parametrize("backbone, alpha", [("mobilenet_v2", 0.35), ("mobilenet_v3_small", 0.75),
                                             ("mobilenet_v3_large", 0.75)])
def test_each_backbone_builds_and_predicts(backbone, alpha):
    model = build_detector(ModelConfig(backbone=backbone, alpha=alpha, input_size=96, weights="none"), 3)
    points, _ = anchor_points(96)
    box_logits, class_logits = model(np.zeros((2, 96, 96, 3), np.float32))
    assert box_logits.shape == (2, len(points), 4 * REG_MAX) and class_logits.shape == (2, len(points), 3)


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


def test_bad_weights_file_names_the_key(tmp_path):
    with pytest.raises(WeightsError, match="model.weights: .*nothere.h5 is not a file"):
        build_detector(ModelConfig(weights=str(tmp_path / "nothere.h5"), input_size=96), 2)
    (tmp_path / "junk.weights.h5").write_bytes(b"not hdf5")
    with pytest.raises(Exception, match="junk.weights.h5|HDF5|signature"):
        build_detector(ModelConfig(weights=str(tmp_path / "junk.weights.h5"), input_size=96), 2)


def test_box_coding_round_trip():
    points, strides = anchor_points(64)
    boxes = np.tile(np.array([[10.0, 12.0, 40.0, 50.0]], np.float32), (len(points), 1))[None]
    inside = (points[:, 0] > 10) & (points[:, 0] < 40) & (points[:, 1] > 12) & (points[:, 1] < 50)
    d = np.asarray(boxes_to_distances(boxes, points, strides))
    back = np.asarray(distances_to_boxes(d, points, strides))[0]
    fits = inside & (np.asarray(d)[0].max(-1) < REG_MAX - 1.01)
    np.testing.assert_allclose(back[fits], boxes[0][fits], atol=1e-4)


def test_assigner_picks_anchors_inside_the_box_and_scores_by_alignment():
    points, _ = anchor_points(64)
    a = len(points)
    gt_boxes = np.array([[[8, 8, 40, 40], [-1, -1, -1, -1]]], np.float32)
    gt_classes = np.array([[1, -1]], np.float32)
    pred = np.tile(np.array([[8, 8, 40, 40]], np.float32), (a, 1))[None]  # perfect boxes everywhere
    scores = np.full((1, a, 2), 0.5, np.float32)
    boxes, target_scores, fg = (np.asarray(t) for t in task_aligned_assign(
        scores, pred, points, gt_classes, gt_boxes, num_classes=2, topk=5))
    inside = (points[:, 0] > 8) & (points[:, 0] < 40) & (points[:, 1] > 8) & (points[:, 1] < 40)
    assert 0 < fg[0].sum() <= 5 and (fg[0] <= inside).all()
    np.testing.assert_allclose(boxes[0][fg[0] > 0], [[8, 8, 40, 40]] * int(fg[0].sum()))
    assert (target_scores[0][fg[0] > 0, 1] > 0.99).all() and (target_scores[0][:, 0] == 0).all()
    assert (target_scores[0][fg[0] == 0] == 0).all()


def test_unimplemented_arch_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="model.arch"):
        build_detector(ModelConfig(arch="retinanet", input_size=96, weights="none"), 2)
