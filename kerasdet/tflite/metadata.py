"""TFLite Model Metadata: what MediaPipe Tasks' ObjectDetector (Android, iOS, web, Python) and the
TFLite Task Library need to load a detector unchanged.

The metadata is a second flatbuffer (identifier "M001") stored in a model buffer and named by the
model's `TFLITE_METADATA` entry. MediaPipe reads from it: the input is an RGB image; the outputs
are, in the flatbuffer's output order, the tensors named `location`, `category`, `score` and
`number of detections`; the box corners' order and that they are ratios; and the class names, as
a TENSOR_VALUE_LABELS file on `category`, found in the zip appended to the .tflite (the file
export already appends, with the model card). MediaPipe's own writer
(mediapipe.tasks.python.metadata.metadata_writers.object_detector) does not import on NumPy 2,
so kerasdet writes the same tables with the schema module flatc generates (vendored/).
"""
from __future__ import annotations

import flatbuffers

from ..core.tflite_outputs import OUTPUT_NAMES
from .vendored import metadata_schema_py_generated as md

METADATA_NAME = "TFLITE_METADATA"  # the model.metadata entry runtimes look for
METADATA_IDENTIFIER = b"M001"  # metadata_schema.fbs file_identifier
LABELS_FILE = "labels.txt"  # class names, one a line, in the zip appended to the .tflite
# BoundingBoxProperties.index: where left, top, right, bottom sit in a row of `location` (yxyx)
BOX_INDEX = (1, 0, 3, 2)


def _tensor(name: str, description: str, content=None, files=None, process_units=None) -> md.TensorMetadataT:
    t = md.TensorMetadataT()
    t.name, t.description, t.content, t.associatedFiles, t.processUnits = (name, description, content, files,
                                                                           process_units)
    return t


def _content(kind: int, properties, value_range: md.ValueRangeT | None = None) -> md.ContentT:
    c = md.ContentT()
    c.contentPropertiesType, c.contentProperties, c.range = kind, properties, value_range
    return c


def object_detector_metadata(name: str, description: str) -> bytes:
    image = md.ImagePropertiesT()
    image.colorSpace = md.ColorSpaceType.RGB
    norm = md.NormalizationOptionsT()  # a uint8 input is fed as it is; mean 0 / std 1 says "raw 0-255"
    norm.mean, norm.std = [0.0], [1.0]
    unit = md.ProcessUnitT()
    unit.optionsType, unit.options = md.ProcessUnitOptions.NormalizationOptions, norm
    inp = _tensor("image", "RGB frame, stretched to the input (the model pads it bottom and right to its square)",
                  _content(md.ContentProperties.ImageProperties, image), process_units=[unit])

    detections = md.ValueRangeT()
    detections.min, detections.max = 2, 2  # the detection axis of (1, K, ...)
    box = md.BoundingBoxPropertiesT()
    box.index, box.type, box.coordinateType = list(BOX_INDEX), md.BoundingBoxType.BOUNDARIES, md.CoordinateType.RATIO
    labels = md.AssociatedFileT()
    labels.name, labels.description = LABELS_FILE, "class names, one a line"
    labels.type = md.AssociatedFileType.TENSOR_VALUE_LABELS
    described = {
        "location": _content(md.ContentProperties.BoundingBoxProperties, box, detections),
        "category": _content(md.ContentProperties.FeatureProperties, md.FeaturePropertiesT(), detections),
        "score": _content(md.ContentProperties.FeatureProperties, md.FeaturePropertiesT(), detections),
    }
    descriptions = {"location": "ymin, xmin, ymax, xmax as fractions of the input height and width",
                    "category": "class index (a row of labels.txt)", "score": "score of the class",
                    "number of detections": "how many rows of the others are detections"}
    outputs = [_tensor(n, descriptions[n], described.get(n), files=[labels] if n == "category" else None)
               for n in OUTPUT_NAMES]

    subgraph = md.SubGraphMetadataT()
    subgraph.inputTensorMetadata, subgraph.outputTensorMetadata = [inp], outputs
    model = md.ModelMetadataT()
    model.name, model.description, model.subgraphMetadata = name, description, [subgraph]
    model.minParserVersion = "1.0.0"  # no field newer than the first metadata parser
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=METADATA_IDENTIFIER)
    return bytes(builder.Output())


def read_metadata(metadata: bytes) -> md.ModelMetadataT:
    return md.ModelMetadataT.InitFromObj(md.ModelMetadata.GetRootAsModelMetadata(bytearray(metadata), 0))
