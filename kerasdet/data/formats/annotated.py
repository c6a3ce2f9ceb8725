"""The one shape every annotation format converts through: an image, its size, its named boxes."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError, DataProblem
from ..images import image_header, oriented_size

Box = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in pixels
MADE_BY = "kerasdet convert"  # what the manifest of an output folder says made it
PIXEL_DECIMALS = 6  # decimals of a pixel coordinate computed from a format's numbers (x + width, fractions)


class AnnotatedObject(tuple):
    """One labelled box: unpacks as the `(name, box)` pair that code written before the flags expects,
    and carries VOC's `difficult` and `truncated` as attributes, so no format has to drop them."""

    def __new__(cls, name: str, box: Box, difficult: bool = False, truncated: bool = False):
        obj = super().__new__(cls, (name, tuple(box)))
        obj.difficult, obj.truncated = bool(difficult), bool(truncated)
        return obj

    def __getnewargs__(self):  # pickle and copy rebuild it with its flags
        return self.name, self.box, self.difficult, self.truncated

    @property
    def name(self) -> str:
        return self[0]

    @property
    def box(self) -> Box:
        return self[1]

    def __repr__(self) -> str:
        flags = "".join(f", {k}=True" for k in ("difficult", "truncated") if getattr(self, k))
        return f"AnnotatedObject({self.name!r}, {self.box!r}{flags})"


def annotated_object(obj) -> AnnotatedObject:
    """An AnnotatedObject from one, or from a plain `(name, box)` / `(name, box, difficult, truncated)`
    tuple: callers that still append pairs lose nothing and need no change."""
    if isinstance(obj, AnnotatedObject):
        return obj
    name, box, *flags = obj
    return AnnotatedObject(name, box, *flags)


def pixel(value: float) -> float:
    """A pixel coordinate computed by arithmetic (x + width, a fraction times the size): rounded to
    PIXEL_DECIMALS, so the float error of that arithmetic does not show as 12.000000000000002."""
    return round(float(value), PIXEL_DECIMALS) + 0.0  # + 0.0: no -0.0


@dataclass
class AnnotatedImage:
    image: Path  # where the image is (formats store a name relative to an images folder)
    width: int
    height: int
    objects: list[AnnotatedObject] = field(default_factory=list)  # (name, box) pairs with .difficult, .truncated

    def __post_init__(self):
        self.objects = [annotated_object(o) for o in self.objects]

    def labelled(self) -> list[AnnotatedObject]:
        """The objects with their flags, also those appended as plain (name, box) pairs."""
        return [annotated_object(o) for o in self.objects]


def image_size(path: Path, annotation_file: str | Path, line: int | None = None) -> tuple[int, int]:
    """Size of an image some format refers to without giving it; a missing image is the format file's error."""
    try:
        return oriented_size(*image_header(path))
    except OSError as err:
        raise DataError([DataProblem(str(annotation_file), f"image {path}: {err}", line)]) from None


def class_names_of(items: list[AnnotatedImage]) -> list[str]:
    return sorted({name for item in items for name, _ in item.objects})


def count_flags(items: list[AnnotatedImage]) -> dict[str, int]:
    """How many boxes are difficult and how many truncated: what a format without those fields leaves out."""
    objects = [o for item in items for o in item.labelled()]
    return {"difficult": sum(o.difficult for o in objects), "truncated": sum(o.truncated for o in objects)}


def load_json(path: Path) -> object:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise DataError([DataProblem(str(path), f"malformed JSON: {err.msg} (column {err.colno})",
                                     err.lineno)]) from None
