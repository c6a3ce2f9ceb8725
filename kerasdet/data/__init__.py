"""Data: LabelImg XML -> checked records -> augmented tf.data batches, plus data tools."""
from ..core.records import ImageRecord
from .dataset import DetectionDataset, load_dataset
from .errors import DataError, DataProblem

__all__ = ["DataError", "DataProblem", "DetectionDataset", "ImageRecord", "load_dataset"]
