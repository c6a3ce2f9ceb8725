"""YOLOv8 loss: BCE on soft task-aligned class targets, CIoU and distribution focal loss on boxes.

Weights (YoloV8Config: 7.5 / 0.5 / 1.5) and normalisation by the sum of target scores follow
Ultralytics, which fine-tunes reliably on small sets; KerasCV's YOLOV8Detector drops the DFL term.

With a teacher (train.distill_from: a larger YOLOv8 on the same input), the model also learns the
teacher's predictions on the same augmented batch: its class probabilities at every anchor, and
its box-side distributions where the ground truth assigns a box (localization distillation,
Zheng et al., arXiv 2102.12252). Both are KL divergences, so they are zero when the student
matches the teacher, and weighted as the class and DFL terms they sit beside.
"""
from __future__ import annotations

from keras import ops

from ..common.boxes import ciou
from ..common.global_batch import global_batch_sum

from .assigner import task_aligned_assign
from .box_coding import boxes_to_distances, distances_to_boxes, expected_distances
from .config import YoloV8Config


def _distribution_focal_loss(box_logits, target_distances, reg_max: int):
    """Cross-entropy to the two bins around each target distance, weighted by closeness."""
    shape = ops.shape(box_logits)
    logits = ops.reshape(box_logits, (shape[0], shape[1], 4, reg_max))
    left = ops.floor(target_distances)
    w_right = target_distances - left
    log_probs = ops.log_softmax(logits, axis=-1)
    pick = lambda idx: ops.sum(log_probs * ops.one_hot(ops.cast(idx, "int32"), reg_max), axis=-1)  # noqa: E731
    return -ops.mean(pick(left) * (1 - w_right) + pick(left + 1) * w_right, axis=-1)  # (B, A)


def _binary_kl(teacher_logits, student_logits):
    """KL(teacher || student) of independent Bernoulli class scores, elementwise, from logits."""
    p = ops.sigmoid(teacher_logits)
    log_p, log_not_p = ops.log_sigmoid(teacher_logits), ops.log_sigmoid(-teacher_logits)
    log_q, log_not_q = ops.log_sigmoid(student_logits), ops.log_sigmoid(-student_logits)
    return p * (log_p - log_q) + (1 - p) * (log_not_p - log_not_q)


def _box_distribution_kl(teacher_logits, student_logits, reg_max: int, temperature: float):
    """KL(teacher || student) of each box side's bin distribution at `temperature`, times its
    square (so gradients keep their size), averaged over the four sides: (B, A)."""
    shape = ops.shape(student_logits)
    bins = lambda logits: ops.reshape(logits, (shape[0], shape[1], 4, reg_max)) / temperature  # noqa: E731
    log_t, log_s = ops.log_softmax(bins(teacher_logits), axis=-1), ops.log_softmax(bins(student_logits), axis=-1)
    return ops.mean(ops.sum(ops.exp(log_t) * (log_t - log_s), axis=-1), axis=-1) * temperature ** 2


def yolo_loss(predictions, gt_boxes, gt_classes, points, strides, num_classes: int, config: YoloV8Config,
              teacher=None, distill_weight: float = 1.0):
    """predictions (and `teacher`'s, when given): (box logits (B, A, 4 * reg_max), class logits (B, A, C)).
    Returns {"loss": weighted total, "box_loss", "class_loss", "dfl_loss"} (and "distill_loss",
    in the total times `distill_weight`, with a teacher), each a scalar."""
    box_logits, class_logits = predictions
    pred_boxes = distances_to_boxes(expected_distances(box_logits, config.reg_max), points, strides)
    target_boxes, target_scores, foreground = task_aligned_assign(
        ops.sigmoid(class_logits), pred_boxes, points, gt_classes, gt_boxes, num_classes, config)
    score_sum = ops.maximum(global_batch_sum(target_scores), 1.0)
    class_loss = ops.sum(ops.binary_crossentropy(target_scores, class_logits, from_logits=True)) / score_sum
    weight = ops.sum(target_scores, axis=-1) * foreground  # (B, A)
    box_loss = ops.sum((1.0 - ciou(target_boxes, pred_boxes)) * weight) / score_sum
    dfl = _distribution_focal_loss(box_logits, boxes_to_distances(target_boxes, points, strides, config.reg_max),
                                   config.reg_max)
    dfl_loss = ops.sum(dfl * weight) / score_sum
    total = config.box_weight * box_loss + config.class_weight * class_loss + config.dfl_weight * dfl_loss
    losses = {"box_loss": box_loss, "class_loss": class_loss, "dfl_loss": dfl_loss}
    if teacher is not None:
        teacher_box_logits, teacher_class_logits = teacher
        box_kl = _box_distribution_kl(teacher_box_logits, box_logits, config.reg_max, config.distill_temperature)
        distill = (config.class_weight * ops.sum(_binary_kl(teacher_class_logits, class_logits)) +
                   config.dfl_weight * ops.sum(box_kl * weight)) / score_sum
        losses["distill_loss"] = distill
        total = total + distill_weight * distill
    return {"loss": total, **losses}
