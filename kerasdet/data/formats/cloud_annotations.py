"""IBM Cloud Annotations `_annotations.json`: boxes as fractions of the image (x, y, x2, y2, label),
keyed by image file name; image sizes come from the images themselves."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import DataError, DataProblem
from .annotated import AnnotatedImage, class_names_of, image_size, load_json


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
                item.objects.append((str(b["label"]), (b["x"] * width, b["y"] * height,
                                                       b["x2"] * width, b["y2"] * height)))
            except (KeyError, TypeError):
                problems.append(DataProblem(str(path), f'"{name}" box {i}: expected {{"x", "y", "x2", "y2", '
                                                       f'"label"}}, got {b!r}'))
        items.append(item)
    if problems:
        raise DataError(problems)
    return items


def write_cloud_annotations(items: list[AnnotatedImage], path: str | Path) -> None:
    annotations = {item.image.name: [{"x": x1 / item.width, "y": y1 / item.height, "x2": x2 / item.width,
                                      "y2": y2 / item.height, "label": name}
                                     for name, (x1, y1, x2, y2) in item.objects] for item in items}
    data = {"version": "1.0", "type": "localization", "labels": class_names_of(items),
            "annotations": annotations}
    Path(path).write_text(json.dumps(data, indent=1))
