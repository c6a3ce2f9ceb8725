"""Reading and rewriting .tflite flatbuffers with the schema module TensorFlow ships for its own
flatbuffer tools (no private interpreter methods).

`compact_flatbuffer` makes a file smaller without changing a single output value.

Per-channel int8 stores, for every weight and bias tensor, one float scale and one int64 zero
point per channel (the zero points are all 0 for symmetric weights): on the hands model that is
19.5 k channels x 2 tensors x 12 bytes = 470 kB, more than a sixth of the file. Flatbuffers may
point many tables at one vector, so identical vectors are written once. Tensor names (long fused
op paths, 66 kB) are dropped too, except those of the inputs and outputs.
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


def read_model(data: bytes) -> schema.ModelT:
    return schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(data), 0))


_BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def op_names(data: bytes) -> list[str]:
    """The op of every node, in graph order: builtin names (CONV_2D, ...) or the custom op's name."""
    model = read_model(data)
    names = []
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        names.append(code.customCode.decode() if code.customCode else _BUILTIN_NAMES[builtin])
    return names


def op_output_names(data: bytes) -> list[str]:
    """Names of the tensors the ops produce (which TensorFlow op each came from)."""
    subgraph = read_model(data).subgraphs[0]
    return [subgraph.tensors[i].name.decode() for op in subgraph.operators for i in op.outputs]


def write_model(model: schema.ModelT, size_hint: int) -> bytes:
    """`model` as flatbuffer bytes, identical vectors written once (`size_hint`: about its size)."""
    builder = _DeduplicatingBuilder(size_hint)
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    return bytes(builder.Output())


def compact_flatbuffer(data: bytes) -> bytes:
    model = read_model(data)
    for subgraph in model.subgraphs:
        named = set(subgraph.inputs.tolist()) | set(subgraph.outputs.tolist())
        for i, tensor in enumerate(subgraph.tensors):
            if i not in named:
                tensor.name = None
    return write_model(model, len(data))


def name_io_and_add_metadata(data: bytes, input_name: str, outputs: dict[str, str],
                             metadata: dict[str, bytes]) -> bytes:
    """Name the input; rename the outputs (the converter's name -> the new name) and put them in the
    dict's order (the converter may reorder a function's outputs); store each metadata entry
    (name -> bytes) in a buffer of its own, replacing an entry of that name."""
    model = read_model(data)
    subgraph = model.subgraphs[0]
    found = {subgraph.tensors[i].name.decode(): i for i in subgraph.outputs.tolist()}
    if sorted(found) != sorted(outputs):
        raise ValueError(f"outputs {sorted(found)}, expected {sorted(outputs)}")
    subgraph.outputs = np.array([found[old] for old in outputs], np.int32)
    for old, new in outputs.items():
        subgraph.tensors[found[old]].name = new
    (image,) = subgraph.inputs.tolist()
    subgraph.tensors[image].name = input_name
    entries = [m for m in (model.metadata or []) if m.name.decode() not in metadata]
    for name, content in metadata.items():
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(content, np.uint8)
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name, entry.buffer = name, len(model.buffers) - 1
        entries.append(entry)
    model.metadata = entries
    return write_model(model, len(data) + sum(map(len, metadata.values())))


def read_metadata_entry(data: bytes, name: str) -> bytes | None:
    """The bytes of the model's metadata entry `name`, or None."""
    model = schema.Model.GetRootAsModel(bytearray(data), 0)
    for k in range(model.MetadataLength()):
        entry = model.Metadata(k)
        if entry.Name().decode() == name:
            return model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    return None
