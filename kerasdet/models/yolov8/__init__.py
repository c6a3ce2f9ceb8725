"""YOLOv8-style head: anchor-free points, box sides as distributions over bins (DFL), task-aligned
label assignment (TOOD), BCE + CIoU + DFL loss."""
from .architecture import ARCHITECTURE

__all__ = ["ARCHITECTURE"]
