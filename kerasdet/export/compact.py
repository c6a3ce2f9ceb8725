"""Make a .tflite flatbuffer smaller without changing a single output value.

Per-channel int8 stores, for every weight and bias tensor, one float scale and one int64 zero
point per channel (the zero points are all 0 for symmetric weights): on the hands model that is
19.5 k channels x 2 tensors x 12 bytes = 470 kB, more than a sixth of the file. Flatbuffers may
point many tables at one vector, so identical vectors are written once. Tensor names (long fused
op paths, 66 kB) are dropped too, except those of the inputs and outputs.
The schema module is the one TensorFlow ships for its own flatbuffer tools.
"""
from __future__ import annotations

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

_FILE_IDENTIFIER = b"TFL3"
_BUFFER_ALIGNMENT = 16  # the schema's force_align for constant data: aligned loads on phones


class _DeduplicatingBuilder(flatbuffers.Builder):
    def __init__(self, size: int):
        super().__init__(size)
        self._written: dict[tuple, int] = {}

    def CreateNumpyVector(self, x: np.ndarray) -> int:  # noqa: N802 (flatbuffers' name)
        key = (x.dtype.str, x.size, x.tobytes())
        if key not in self._written:
            if x.dtype == np.uint8:  # constant tensor data
                self.StartVector(1, x.size, _BUFFER_ALIGNMENT)
                self.head -= x.size
                self.Bytes[self.head:self.head + x.size] = x.tobytes()
                self._written[key] = self.EndVector()
            else:
                self._written[key] = super().CreateNumpyVector(x)
        return self._written[key]


def compact_flatbuffer(data: bytes) -> bytes:
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))
    for subgraph in model.subgraphs:
        named = set(subgraph.inputs.tolist()) | set(subgraph.outputs.tolist())
        for i, tensor in enumerate(subgraph.tensors):
            if i not in named:
                tensor.name = None
    builder = _DeduplicatingBuilder(len(data))
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    return bytes(builder.Output())
