"""Drawing boxes and tiling pictures (preview, evaluation and detection pictures, the camera demo)."""
from __future__ import annotations

import colorsys

import cv2
import numpy as np

from .class_names import class_name
from .files import write_file


def class_color(index: int) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((index * 0.61803) % 1.0, 0.85, 0.95)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_boxes(image: np.ndarray, boxes, classes, class_names: list[str], scores=None,
               thickness: int = 2) -> np.ndarray:
    """Draw xyxy pixel boxes with class names (and scores) on a copy of an RGB image."""
    out = np.ascontiguousarray(image).copy()
    for i, (box, cls) in enumerate(zip(boxes, classes)):
        cls = int(cls)
        if cls < 0:
            continue
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        color = class_color(cls)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thickness)
        label = class_name(class_names, cls)
        if scores is not None:
            label += f" {float(scores[i]):.2f}"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        y_text = max(y1, th + 4)
        cv2.rectangle(out, (x1, y_text - th - 4), (x1 + tw + 4, y_text), color, -1)
        cv2.putText(out, label, (x1 + 2, y_text - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return out


def draw_caption(image: np.ndarray, text: str, scale: float = 0.45) -> np.ndarray:
    """White text on a black band in the top-left corner, in place. (A thicker dark copy under the
    text as an outline does not line up: Hershey fonts advance further per character when thicker.)"""
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(image, (0, 0), (w + 8, h + 8), (0, 0, 0), -1)
    cv2.putText(image, text, (4, h + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def tile(images: list[np.ndarray], columns: int) -> np.ndarray:
    """Same-size RGB images into one grid picture."""
    h, w = images[0].shape[:2]
    rows = -(-len(images) // columns)
    grid = np.full((rows * h, columns * w, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = img
    return grid


def save_rgb(path, image: np.ndarray) -> None:
    """A new picture, or one kerasdet wrote before (core/files.py), in the format its suffix names."""
    def save(tmp):
        if not cv2.imwrite(str(tmp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise OSError(f"cannot write {path}")
    write_file(path, save, needed=image.nbytes)
