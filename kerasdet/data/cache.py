"""`ImageCache`: decoded images kept in memory up to a budget (`data.cache_gb`), so a small set is
decoded once and a large one cannot fill the machine: past the budget, images are decoded each
time they are used, and a message says so once.

Entries are what the caller stores (the training loader's are already shrunk to at most
DECODE_HEADROOM x the input size), so the budget counts what training needs, not the originals.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

class ImageCache:
    def __init__(self, budget_gb: float, name: str = "images"):
        self.budget, self.name = budget_gb * 1e9, name
        self.used, self.full = 0, False
        self._images: dict = {}

    def __len__(self) -> int:
        return len(self._images)

    def get(self, key, load: Callable[[], np.ndarray]) -> np.ndarray:
        image = self._images.get(key)
        if image is not None:
            return image
        image = load()
        if self.used + image.nbytes <= self.budget:
            self._images[key] = image
            self.used += image.nbytes
        elif not self.full:
            self.full = True
            print(f"{self.name}: the image cache is full ({self.used / 1e9:.1f} GB, data.cache_gb "
                  f"{self.budget / 1e9:g}): {len(self._images)} images stay in memory, the others are decoded "
                  "each time they are used")
        return image
