"""`kerasdet inspect MODEL`: what a model file holds, read from the file alone: its card, and for a
.tflite its input, outputs, ops and the TFLite Model Metadata runtimes read."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from ..core.card import read_card
from ..core.input_size import InputSize
from .flatbuffer import op_names, read_metadata_entry
from .metadata import METADATA_NAME, read_metadata


def describe(path: str | Path) -> str:
    path = Path(path)
    card = read_card(path)
    lines = [f"{path} ({path.stat().st_size / 1e6:.2f} MB)",
             f"  {card.arch} on {card.backbone} {card.alpha}, trained at {InputSize.of(card.input_size)}, "
             f"kerasdet {card.kerasdet_version}",
             f"  classes: {', '.join(card.class_names)}",
             f"  input convention: {card.input}", f"  NMS: {card.nms}"]
    if card.training_data:
        lines.append(f"  training data: {card.training_data}")
    if path.suffix == ".tflite":
        lines += _tflite_lines(path)
    return "\n".join(lines)


def _tflite_lines(path: Path) -> list[str]:
    from ai_edge_litert.interpreter import Interpreter
    data = path.read_bytes()
    interpreter = Interpreter(model_path=str(path))
    tensor = lambda d: f"{d['name']!r} {d['shape'].tolist()} {np.dtype(d['dtype']).name}"  # noqa: E731
    lines = ["  input:  " + ", ".join(tensor(d) for d in interpreter.get_input_details()),
             "  outputs: " + ", ".join(tensor(d) for d in interpreter.get_output_details())]
    ops = Counter(op_names(data))
    lines.append(f"  ops: {sum(ops.values())} ({', '.join(f'{k} {v}' for k, v in ops.most_common())})")
    metadata = read_metadata_entry(data, METADATA_NAME)
    if metadata is None:
        lines.append("  TFLite Model Metadata: none (MediaPipe Tasks will not load it: export it again)")
    else:
        meta = read_metadata(metadata)
        subgraph = meta.subgraphMetadata[0]
        outputs = [t.name.decode() for t in subgraph.outputTensorMetadata]
        files = [f.name.decode() for t in subgraph.outputTensorMetadata for f in (t.associatedFiles or [])]
        lines.append(f"  TFLite Model Metadata: {meta.name.decode()!r}, outputs {outputs}, label file {files}, "
                     f"min parser {meta.minParserVersion.decode()} (MediaPipe Tasks ObjectDetector reads it)")
    return lines
