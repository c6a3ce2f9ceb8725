"""One training or evaluation sample: decode -> augment -> letterbox -> boxes padded with -1.

Pure NumPy/OpenCV, so previews and tools use it without TensorFlow.
"""
from __future__ import annotations

import random

import numpy as np

from ..config import AugmentConfig
from ..core.input_size import InputSize
from ..core.letterbox import letterbox
from ..core.records import ImageRecord
from .augment import MOSAIC_IMAGES, MOSAIC_KEY, build_augmentation, resize_interpolation
from .cache import ImageCache
from .dataset import DetectionDataset
from .images import read_rgb


DECODE_HEADROOM = 4  # pictures are decoded at most this many times the input size: room for zoom-in crops


class SampleLoader:
    """index -> (letterboxed uint8 image, boxes (max_boxes, 4), classes (max_boxes,)), padded with -1.

    A large photo is shrunk while it is decoded (to DECODE_HEADROOM x the input size), so memory and the
    cache hold what training needs, not a 50-megapixel original; its boxes are scaled with it.
    """

    def __init__(self, dataset: DetectionDataset, input_size: InputSize | int | list[int], max_boxes: int,
                 augment: AugmentConfig | None = None, cache: ImageCache | None = None, seed: int | None = None):
        self.records = dataset.records
        self.input_hw = InputSize.of(input_size).hw  # (height, width) of every sample
        self.max_boxes = max_boxes
        self.transform = build_augmentation(augment, seed) if augment is not None else None
        self.mosaic = augment.mosaic if augment is not None and len(self.records) > 1 else 0.0
        self.mosaic_transform = build_augmentation(augment, seed, mosaic_size=self.input_hw) if self.mosaic else None
        self.mosaic_enabled = True  # fit turns it off for the last augment.close_mosaic epochs
        self._rng = random.Random(seed)  # which samples are mosaics, and of which others
        self._resize_rng = random.Random(None if seed is None else seed + 1)  # how each is shrunk (augment.resize)
        self.resize = augment.resize if augment is not None else 0.0
        self.cache = cache

    def image(self, record: ImageRecord, index: int) -> np.ndarray:
        load = lambda: read_rgb(record.image_path, record.apply_exif,  # noqa: E731
                                max_side=DECODE_HEADROOM * max(self.input_hw),
                                longest_side=max(record.width, record.height))
        return self.cache.get(index, load) if self.cache is not None else load()

    def __len__(self) -> int:
        return len(self.records)

    def decoded(self, index: int) -> dict:
        """The picture as decoded (maybe shrunk: DECODE_HEADROOM) with its boxes in its pixels."""
        record = self.records[index]
        image = self.image(record, index)
        boxes = record.boxes * np.array([image.shape[1] / record.width, image.shape[0] / record.height] * 2,
                                        np.float32)
        return {"image": image, "bboxes": boxes, "labels": record.labels}

    def _mosaic_partners(self, index: int) -> list[dict] | None:
        """Three other samples to tile with this one, `augment.mosaic` of the time (else None)."""
        if not (self.mosaic_enabled and self.mosaic and self._rng.random() < self.mosaic):
            return None
        others = self._rng.sample(range(len(self.records) - 1), min(MOSAIC_IMAGES - 1, len(self.records) - 1))
        return [self.decoded(i + (i >= index)) for i in others]  # every index but this one

    def __call__(self, index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index = int(index)
        sample = self.decoded(index)
        image, boxes, labels = sample["image"], sample["bboxes"], sample["labels"]
        if self.transform is not None:
            partners = self._mosaic_partners(index)
            out = (self.transform(**sample) if partners is None else
                   self.mosaic_transform(**sample, **{MOSAIC_KEY: partners}))
            image = out["image"]
            boxes = np.asarray(out["bboxes"], np.float32).reshape(-1, 4)
            labels = np.asarray(out["labels"], np.int32)
        image, scale = letterbox(image, self.input_hw, resize_interpolation(self._resize_rng, self.resize))
        return image, *self._pad(boxes * scale, labels)

    def _pad(self, boxes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = min(len(boxes), self.max_boxes)
        padded_boxes = np.full((self.max_boxes, 4), -1, np.float32)
        padded_classes = np.full((self.max_boxes,), -1, np.float32)
        padded_boxes[:n] = boxes[:n]
        padded_classes[:n] = labels[:n]
        return padded_boxes, padded_classes


def box_slots(dataset: DetectionDataset, max_boxes: int, augment: AugmentConfig | None = None) -> int:
    """Boxes per training sample: data.max_boxes, or more when a sample can hold more (an image, or a
    mosaic of several), so that no box is dropped (the loss only looks at the slots a batch uses, so
    spare slots cost nothing)."""
    images_per_sample = MOSAIC_IMAGES if augment is not None and augment.mosaic else 1
    crowded = sorted(dataset.records, key=lambda r: len(r.boxes), reverse=True)[:images_per_sample]
    most = sum(len(r.boxes) for r in crowded)
    if most > max_boxes:
        where = crowded[0].xml_path if images_per_sample == 1 else f"a mosaic of {images_per_sample} images"
        print(f"data.max_boxes is {max_boxes} but {where} has {most} boxes: "
              f"padding to {most} so that none is dropped")
    return max(most, max_boxes)
