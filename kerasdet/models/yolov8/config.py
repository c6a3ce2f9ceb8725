"""YOLOv8's hyper-parameters, in one frozen dataclass: the head, the label assignment and the loss
read them from the architecture's `config` (architecture.py). The defaults are kerasdet's settings,
after Ultralytics' (which fine-tunes reliably on small sets); they are not config keys."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class YoloV8Config:
    # Box coding (box_coding.py): each box side's distance from its anchor point is a distribution over
    # `reg_max` bins in stride units, so distances up to reg_max - 1 strides.
    reg_max: int = 16
    # The class branch's bias starts at about this many objects per image (head.py), so the thousands of
    # background anchors do not swamp the first steps; KerasCV's YOLOV8 head starts at 0.5.
    prior_objects: float = 5.0
    # Task-aligned assignment (assigner.py, TOOD): each box takes its `assign_topk` best-aligned anchor
    # points inside it, alignment = class score ** assign_alpha * IoU ** assign_beta.
    assign_topk: int = 10
    assign_alpha: float = 0.5
    assign_beta: float = 6.0
    # Loss weights (loss.py): CIoU, BCE on the soft class targets, distribution focal loss (Ultralytics').
    box_weight: float = 7.5
    class_weight: float = 0.5
    dfl_weight: float = 1.5
    # Distillation (train.distill_from) softens the box-side distributions by this before comparing them;
    # 10 is the LD paper's (and mmdetection's LDHead's) setting, the KL scaled by its square (Hinton et al.).
    distill_temperature: float = 10.0
