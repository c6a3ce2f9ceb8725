"""RetinaNet's hyper-parameters, in one frozen dataclass: the anchors, the matcher, the box coding,
the head and the loss read them from the architecture's `config` (architecture.py). The defaults are
RetinaNet's (arXiv 1708.02002) as keras-hub and KerasCV set them; they are not config keys."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetinaNetConfig:
    # Anchors (anchors.py): at each location, every scale x aspect ratio (h/w) of a square
    # `anchor_size` strides wide; at input 320 that covers boxes of about 20 to 260 pixels.
    anchor_scales: tuple[float, ...] = (1.0, 2 ** (1 / 3), 2 ** (2 / 3))
    aspect_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    anchor_size: float = 4.0
    # Matching (matcher.py): IoU >= positive_iou is positive, < negative_iou background, between ignored.
    positive_iou: float = 0.5
    negative_iou: float = 0.4
    # Box deltas (box_coding.py) are divided by these variances, so targets come out near unit scale.
    box_variance: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.2)
    # The class branch's bias starts at this foreground probability (head.py): background swamps nothing.
    prior_probability: float = 0.01
    # Loss (loss.py): sigmoid focal loss, and smooth L1 on the variance-scaled deltas (KerasCV's l1_cutoff).
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    smooth_l1_beta: float = 1.0

    @property
    def anchors_per_location(self) -> int:
        return len(self.anchor_scales) * len(self.aspect_ratios)
