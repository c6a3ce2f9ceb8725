"""`kerasdet export`: a `.keras` detector -> a self-describing `.tflite` (fp32, fp16 or int8).

int8 is post-training quantization (uint8 image in, per-channel weights) calibrated on real
training images letterboxed exactly as in training. The whole network is int8; the decoding
tail after it (softmax over box bins, expectation, pixel coordinates, NMS) stays float: quantized,
it cost 4.9 mAP@0.5 and 14.2 mAP@[.5:.95] points on hands, float it costs 0.7 and 0.9.
Identical vectors (the per-channel zero points) are written once and inner tensor names dropped
(export/flatbuffer.py): outputs are unchanged to the bit, the int8 file is 13% smaller.
The model card (class names, architecture, input convention, NMS settings) travels inside the
file: a zip with `kerasdet_card.json` and `labels.txt` appended to the flatbuffer, the TFLite
"associated files" convention (flatbuffer readers ignore trailing bytes).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..core.card import CARD_FILE, ModelCard
from ..core.class_names import class_names_to_text
from ..core.letterbox import letterbox
from ..data.dataset import load_dataset
from ..data.discover import find_images, source_path
from ..data.errors import DataError
from ..data.images import read_rgb
from ..models.load import load_model
from .flatbuffer import compact_flatbuffer, op_output_names
from .serving import serving_function

FORMATS = ("int8", "fp16", "fp32")


def calibration_images(data: str | Path, size: int, count: int = 200, seed: int = 0):
    """Up to `count` images of `data` (a LabelImg source, or plain images), letterboxed as the model
    sees them (no augmentation)."""
    try:
        found = [(r.image_path, r.apply_exif) for r in load_dataset(data, on_error="skip").records]
    except DataError:  # no annotations: a folder or list of plain images is as good for calibration
        found = [(str(p), True) for p in find_images(data)]
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(found), size=min(count, len(found)), replace=False)
    for i in chosen:
        image, _ = letterbox(read_rgb(*found[i]), size)
        yield [image[None]]


def convert(model, card: ModelCard, fmt: str, calib_data: str | Path | None = None, calib_count: int = 200) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    # Freeze the weights into constants: left as resource variables, the int8 calibrator
    # fails on READ_VARIABLE nodes.
    frozen = convert_variables_to_constants_v2(serving_function(model, card).get_concrete_function(),
                                               lower_control_flow=False)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if fmt == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif fmt == "int8":
        if calib_data is None:
            raise ValueError("int8 export needs calibration images: pass --calib DATA (training images)")
        size = card.input_size
        tail = _decoding_tail_nodes(converter.convert(), model.name)  # from the float conversion
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: calibration_images(calib_data, size, calib_count)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                               tf.lite.OpsSet.TFLITE_BUILTINS]
        # The quantization debugger is TensorFlow's way to leave chosen nodes in float.
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=lambda: calibration_images(calib_data, size, 8),
            debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=tail))
        return debugger.get_nondebug_quantized_model()
    return converter.convert()


def _decoding_tail_nodes(float_flatbuffer: bytes, model_name: str) -> list[str]:
    """Names of the ops after the Keras model (decoding and NMS): all outside its name scope."""
    return sorted({name for name in op_output_names(float_flatbuffer) if not name.startswith(model_name)})


LABELS_FILE = "labels.txt"  # the class names for people and TFLite tools; kerasdet reads the card


def attach_card(flatbuffer: bytes, card: ModelCard) -> bytes:
    """The flatbuffer with a zip appended holding the card and labels.txt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(LABELS_FILE, class_names_to_text(card.class_names))
        z.writestr(CARD_FILE, card.to_json())
    return flatbuffer + buffer.getvalue()


def export(model_path: str | Path, fmt: str = "int8", calib: str | Path | None = None,
           out: str | Path | None = None, calib_count: int = 200) -> Path:
    """Write MODEL_<fmt>.tflite beside the checkpoint (or to `out`); returns its path.
    int8 calibrates on `calib`, by default the training data named in the model's card."""
    model_path = Path(model_path)
    model, card = load_model(model_path)
    if calib is None and fmt == "int8":
        calib = card.training_data.get("train") or None
        if calib is not None and not source_path(calib).exists():
            raise ValueError(f"{model_path} was trained on {calib}, which is not here: pass --calib DATA "
                             "(a folder or list of training images) for int8 calibration")
    data = compact_flatbuffer(convert(model, card, fmt, calib, calib_count))
    out = Path(out) if out else model_path.with_name(f"{model_path.stem}_{fmt}.tflite")
    out.write_bytes(attach_card(data, card))
    return out
