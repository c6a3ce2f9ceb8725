"""IBM Cloud Annotations `_annotations.json`: boxes as fractions of the image (x, y, x2, y2, label),
keyed by image file name; image sizes come from the images themselves."""
from __future__ import annotations

import json
from pathlib import Path

from ...core.files import write_text
from ..errors import DataError, DataProblem
from .annotated import AnnotatedImage, AnnotatedObject, class_names_of, image_size, load_json, pixel

FLAGS = ("difficult", "truncated")  # extra keys of a box, true when set: kerasdet reads them back


def is_cloud_annotations(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("annotations"), dict)


def read_cloud_annotations(path: str | Path, images_dir: str | Path | None = None) -> list[AnnotatedImage]:
    path = Path(path)
    images_dir = Path(images_dir) if images_dir else path.parent
    data = load_json(path)
    if not is_cloud_annotations(data):
        raise DataError([DataProblem(str(path), 'not Cloud Annotations: no "annotations" object '
                                                '{image name: [{x, y, x2, y2, label}, ...]}')])
    items, problems = [], []
    for name, boxes in data["annotations"].items():
        width, height = image_size(images_dir / name, path)
        item = AnnotatedImage(images_dir / name, width, height)
        for i, b in enumerate(boxes if isinstance(boxes, list) else [None]):
            try:
                item.objects.append(_object(b, width, height))
            except (KeyError, TypeError):
                problems.append(DataProblem(str(path), f'"{name}" box {i}: expected {{"x", "y", "x2", "y2", '
                                                       f'"label"}}, got {b!r}'))
        items.append(item)
    if problems:
        raise DataError(problems)
    return items


def _object(b: dict, width: int, height: int) -> AnnotatedObject:
    """Fractions back to pixels, rounded (`pixel`): 12.3 / 64 * 64 is 12.299999999999999 in floats."""
    box = (pixel(b["x"] * width), pixel(b["y"] * height), pixel(b["x2"] * width), pixel(b["y2"] * height))
    return AnnotatedObject(str(b["label"]), box, *(bool(b.get(flag, False)) for flag in FLAGS))


def cloud_box(obj: AnnotatedObject, width: int, height: int) -> dict:
    x1, y1, x2, y2 = obj.box
    box = {"x": x1 / width, "y": y1 / height, "x2": x2 / width, "y2": y2 / height, "label": obj.name}
    box.update({flag: True for flag in FLAGS if getattr(obj, flag)})  # only when set: other boxes as before
    return box


def write_cloud_annotations(items: list[AnnotatedImage], path: str | Path) -> Path:
    """One JSON file, written through core/files.py: a file of the user's is refused."""
    annotations = {item.image.name: [cloud_box(obj, item.width, item.height) for obj in item.labelled()]
                   for item in items}
    data = {"version": "1.0", "type": "localization", "labels": class_names_of(items),
            "annotations": annotations}
    return write_text(path, json.dumps(data, indent=1))
