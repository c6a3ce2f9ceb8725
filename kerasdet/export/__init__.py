"""Export: a trained detector -> .tflite (int8, fp16, fp32) with decoding and NMS inside."""
import sys
import types

from .tflite import FORMATS, export

__all__ = ["FORMATS", "export"]


class _CallablePackage(types.ModuleType):
    """`kerasdet.export(...)` calls `export`: the package and the function share the name."""

    def __call__(self, *args, **kwargs):
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
