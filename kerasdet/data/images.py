"""Image files: header-only size and EXIF orientation, and decoding to RGB uint8."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
_EXIF_ORIENTATION = 0x0112
_ORIENTATIONS_THAT_SWAP_AXES = (5, 6, 7, 8)


def image_header(path: str | Path) -> tuple[int, int, int]:
    """(width, height, exif_orientation) of the stored pixels, without decoding them.

    Raises OSError (with the reason) for a file that is not a readable image.
    """
    try:
        with Image.open(path) as im:
            orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
            return im.width, im.height, int(orientation)
    except UnidentifiedImageError:
        raise OSError("not a readable image") from None


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    """Size after the EXIF rotation is applied."""
    return (height, width) if orientation in _ORIENTATIONS_THAT_SWAP_AXES else (width, height)


def read_rgb(path: str | Path, apply_exif: bool = True) -> np.ndarray:
    """Decode any image (grayscale, RGBA, PNG, JPEG) to an HxWx3 RGB uint8 array.

    `apply_exif=False` keeps the stored pixel order, for annotations made on the unrotated pixels.
    """
    flags = cv2.IMREAD_COLOR if apply_exif else cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    bgr = cv2.imread(str(path), flags)
    if bgr is None:
        raise OSError(f"{path}: cannot decode image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def list_images(folder: str | Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir()
                  if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
