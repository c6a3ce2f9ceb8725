"""RetinaNet anchors: at strides 8/16/32, 3 scales x 3 aspect ratios per location (RetinaNetConfig).

Base size 4 x stride, scales 2^(0, 1/3, 2/3), ratios (h/w) 0.5, 1, 2, as in RetinaNet
(arXiv 1708.02002) and keras-hub; at input 320 that covers boxes of about 20 to 260 pixels.
Order: level, then row-major location, then anchor type, matching retinanet_head's reshape.
"""
from __future__ import annotations

import numpy as np

from ...core.input_size import InputSize
from ..common.backbones import STRIDES
from .config import RetinaNetConfig


def retinanet_anchors(input_size: InputSize, config: RetinaNetConfig, strides=STRIDES) -> np.ndarray:
    """(N, 4) anchors, xyxy pixels of the model input."""
    height, width = input_size.hw
    base_scale = config.anchor_size
    anchors = []
    for stride in strides:
        sizes = [(base_scale * stride * s / np.sqrt(r), base_scale * stride * s * np.sqrt(r))
                 for r in config.aspect_ratios for s in config.anchor_scales]  # (width, height)
        ys, xs = np.meshgrid(np.arange(height // stride), np.arange(width // stride), indexing="ij")
        centres = (np.stack([xs.ravel(), ys.ravel()], 1) + 0.5) * stride  # (locations, 2)
        wh = np.array(sizes)  # (9, 2)
        level = np.concatenate([centres[:, None] - wh[None] / 2, centres[:, None] + wh[None] / 2], -1)
        anchors.append(level.reshape(-1, 4))
    return np.concatenate(anchors).astype("float32")
