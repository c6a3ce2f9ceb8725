"""Letterbox: scale the longest side to the model input, pad bottom/right with grey.

The same function serves training, evaluation and inference, so boxes map back exactly:
original = letterboxed / scale.
"""
from __future__ import annotations

import cv2
import numpy as np

from .augment import PAD_VALUE


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Returns (size x size x 3 uint8 image, scale applied to the original pixels)."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    out = np.full((size, size, 3), PAD_VALUE, np.uint8)
    # INTER_LINEAR for both directions: 3x cheaper than INTER_AREA and what inference uses too
    out[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return out, scale
