"""RetinaNet head: 9 anchors per location, IoU matching, focal loss + smooth L1 on box deltas."""
from .architecture import ARCHITECTURE

__all__ = ["ARCHITECTURE"]
