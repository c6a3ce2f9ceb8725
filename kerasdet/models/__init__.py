"""Models: MobileNet backbones, a light PAN neck and a YOLOv8-style head, built from the config."""
from .backbones import WeightsError, build_backbone
from .detector import build_detector, decode_boxes_and_scores, non_max_suppression

__all__ = ["WeightsError", "build_backbone", "build_detector", "decode_boxes_and_scores",
           "non_max_suppression"]
