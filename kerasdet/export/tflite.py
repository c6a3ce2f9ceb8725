"""`kerasdet export`: a `.keras` detector -> a self-describing `.tflite` (fp32, fp16 or int8).

int8 is post-training quantization (uint8 image in, per-channel weights) calibrated on real
training images letterboxed exactly as in training. The whole network is int8; the decoding
tail after it (softmax over box bins, expectation, pixel coordinates, NMS) stays float: quantized,
it cost 4.9 mAP@0.5 and 14.2 mAP@[.5:.95] points on hands, float it costs 0.7 and 0.9.
Identical vectors (the per-channel zero points) are written once and inner tensor names dropped
(export/flatbuffer.py): outputs are unchanged to the bit, the int8 file is 13% smaller.
Class names travel inside the file: a zip with `labels.txt` appended to the flatbuffer, the
TFLite "associated files" convention (flatbuffer readers ignore trailing bytes).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from ..data.dataset import class_names_to_text, load_dataset, read_class_names
from ..data.images import read_rgb
from ..data.letterbox import letterbox
from .flatbuffer import compact_flatbuffer, op_output_names
from .serving import serving_function

FORMATS = ("int8", "fp16", "fp32")


def calibration_images(data: str | Path, size: int, count: int = 200, seed: int = 0):
    """Up to `count` training images, letterboxed as the model sees them (no augmentation)."""
    records = load_dataset(data).records
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(records), size=min(count, len(records)), replace=False)
    for i in chosen:
        image, _ = letterbox(read_rgb(records[i].image_path, records[i].apply_exif), size)
        yield [image[None]]


def convert(model, fmt: str, calib_data: str | Path | None = None, calib_count: int = 200) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    # Freeze the weights into constants: left as resource variables, the int8 calibrator
    # fails on READ_VARIABLE nodes.
    frozen = convert_variables_to_constants_v2(serving_function(model).get_concrete_function(),
                                               lower_control_flow=False)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if fmt == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif fmt == "int8":
        if calib_data is None:
            raise ValueError("int8 export needs calibration images: pass --calib DATA (training images)")
        size = int(model.input_shape[1])
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


def attach_labels(flatbuffer: bytes, class_names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("labels.txt", class_names_to_text(class_names))
    return flatbuffer + buffer.getvalue()


def export(model_path: str | Path, fmt: str = "int8", calib: str | Path | None = None,
           out: str | Path | None = None, calib_count: int = 200) -> Path:
    """Write MODEL_<fmt>.tflite beside the checkpoint (or to `out`); returns its path."""
    import keras
    model_path = Path(model_path)
    model = keras.saving.load_model(model_path)
    class_names = read_class_names(model_path.parent)
    if calib is None and fmt == "int8":
        config = model_path.parent / "config.yaml"
        if config.exists():  # the run's own training data
            from ..config import load_config
            calib = load_config(config, check_paths=False).data.train or None
    data = compact_flatbuffer(convert(model, fmt, calib, calib_count))
    out = Path(out) if out else model_path.with_name(f"{model_path.stem}_{fmt}.tflite")
    out.write_bytes(attach_labels(data, class_names))
    return out
