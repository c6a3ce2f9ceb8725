"""`ModelCard`: what a saved model knows about itself, stored inside the file.

A `.keras` checkpoint and an exported `.tflite` each carry `kerasdet_card.json` in a zip: the
`.keras` file is itself a zip (Keras ignores members it does not know, so plain
`keras.saving.load_model` still loads it), and a `.tflite` gets a zip appended after the
flatbuffer, TFLite's "associated files" convention (flatbuffer readers ignore trailing bytes).
Copy either file anywhere and it still knows its classes, architecture and input convention.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .letterbox import INPUT_CONVENTION
from .postprocess import NMS_SETTINGS

CARD_FILE = "kerasdet_card.json"


class ModelCardError(ValueError):
    """A model file without a readable card: it names the file."""


def kerasdet_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("kerasdet")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@dataclass
class ModelCard:
    arch: str
    backbone: str
    alpha: float
    input_size: int | list[int]  # model.input_size: a square side or [width, height]
    class_names: list[str]
    input: dict = field(default_factory=lambda: dict(INPUT_CONVENTION))
    nms: dict = field(default_factory=lambda: dict(NMS_SETTINGS))
    training_data: dict = field(default_factory=dict)  # source lists, image and box counts
    kerasdet_version: str = field(default_factory=kerasdet_version)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "ModelCard":
        return cls(**json.loads(text))


def write_card(path: str | Path, card: ModelCard) -> None:
    """Add the card to a zip file (a `.keras` checkpoint, or the zip appended to a `.tflite`)."""
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(CARD_FILE, card.to_json())


def read_card(path: str | Path) -> ModelCard:
    try:
        with zipfile.ZipFile(path) as z:
            return ModelCard.from_json(z.read(CARD_FILE).decode())
    except zipfile.BadZipFile as err:
        raise ModelCardError(f"{path}: not a kerasdet model file ({err})") from None
    except KeyError:
        raise ModelCardError(f"{path}: no kerasdet model card inside; was it made by kerasdet 0.2 or "
                             "later? Export or train it again.") from None
    except (TypeError, json.JSONDecodeError) as err:
        raise ModelCardError(f"{path}: unreadable kerasdet model card ({err})") from None


def is_kerasdet_model(path: str | Path) -> bool:
    """A .tflite kerasdet exported (it carries a card): an earlier export a new one may replace, or one the
    web export may copy. Here, not in tflite/convert.py, so that asking costs no TensorFlow import."""
    try:
        read_card(path)
    except (OSError, ModelCardError):
        return False
    return Path(path).suffix == ".tflite"


def check_card_fits(card: ModelCard, head_classes: int | None, path: str | Path) -> ModelCard:
    """The card's class names are one per class the model's head scores: an edited card (or one from
    another model) would name every detection wrongly, so it is refused when the model is opened.
    `head_classes` None: the file does not say (then nothing to compare)."""
    if head_classes is not None and head_classes != len(card.class_names):
        raise ModelCardError(f"{path}: its model card names {len(card.class_names)} classes "
                             f"({', '.join(card.class_names)}) but the model scores {head_classes}; the card was "
                             "edited or belongs to another model. Use the file as training or export wrote it")
    return card
