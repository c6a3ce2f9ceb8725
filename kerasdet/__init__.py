"""kerasdet: small, fast object detectors from LabelImg annotations, with Keras 3.

The package reads as the pipeline: config -> data -> models -> train -> evaluate -> export -> infer.
"""
import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations must not call the network

from .config import Config, ConfigError, load_config  # noqa: E402
from .data import DataError, load_dataset  # noqa: E402

__version__ = "0.1.0"
__all__ = ["Config", "ConfigError", "DataError", "TFLiteDetector", "detect", "export", "fit", "load_config",
           "load_dataset"]


def __getattr__(name):
    if name == "TFLiteDetector":  # lazily: LiteRT loads only when asked for
        from .models.tflite_predictor import TFLiteDetector
        return TFLiteDetector
    if name == "detect":
        from .infer import detect
        return detect
    raise AttributeError(f"module 'kerasdet' has no attribute {name!r}")


def fit(config, out=None, resume=None, overrides=None, quiet=False):
    """Train a detector from a Config or YAML path; see kerasdet.train.fit (imported lazily:
    TensorFlow loads only when training is asked for)."""
    from .train import fit as _fit
    return _fit(config, out=out, resume=resume, overrides=overrides, quiet=quiet)
