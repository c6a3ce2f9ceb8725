"""Training augmentation: one albumentations Compose built from `augment.*` in the config."""
from __future__ import annotations

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no version check over the network

import random  # noqa: E402

import albumentations as A  # noqa: E402
import cv2  # noqa: E402

from ..config import AugmentConfig  # noqa: E402
from ..core.letterbox import PAD_VALUE  # noqa: E402


MOSAIC_KEY = "mosaic_metadata"  # the call's list of other samples: dicts of image, bboxes, labels
MOSAIC_GRID = (2, 2)
MOSAIC_IMAGES = MOSAIC_GRID[0] * MOSAIC_GRID[1]
# How runtimes shrink a frame to the model's input, besides kerasdet's bilinear letterbox: MediaPipe
# (Python, Android, iOS, the web) samples pixels (nearest: a 2x shrink is exactly im[0::2, 0::2]),
# image libraries average (area), browsers' canvases often filter (cubic).
RUNTIME_RESIZES = (cv2.INTER_NEAREST, cv2.INTER_AREA, cv2.INTER_CUBIC)


def resize_interpolation(rng: random.Random, p: float) -> int:
    """The interpolation that shrinks one training picture to the model input: with probability `p`
    (augment.resize) one of RUNTIME_RESIZES, else bilinear as evaluation and TFLiteDetector use.
    Outside the Compose because the resize is the letterbox that evaluation shares."""
    return rng.choice(RUNTIME_RESIZES) if p and rng.random() < p else cv2.INTER_LINEAR


def build_augmentation(cfg: AugmentConfig, seed: int | None = None,
                       mosaic_size: tuple[int, int] | None = None) -> A.Compose:
    """Boxes in pascal_voc pixels travel with the image; cut boxes below `min_visibility` are
    dropped together with their labels (label_fields keeps the two aligned). With `mosaic_size`,
    each call first tiles the image with three others from MOSAIC_KEY on a MOSAIC_GRID of
    mosaic_size (height, width) cells, each picture letterboxed whole into its cell, and keeps a
    mosaic_size window around a random centre (YOLOv4's mosaic); the caller decides how often (`augment.mosaic`), since
    the others must be decoded first."""
    mosaic = (A.Mosaic(grid_yx=MOSAIC_GRID, target_size=mosaic_size, cell_shape=mosaic_size, fit_mode="contain",
                       fill=PAD_VALUE, metadata_key=MOSAIC_KEY, p=1.0) if mosaic_size else A.NoOp(p=0))
    transforms = [
        mosaic,
        A.BBoxSafeRandomCrop(erosion_rate=0.0, p=cfg.crop),
        A.Affine(scale=tuple(cfg.scale), translate_percent=(-cfg.translate, cfg.translate),
                 border_mode=0, fill=PAD_VALUE, p=cfg.affine),
        A.HorizontalFlip(p=cfg.hflip),
        A.ColorJitter(brightness=cfg.brightness, contrast=cfg.contrast, saturation=cfg.saturation,
                      hue=cfg.hue, p=cfg.color_jitter),
        A.ToGray(num_output_channels=3, p=cfg.gray),
    ]
    return A.Compose(
        [t for t in transforms if t.p > 0],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"],
                                 min_visibility=cfg.min_visibility, clip=True,
                                 # a box cut at the picture's edge to under a pixel (Mosaic keeps
                                 # some: its visibility is judged before the final window) holds no anchor
                                 min_width=1, min_height=1),
        seed=seed,
    )
