"""The model input convention: RGB, the longest side scaled to the input size, padded bottom and
right with grey. Training, evaluation, export calibration and every runtime use this one
function, so boxes map back exactly: original = letterboxed / scale.
"""
from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

PAD_VALUE = 114  # grey fill for letterbox and affine borders, as YOLO trainers use
INPUT_CONVENTION = {"color": "RGB", "range": [0, 255], "resize": "letterbox", "align": "top-left",
                    "pad_value": PAD_VALUE, "interpolation": "linear"}  # written into every model card


def letterbox_shape(shape: tuple[int, int], size: tuple[int, int]) -> tuple[tuple[int, int], float]:
    """((height, width) of a `shape` (height, width) image scaled to fit inside `size`, the scale)."""
    (h, w), (height, width) = shape, size
    scale = min(height / h, width / w)
    return (min(height, max(1, round(h * scale))), min(width, max(1, round(w * scale)))), scale


def common_frame(sizes: list[tuple[int, int]]) -> tuple[tuple[int, int] | None, int]:
    """(A (width, height) of the aspect ratio most of `sizes` share, how many share it); (None, n)
    when no aspect is shared by more than half of them."""
    aspects = Counter(round(w / h, 2) for w, h in sizes).most_common(1)
    if not aspects or aspects[0][1] * 2 <= len(sizes):
        return None, aspects[0][1] if aspects else 0
    ratio, n = aspects[0]
    return next((w, h) for w, h in sizes if round(w / h, 2) == ratio), n


def letterbox(image: np.ndarray, size: int | tuple[int, int],
              interpolation: int = cv2.INTER_LINEAR) -> tuple[np.ndarray, float]:
    """Returns (size x size x 3 uint8 image, scale applied to the original pixels). `size` may be a
    (height, width): the image is scaled to fit inside it and the result is height x width x 3 (an
    exported model's input, serving.py). Training passes other `interpolation`s now and then
    (augment.resize): runtimes resize frames their own way."""
    height, width = (size, size) if np.ndim(size) == 0 else size
    (new_h, new_w), scale = letterbox_shape(image.shape[:2], (height, width))
    out = np.full((height, width, 3), PAD_VALUE, np.uint8)
    # INTER_LINEAR by default, both directions: 3x cheaper than INTER_AREA
    out[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    return out, scale
