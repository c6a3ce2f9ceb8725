"""`kerasdet export`: a `.keras` detector -> a self-describing `.tflite` (fp32, fp16 or int8).

int8 is post-training quantization (uint8 image in, per-channel weights) calibrated on real
training images letterboxed exactly as in training. The network is int8 from its first convolution
to its last; the decoding tail after it (softmax over box bins, expectation, pixel coordinates,
NMS) stays float, because quantized it cost most of the int8 file's accuracy. So does the
backbone's input normalization ([0, 255] -> [-1, 1], two elementwise ops on the image): in int8
its multiply came out on a scale of 3/255, so the network saw 170 of the image's 256 levels.
Measured: docs/results/2026-12-04-int8-input-normalization.md.
`keep_float` (`kerasdet export --keep-float REGEX`) leaves more layers float, by name: to find
which layers an int8 file loses accuracy in, or to run the early high-resolution layers in float
where the CPU's int8 kernels are slow there (docs/results/2026-12-06-keep-float.md).
Identical vectors (the per-channel zero points) are written once and inner tensor names dropped
(tflite/flatbuffer.py): outputs are unchanged to the bit, the file smaller.
The model card (class names, architecture, input convention, NMS settings) travels inside the
file: a zip with `kerasdet_card.json` and `labels.txt` appended to the flatbuffer, the TFLite
"associated files" convention (flatbuffer readers ignore trailing bytes). With the TFLite Model
Metadata written into the flatbuffer (metadata.py), MediaPipe Tasks' ObjectDetector loads the
file unchanged, class names included.

The input's shape is the shape of the frames the model will see (serving.py says why): by default
that of most training images (4:3 photos: 320 x 240), square when they have no common shape.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ..core.card import CARD_FILE, ModelCard, is_kerasdet_model
from ..core.files import check_new, write_bytes
from ..core.class_names import class_names_to_text
from ..core.input_size import InputSize
from ..core.letterbox import common_frame, letterbox, letterbox_shape
from ..core.tflite_outputs import OUTPUT_NAMES
from ..data.dataset import load_dataset
from ..data.discover import find_images, source_path
from ..data.errors import DataError, DataProblem
from ..data.images import image_header, oriented_size, read_rgb
from ..models.common.backbones import PREPROCESS_LAYER
from ..models.load import load_model
from .flatbuffer import compact_flatbuffer, name_io_and_add_metadata, op_output_names
from .metadata import LABELS_FILE, METADATA_NAME, object_detector_metadata
from .serving import serving_function

FORMATS = ("int8", "fp16", "fp32")


def _images(data: str | Path) -> list[tuple[str, bool, tuple[int, int] | None]]:
    """(path, apply_exif, (width, height) as the model sees it) of the images of `data`: a LabelImg source
    (its records know their sizes), or a folder or list of plain images (as good for calibration), each
    header read here so that an unreadable image is a problem naming it."""
    try:
        records = load_dataset(data, on_error="skip").records
    except DataError:
        records = []  # no annotations: plain images
    if records:
        return [(r.image_path, r.apply_exif, (r.width, r.height)) for r in records]
    found, problems = [], []
    for path in find_images(data):  # each header read now: an unreadable image is named before the conversion
        try:
            found.append((str(path), True, oriented_size(*image_header(path))))
        except OSError as err:
            problems.append(DataProblem(str(path), f"cannot be read for calibration: {err.strerror or err}"))
    if problems:
        raise DataError(problems, hint=f"Remove these files from {data}, or give --calib other images.")
    return found


def calibration_images(data: str | Path, shape: tuple[int, int], count: int = 200, seed: int = 0):
    """Up to `count` images of `data` letterboxed into `shape` (height, width) as the model sees them
    (no augmentation)."""
    found = _images(data)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(found), size=min(count, len(found)), replace=False)
    for i in chosen:
        path, apply_exif, _ = found[i]
        try:
            image, _ = letterbox(read_rgb(path, apply_exif), shape)
        except OSError as err:  # read_rgb names the file; an OSError of the OS (permissions) names it too
            reason = err.strerror or str(err).removeprefix(f"{path}: ")
            raise DataError([DataProblem(path, f"cannot be read for calibration: {reason}")],
                            hint=f"Remove it from {data}, or give --calib other images.") from None
        yield [image[None]]


def frame_shape(data: str | Path, input_size: InputSize) -> tuple[tuple[int, int], str]:
    """(height, width) of an input shaped like most images of `data`, letterboxed into the model's
    `input_size` (touching two of its sides), and a sentence saying why; the model's own shape when
    no shape is shared by half of them. Sizes are those after the EXIF rotation, as the model sees
    the images (a plain image's header is read for it)."""
    model_shape = input_size.hw
    sizes = [known or oriented_size(*image_header(path)) for path, _, known in _images(data)]
    frame, n = common_frame(sizes)
    if frame is None:
        return model_shape, f"the model's: no shape is shared by half of the {len(sizes)} images of {data}"
    shape, _ = letterbox_shape((frame[1], frame[0]), model_shape)
    return shape, f"the shape of {n} of the {len(sizes)} images of {data}"


def convert(model, card: ModelCard, fmt: str, calib_data: str | Path | None = None, calib_count: int = 200,
            input_shape: tuple[int, int] | None = None, keep_float: str | None = None) -> bytes:
    """The .tflite flatbuffer; `input_shape` (height, width), the card's input size by default.
    int8 only: `keep_float`, a regular expression matched at the start of each Keras layer name
    (nested models' layers included), names layers to leave float."""
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if keep_float and fmt != "int8":
        raise ValueError(f"--keep-float applies to int8 only; {fmt} is float throughout")
    kept_layers = float_layers(model, keep_float) if keep_float else []  # checked before the slow conversion
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    shape = input_shape or InputSize.of(card.input_size).hw
    # Freeze the weights into constants: left as resource variables, the int8 calibrator
    # fails on READ_VARIABLE nodes.
    frozen = convert_variables_to_constants_v2(serving_function(model, card, shape).get_concrete_function(),
                                               lower_control_flow=False)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if fmt == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif fmt == "int8":
        if calib_data is None:
            raise ValueError("int8 export needs calibration images: pass --calib DATA (training images)")
        float_nodes = _float_nodes(converter.convert(), model.name, kept_layers)  # named in the float conversion
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: calibration_images(calib_data, shape, calib_count)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                                               tf.lite.OpsSet.TFLITE_BUILTINS]
        # The quantization debugger is TensorFlow's way to leave chosen nodes in float.
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=lambda: calibration_images(calib_data, shape, 8),
            debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=float_nodes))
        return debugger.get_nondebug_quantized_model()
    return converter.convert()


def _float_nodes(float_flatbuffer: bytes, model_name: str, kept_layers: list[str]) -> list[str]:
    """Names of the ops the int8 file keeps float: the decoding tail after the Keras model (all
    outside its name scope), the input normalization (PREPROCESS_LAYER) and `kept_layers`. An op's
    name holds the scope of each layer it came from, suffixed _1, _2, ... at will."""
    layers = [PREPROCESS_LAYER, *kept_layers]
    scope = re.compile(rf"/({'|'.join(map(re.escape, layers))})(_\d+)?/")
    return sorted({name for name in op_output_names(float_flatbuffer)
                   if not name.startswith(model_name) or scope.search(name)})


def float_layers(model: keras.Model, pattern: str) -> list[str]:
    """Names of the layers of `model` and of the models nested in it that `pattern` matches at
    their start; an error when it matches none."""
    every = _layer_names(model)
    try:
        matched = [n for n in every if re.match(pattern, n)]
    except re.error as err:
        raise ValueError(f"--keep-float {pattern!r}: not a regular expression ({err})") from None
    if not matched:
        raise ValueError(f"--keep-float {pattern!r} matches no layer of {model.name}; its layers begin "
                         f"{', '.join(every[:12])}, ...")
    return matched


def _layer_names(model: keras.Model) -> list[str]:
    names = []
    for layer in model.layers:
        names.append(layer.name)
        if isinstance(layer, keras.Model):
            names += _layer_names(layer)
    return names


def attach_card(flatbuffer: bytes, card: ModelCard) -> bytes:
    """The flatbuffer with a zip appended holding labels.txt (for the metadata's label file) and
    the card. Fixed dates: the same model exports to the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in ((LABELS_FILE, class_names_to_text(card.class_names)), (CARD_FILE, card.to_json())):
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return flatbuffer + buffer.getvalue()


def with_metadata(flatbuffer: bytes, card: ModelCard) -> bytes:
    """Outputs named as MediaPipe looks them up, and the TFLite Model Metadata that describes them."""
    description = (f"kerasdet {card.arch} on {card.backbone} {card.alpha}, NMS inside; classes: "
                   f"{', '.join(card.class_names)}")
    metadata = object_detector_metadata(f"kerasdet {card.arch}", description)
    # the frozen serving function names its k-th output Identity_k (the first: Identity)
    outputs = {"Identity" + (f"_{k}" if k else ""): name for k, name in enumerate(OUTPUT_NAMES)}
    return name_io_and_add_metadata(flatbuffer, "image", outputs, {METADATA_NAME: metadata})


def export(model_path: str | Path, fmt: str = "int8", calib: str | Path | None = None,
           out: str | Path | None = None, calib_count: int = 200, input_shape: tuple[int, int] | None = None,
           keep_float: str | None = None) -> Path:
    """Write `<model>_<fmt>.tflite` beside the checkpoint (or to `out`); returns its path. A file already there
    is replaced only when it is a .tflite kerasdet exported (core/files.py: never a file of the user's).
    int8 calibrates on `calib`, by default the training data named in the model's card, and leaves
    the layers `keep_float` matches float (convert). The input is `input_shape` (height, width), by
    default shaped like most of those images (frame_shape)."""
    model_path = Path(model_path)
    out = Path(out) if out else model_path.with_name(f"{model_path.stem}_{fmt}.tflite")
    replace = is_kerasdet_model(out)
    check_new(out, replace)  # before the slow conversion: never a file of the user's
    model, card = load_model(model_path)
    data = calibration_data(model_path, card, calib, fmt)
    size = InputSize.of(card.input_size)
    if input_shape is None:
        input_shape, why = default_input_shape(data, size)
        print(f"input {input_shape[1]}x{input_shape[0]} ({why}); --input-shape WxH to choose")
    _check_input_shape(input_shape, size)
    flatbuffer = convert(model, card, fmt, data, calib_count, input_shape, keep_float)
    return write_bytes(out, attach_card(with_metadata(compact_flatbuffer(flatbuffer), card), card), replace)


def calibration_data(model_path: Path, card: ModelCard, calib: str | Path | None, fmt: str) -> str | Path | None:
    """`calib`, else the training data named in the card; None where that is not here and `fmt`
    needs no calibration (int8 does: then an error that says to pass --calib). A `calib` that is not
    here is an error whatever the format: the user named it."""
    if calib and not source_path(calib).exists():
        raise ValueError(f"--calib {calib}: no such file or folder")
    data = calib or card.training_data.get("train") or None
    if data is not None and not source_path(data).exists():
        if fmt == "int8":
            raise ValueError(f"{model_path} was trained on {data}, which is not here: pass --calib DATA "
                             "(a folder or list of training images) for int8 calibration")
        data = None
    return data


def default_input_shape(data: str | Path | None,
                        input_size: InputSize | int | list[int]) -> tuple[tuple[int, int], str]:
    """frame_shape of `data`, or the model's input size (also as a card writes it) when there are no images
    to say; and why."""
    size = InputSize.of(input_size)
    if data is None:
        return size.hw, "the model's: the training images are not here to say which shape they have"
    return frame_shape(data, size)


def _check_input_shape(shape: tuple[int, int], input_size: InputSize) -> None:
    """An input the serving graph can pad to the model's input: inside it, touching one of its sides."""
    height, width = shape
    model_h, model_w = input_size.hw
    if not (0 < height <= model_h and 0 < width <= model_w and (height == model_h or width == model_w)):
        raise ValueError(f"--input-shape {width}x{height}: the model's input is {model_w}x{model_h}; the shape must "
                         f"fit inside it with one side equal (e.g. {model_w}x{model_w * 3 // 4} for 4:3 frames "
                         f"into {model_w}x{model_h})")
