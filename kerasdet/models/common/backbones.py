"""MobileNet feature extractors with three taps (strides 8, 16, 32) for the feature pyramid.

Built with keras.applications, whose `weights="imagenet"` is the real ImageNet download (cached by
Keras in ~/.keras/models); `weights=PATH` loads a local file, `weights="none"` starts from scratch.
Offline, "imagenet" also takes a Keras `.weights.h5` of the backbone placed in the cache folder
`cached_weights` names (~/.keras/kerasdet/), so one config serves online and offline machines.
KerasCV's MobileNetV3 backbones are not used: their constructors call Kaggle even without
weights, so they cannot be built offline.
"""
from __future__ import annotations

import os
from pathlib import Path

import keras

from ...core.input_size import InputSize
from ...core.registry import BACKBONES

STRIDES = (8, 16, 32)  # the pyramid levels P3, P4, P5 that the neck and every head work on
PREPROCESS_LAYER = "preprocess"  # the [0, 255] -> [-1, 1] Rescaling; the int8 export keeps it float (tflite/convert.py)


class WeightsError(ValueError):
    pass


def _last_layer_per_stride(model: keras.Model, height: int) -> tuple[str, ...]:
    """For MobileNetV3: the deepest layer whose output has each of STRIDES."""
    taps = {}
    for layer in model.layers:
        shape = layer.output.shape if hasattr(layer, "output") else None
        if shape is not None and len(shape) == 4 and shape[1]:
            stride = height // shape[1]
            if stride in STRIDES:
                taps[stride] = layer.name
    return tuple(taps[s] for s in STRIDES)


def cached_weights(name: str, alpha: float) -> Path:
    """Where "imagenet" weights are looked for before the download: KERAS_HOME (default ~/.keras)/kerasdet/
    <backbone>_<alpha>_224_no_top.weights.h5, e.g. mobilenet_v2_1.0_224_no_top.weights.h5."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "kerasdet" / f"{name}_{float(alpha)}_224_no_top.weights.h5"


def build_backbone(name: str, alpha: float, input_size: InputSize, weights: str) -> keras.Model:
    """A model from float images in [0, 255] of `input_size` to [P3, P4, P5] feature maps, tapped where
    core/registry.py's `BACKBONES` says. ImageNet weights do not depend on the input size."""
    shape = (*input_size.hw, 3)
    if weights not in ("imagenet", "none") and not Path(weights).is_file():
        raise WeightsError(f"model.weights: {weights} is not a file")
    cached = cached_weights(name, alpha)
    source = str(cached) if weights == "imagenet" and cached.is_file() else weights
    spec = BACKBONES[name]
    kwargs = {"input_shape": shape, "alpha": alpha, "include_top": False,
              "weights": None if source == "none" else source}
    if spec.own_preprocessing:
        kwargs["include_preprocessing"] = False  # V3 normalizes as V2 does: our PREPROCESS_LAYER below
    try:
        base = getattr(keras.applications, spec.constructor)(**kwargs)
    except ValueError as err:
        raise WeightsError(f"model.weights: cannot load {source!r} into {name} alpha {alpha}: {err}") from None
    except Exception as err:  # the download: no network, proxy, ...
        if source != "imagenet":
            raise
        raise WeightsError(
            f"model.weights: imagenet download for {name} alpha {alpha} failed ({type(err).__name__}: {err}). "
            f"Offline? Put a Keras .weights.h5 of this backbone at {cached}, or set model.weights to its "
            "path") from None
    for layer in base.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        if weights == "none":
            # keras.applications uses BatchNorm momentum 0.999: trained from scratch for a few
            # hundred steps, the moving statistics would still be at their initial values and
            # inference (which uses them) would see a different network than training did.
            layer.momentum = 0.9
        else:
            # Pretrained: keep the ImageNet statistics (batches of 16 small images would only
            # blur them). Keras 3 runs a BatchNormalization in inference mode only when the layer
            # is not trainable; `backbone(x, training=False)` inside a functional model does not
            # survive an outer `model(x, training=True)`. Batch statistics at 160x160 also cost
            # a third of the training step on 2 cores.
            layer.trainable = False
    taps = spec.taps or _last_layer_per_stride(base, shape[0])
    images = keras.Input(shape, name="images")
    x = images
    # keras.applications.mobilenet_v2.preprocess_input, and MobileNetV3's include_preprocessing: [-1, 1]
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name=PREPROCESS_LAYER)(x)
    extractor = keras.Model(base.input, [base.get_layer(t).output for t in taps], name=f"{name}_backbone")
    return keras.Model(images, extractor(x), name="backbone")
