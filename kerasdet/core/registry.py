"""The architectures and backbones kerasdet builds, by name: config validation, the model builder,
serving/export, training logs and the benchmarks all read these tables.

An architecture is a package under kerasdet/models/ exposing `ARCHITECTURE` (a
`kerasdet.models.architecture.Architecture`); adding one is its folder plus one line here.
Names only, so reading them loads no Keras.
"""
from __future__ import annotations

ARCHITECTURES = {
    "yolov8": "kerasdet.models.yolov8",
    "retinanet": "kerasdet.models.retinanet",
}

# Each backbone's contract (its keras.applications constructor, the layers it is tapped at) is
# kerasdet/models/common/backbones.py's `BACKBONE_SPECS`; here, the names config validation takes.
BACKBONES = ("mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large")

# Model sizes users pick by device (`model.preset`; README, "Choosing a model size"): each sets these
# `model` keys, and keys written beside the preset win. Measured in tools/frontier.py.
MODEL_PRESETS = {
    "nano": {"backbone": "mobilenet_v2", "alpha": 0.35, "input_size": 256, "neck_width": 64},
    "small": {"backbone": "mobilenet_v2", "alpha": 0.35, "input_size": 320, "neck_width": 64},
    "base": {"backbone": "mobilenet_v2", "alpha": 1.0, "input_size": 320, "neck_width": 96},
}
