"""`InputSize`: the size of the network's input, width by height.

`model.input_size` is written in config.yaml and in the model card as a square side (`320`) or as
`[width, height]` (`[320, 256]`), the way image sizes are named; arrays are shaped (height, width).
`InputSize.of` reads either form once, where a size comes from a config or a card; the code after
that passes the value and asks it for `.hw` (array shapes), `.wh` or `.to_config()` (what the files
write, unchanged: a square is still an int), so no module swaps the two sides on its own.
"""
from __future__ import annotations

from dataclasses import dataclass

from .letterbox import letterbox_shape

SIDE_MULTIPLE = 32  # an input side's multiple: the network halves it five times


@dataclass(frozen=True)
class InputSize:
    width: int
    height: int

    @classmethod
    def of(cls, value: InputSize | int | list[int] | tuple[int, int]) -> InputSize:
        """`value` as config.yaml and the model card write it: a square side, or [width, height]
        (a list from YAML or JSON, or a tuple); an InputSize is returned as it is."""
        if isinstance(value, InputSize):
            return value
        if isinstance(value, (list, tuple)):
            if len(value) != 2:
                raise ValueError(f"an input size is a side or [width, height], got {value!r}")
            width, height = value
            return cls(int(width), int(height))
        return cls(int(value), int(value))

    @property
    def hw(self) -> tuple[int, int]:
        """(height, width): an array's shape."""
        return self.height, self.width

    @property
    def wh(self) -> tuple[int, int]:
        """(width, height): as image sizes are written."""
        return self.width, self.height

    @property
    def square(self) -> bool:
        return self.width == self.height

    def to_config(self) -> int | list[int]:
        """The form config.yaml and the model card write: the side of a square, else [width, height]."""
        return self.width if self.square else [self.width, self.height]

    def scaled(self, factor: float, frame: tuple[int, int] | None = None,
               multiple: int = SIDE_MULTIPLE) -> InputSize:
        """This size times `factor`, shaped like a (width, height) `frame` as `letterbox` places it
        (touching two sides; the scaled size itself without one), each side rounded to the nearest
        `multiple`: 4:3 frames in 320 at 0.8 give 256x192, portrait 3:4 photos 192x256, 16:9 frames
        256x160 (from 256x144). Progressive resizing trains its first epochs at it."""
        box = (self.height * factor, self.width * factor)
        fitted, _ = letterbox_shape((frame[1], frame[0]), box) if frame else (box, None)
        height, width = (max(1, int(side / multiple + 0.5)) * multiple for side in fitted)
        return InputSize(width, height)

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"
