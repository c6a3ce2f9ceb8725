"""The architectures and backbones kerasdet builds, by name: config validation, the model builder,
serving/export, training logs and the benchmarks all read these tables.

An architecture is a package under kerasdet/models/ exposing `ARCHITECTURE` (a
`kerasdet.models.architecture.Architecture`, which holds its typed hyper-parameters); adding one is
its folder plus one line here. A backbone is one `BackboneSpec` line here: its contract with the
neck, read by kerasdet/models/common/backbones.py. Names and strings only, so reading them loads
no Keras.
"""
from __future__ import annotations

from dataclasses import dataclass

ARCHITECTURES = {
    "yolov8": "kerasdet.models.yolov8",
    "retinanet": "kerasdet.models.retinanet",
}


@dataclass(frozen=True)
class BackboneSpec:
    """One backbone's contract with the neck: the keras.applications constructor, and the layers whose
    outputs are P3, P4, P5 (strides 8, 16, 32: models/common/backbones.py's STRIDES); None: the deepest
    layer of each stride, found in the built model."""
    constructor: str
    taps: tuple[str, str, str] | None = None
    own_preprocessing: bool = False  # takes include_preprocessing (turned off: backbones.py's PREPROCESS_LAYER does it)


BACKBONES = {  # model.backbone's choices
    # MobileNetV2's taps are chosen for a small neck: the expansion layers carry rich features at few
    # channels, and at stride 32 the 320-channel projection avoids the 1280-channel head conv (wiring
    # `out_relu` into a YOLOv8 neck gave 39 M parameters).
    "mobilenet_v2": BackboneSpec("MobileNetV2", ("block_6_expand_relu", "block_13_expand_relu", "block_16_project")),
    "mobilenet_v3_small": BackboneSpec("MobileNetV3Small", own_preprocessing=True),
    "mobilenet_v3_large": BackboneSpec("MobileNetV3Large", own_preprocessing=True),
}

# Model sizes users pick by device (`model.preset`; README, "Choosing a model size"): each sets these
# `model` keys, and keys written beside the preset win. Measured in tools/frontier.py.
MODEL_PRESETS = {
    "nano": {"backbone": "mobilenet_v2", "alpha": 0.35, "input_size": 256, "neck_width": 64},
    "small": {"backbone": "mobilenet_v2", "alpha": 0.35, "input_size": 320, "neck_width": 64},
    "base": {"backbone": "mobilenet_v2", "alpha": 1.0, "input_size": 320, "neck_width": 96},
}
