"""Using a trained model: batch detection with CSV / LabelImg output, and the real-time loop."""
from .detect import detect
from ..runtime.select import select_detections
from .sources import SourceError, open_source

__all__ = ["SourceError", "detect", "open_source", "select_detections"]
