"""Models: MobileNet backbones, a light PAN neck and a YOLOv8-style head, built from the config."""
from .backbones import WeightsError, build_backbone
from .detector import best_class_nms, build_detector, decode_boxes_and_scores

__all__ = ["WeightsError", "best_class_nms", "build_backbone", "build_detector", "decode_boxes_and_scores"]
