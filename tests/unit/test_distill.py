"""Distillation (train.distill_from): the teacher's loss term, and which checkpoints may teach."""
import numpy as np
import pytest

from kerasdet.config import ModelConfig
from kerasdet.core.input_size import InputSize
from kerasdet.models.architecture import get_architecture
from kerasdet.models.yolov8.box_coding import anchor_points
from kerasdet.train.teacher import load_teacher

from conftest import UNTRAINED_SIZE

BOXES = np.array([[[10, 10, 50, 60], [-1] * 4], [[30, 20, 90, 70], [40, 40, 60, 60]]], np.float32)
CLASSES = np.array([[2, -1], [0, 1]], np.float32)


ANCHORS = len(anchor_points(InputSize.of(96))[0])  # a 96x96 input's points
REG_MAX = get_architecture("yolov8").config.reg_max


def predictions_of(seed: int):
    """Box and class logits as a YOLOv8 head on a 96x96 input gives them, drawn at random: an
    untrained detector's are nearly constant (its last convolutions start near their biases), so
    two of them would barely differ."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 2, (2, ANCHORS, 4 * REG_MAX)).astype(np.float32),
            rng.normal(-2, 2, (2, ANCHORS, 3)).astype(np.float32)]


def test_the_distillation_term_is_zero_for_the_teacher_itself_and_shrinks_towards_it():
    loss = get_architecture("yolov8").loss(InputSize.of(96), 3, distill_weight=2.0)
    student, teacher = predictions_of(0), predictions_of(1)
    plain = loss(student, BOXES, CLASSES)
    assert "distill_loss" not in plain
    itself = loss(student, BOXES, CLASSES, student)
    assert abs(float(itself["distill_loss"])) < 1e-5
    np.testing.assert_allclose(float(itself["loss"]), float(plain["loss"]), rtol=1e-5)

    far = loss(student, BOXES, CLASSES, teacher)
    halfway = loss([(s + t) / 2 for s, t in zip(student, teacher)], BOXES, CLASSES, teacher)
    assert 0 < float(halfway["distill_loss"]) < float(far["distill_loss"])
    # the term enters the total at train.distill_weight, the ground truth's terms unchanged
    for name in ("box_loss", "class_loss", "dfl_loss"):
        np.testing.assert_allclose(float(far[name]), float(plain[name]), rtol=1e-5)
    np.testing.assert_allclose(float(far["loss"]), float(plain["loss"]) + 2.0 * float(far["distill_loss"]),
                               rtol=1e-5)


def test_a_teacher_must_match_the_model_anchor_by_anchor(untrained):
    path, card = untrained.path, untrained.card
    same = ModelConfig(arch=card.arch, alpha=1.0, input_size=UNTRAINED_SIZE, weights="none")
    if card.arch != "yolov8":
        with pytest.raises(ValueError, match=rf"distill_from {path}: model.arch {card.arch} has no distillation"):
            load_teacher(path, same, card.class_names)
        return
    teacher = load_teacher(path, same, card.class_names)
    assert not teacher.trainable_weights
    with pytest.raises(ValueError, match=rf"{path}.*input size \(height, width\) \(64, 64\) \(this model: \(96, 128\)\)"):
        load_teacher(path, ModelConfig(input_size=[128, 96]), card.class_names)
    with pytest.raises(ValueError, match=r"classes \['heart', 'star'\] \(this model: \['star', 'heart'\]\)"):
        load_teacher(path, same, ["star", "heart"])


def test_a_step_with_a_teacher_logs_its_term_and_leaves_the_teacher_as_it_was(untrained):
    if untrained.card.arch != "yolov8":
        pytest.skip("only yolov8 distils")
    from kerasdet.train import Trainer
    trainer = untrained.trainer
    teacher = load_teacher(untrained.path, trainer.cfg.model, untrained.card.class_names)
    before = [w.copy() for w in teacher.get_weights()]
    student = Trainer(trainer.cfg, num_classes=2, steps_per_epoch=1, teacher=teacher)
    images = np.random.default_rng(0).integers(0, 255, (2, UNTRAINED_SIZE, UNTRAINED_SIZE, 3), dtype=np.uint8)
    targets = {"boxes": BOXES / 96 * UNTRAINED_SIZE, "classes": np.minimum(CLASSES, 1)}
    losses = student.train_step(images, targets, backbone_frozen=True)
    assert set(losses) == {"loss", *student.loss_terms} and "distill_loss" in student.loss_terms
    assert losses["distill_loss"] > 0  # a newly built student does not predict what its teacher does
    assert all(np.array_equal(b, w) for b, w in zip(before, teacher.get_weights()))
