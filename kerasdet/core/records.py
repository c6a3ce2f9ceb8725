"""`ImageRecord`: one annotated image, as data loading produces it and evaluation consumes it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ImageRecord:
    image_path: str
    xml_path: str
    width: int  # of the pixels the boxes refer to (after EXIF rotation, when it applies)
    height: int
    boxes: np.ndarray  # (N, 4) float32 xmin, ymin, xmax, ymax in pixels
    labels: np.ndarray  # (N,) int32 indices into the class names
    difficult: np.ndarray  # (N,) bool, kept for evaluation
    apply_exif: bool = True
