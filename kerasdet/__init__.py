"""kerasdet: small, fast object detectors from LabelImg annotations, with Keras 3.

The package reads as the pipeline: config -> data -> models -> runtime (running a model, Keras or
exported) -> train -> evaluate -> export (tflite/) -> infer, over a dependency-free core (core/). Everything here is imported on first use, so
`from kerasdet import TFLiteDetector` loads neither TensorFlow nor albumentations.
"""
import importlib
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations must not call the network

_API = {  # public name -> module that defines it
    "Config": "kerasdet.config", "ConfigError": "kerasdet.config", "load_config": "kerasdet.config",
    "DataError": "kerasdet.data.errors", "load_dataset": "kerasdet.data.dataset",
    "ModelCard": "kerasdet.core.card", "Detections": "kerasdet.core.detections",
    "fit": "kerasdet.train.fit", "export": "kerasdet.tflite.convert",
    "detect": "kerasdet.infer.detect", "select_detections": "kerasdet.runtime.select",
    "TFLiteDetector": "kerasdet.runtime.tflite_detector",
}
__all__ = sorted(_API)


def __getattr__(name):
    if name == "__version__":
        from .core.card import kerasdet_version
        return kerasdet_version()
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'kerasdet' has no attribute {name!r}")


def __dir__():
    return __all__ + ["__version__"]
