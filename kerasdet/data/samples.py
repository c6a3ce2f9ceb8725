"""One training or evaluation sample: decode -> augment -> letterbox -> boxes padded with -1.

Pure NumPy/OpenCV, so previews and tools use it without TensorFlow.
"""
from __future__ import annotations

import numpy as np

from ..config import AugmentConfig
from ..core.letterbox import letterbox
from ..core.records import ImageRecord
from .augment import build_augmentation
from .cache import ImageCache
from .dataset import DetectionDataset
from .images import read_rgb


DECODE_HEADROOM = 4  # pictures are decoded at most this many times the input size: room for zoom-in crops


class SampleLoader:
    """index -> (letterboxed uint8 image, boxes (max_boxes, 4), classes (max_boxes,)), padded with -1.

    A large photo is shrunk while it is decoded (to DECODE_HEADROOM x the input size), so memory and the
    cache hold what training needs, not a 50-megapixel original; its boxes are scaled with it.
    """

    def __init__(self, dataset: DetectionDataset, input_size: int, max_boxes: int,
                 augment: AugmentConfig | None = None, cache: ImageCache | None = None, seed: int | None = None):
        self.records = dataset.records
        self.input_size = input_size
        self.max_boxes = max_boxes
        self.transform = build_augmentation(augment, seed) if augment is not None else None
        self.cache = cache

    def image(self, record: ImageRecord, index: int) -> np.ndarray:
        load = lambda: read_rgb(record.image_path, record.apply_exif,  # noqa: E731
                                max_side=DECODE_HEADROOM * self.input_size,
                                longest_side=max(record.width, record.height))
        return self.cache.get(index, load) if self.cache is not None else load()

    def __len__(self) -> int:
        return len(self.records)

    def __call__(self, index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        index = int(index)
        record = self.records[index]
        image, labels = self.image(record, index), record.labels
        boxes = record.boxes * np.array([image.shape[1] / record.width, image.shape[0] / record.height] * 2,
                                        np.float32)
        if self.transform is not None:
            out = self.transform(image=image, bboxes=boxes, labels=labels)
            image = out["image"]
            boxes = np.asarray(out["bboxes"], np.float32).reshape(-1, 4)
            labels = np.asarray(out["labels"], np.int32)
        image, scale = letterbox(image, self.input_size)
        return image, *self._pad(boxes * scale, labels)

    def _pad(self, boxes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = min(len(boxes), self.max_boxes)
        padded_boxes = np.full((self.max_boxes, 4), -1, np.float32)
        padded_classes = np.full((self.max_boxes,), -1, np.float32)
        padded_boxes[:n] = boxes[:n]
        padded_classes[:n] = labels[:n]
        return padded_boxes, padded_classes


def box_slots(dataset: DetectionDataset, max_boxes: int) -> int:
    """Boxes per training sample: data.max_boxes, or more when an image holds more, so that no
    box is dropped (the loss only looks at the slots a batch uses, so spare slots cost nothing)."""
    crowded = max(dataset.records, key=lambda r: len(r.boxes), default=None)
    most = len(crowded.boxes) if crowded is not None else 0
    if most > max_boxes:
        print(f"data.max_boxes is {max_boxes} but {crowded.xml_path} has {most} boxes: "
              f"padding to {most} so that none is dropped")
    return max(most, max_boxes)
