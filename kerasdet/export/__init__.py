"""Export: a trained detector -> .tflite (int8, fp16, fp32) with decoding and NMS inside."""
from .tflite import FORMATS, export

__all__ = ["FORMATS", "export"]
