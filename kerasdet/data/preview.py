"""`kerasdet preview`: a grid of augmented training images with their boxes, as the model sees them."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import Config
from ..core.draw import draw_boxes, save_rgb, tile
from .dataset import load_dataset
from .samples import SampleLoader, box_slots


def preview_augmentations(cfg: Config, out: str | Path, n: int = 16, columns: int = 4,
                          seed: int = 0, dataset=None) -> Path:
    """`dataset`: cfg.data.train, loaded already (else read here)."""
    ds = dataset or load_dataset(cfg.data.train, cfg.data.classes or None, cfg.data.on_error)
    loader = SampleLoader(ds, cfg.model.input_size, box_slots(ds, cfg.data.max_boxes, cfg.augment), cfg.augment,
                          seed=seed)
    rng = np.random.default_rng(seed)
    pictures = []
    for index in rng.choice(len(loader), size=n, replace=len(loader) < n):
        image, boxes, classes = loader(index)
        pictures.append(draw_boxes(image, boxes, classes, ds.class_names))
    out = Path(out)
    save_rgb(out, tile(pictures, columns))  # a new file, or one kerasdet wrote: never a photo of the user's
    return out
