"""Path-aggregation feature pyramid (top-down then bottom-up), with depthwise-separable convs."""
from __future__ import annotations

import keras

from .layers import conv_bn, separable_bn, upsample2x


def _fuse(a, b, width: int, name: str):
    x = keras.layers.Concatenate(name=f"{name}_concat")([a, b])
    return separable_bn(conv_bn(x, width, 1, name=f"{name}_reduce"), width, name=f"{name}_block")


def pan_fpn(features, width: int, name: str = "neck"):
    """[C3, C4, C5] (strides 8, 16, 32) -> [P3, P4, P5], each `width` channels."""
    c3, c4, c5 = (conv_bn(f, width, 1, name=f"{name}_lateral{i + 3}") for i, f in enumerate(features))
    p4 = _fuse(upsample2x(c5, f"{name}_up5"), c4, width, f"{name}_td4")
    p3 = _fuse(upsample2x(p4, f"{name}_up4"), c3, width, f"{name}_td3")
    n4 = _fuse(separable_bn(p3, width, 2, name=f"{name}_down3"), p4, width, f"{name}_bu4")
    n5 = _fuse(separable_bn(n4, width, 2, name=f"{name}_down4"), c5, width, f"{name}_bu5")
    return [p3, n4, n5]
