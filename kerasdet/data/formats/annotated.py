"""The one shape every annotation format converts through: an image, its size, its named boxes."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, DataProblem
from ..images import image_header, oriented_size

Box = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in pixels


@dataclass
class AnnotatedImage:
    image: Path  # where the image is (formats store a name relative to an images folder)
    width: int
    height: int
    objects: list[tuple[str, Box]] = field(default_factory=list)


def image_size(path: Path, annotation_file: str | Path, line: int | None = None) -> tuple[int, int]:
    """Size of an image some format refers to without giving it; a missing image is the format file's error."""
    try:
        return oriented_size(*image_header(path))
    except OSError as err:
        raise DataError([DataProblem(str(annotation_file), f"image {path}: {err}", line)]) from None


def class_names_of(items: list[AnnotatedImage]) -> list[str]:
    return sorted({name for item in items for name, _ in item.objects})


def load_json(path: Path) -> object:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise DataError([DataProblem(str(path), f"malformed JSON: {err.msg} (column {err.colno})",
                                     err.lineno)]) from None
