"""COCO detection JSON: images, categories, annotations with bbox [x, y, width, height] in pixels."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import DataError, DataProblem
from .annotated import AnnotatedImage, load_json


def is_coco(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("images"), list)


def read_coco(path: str | Path, images_dir: str | Path | None = None) -> tuple[list[AnnotatedImage], list[str]]:
    path = Path(path)
    images_dir = Path(images_dir) if images_dir else path.parent
    data = load_json(path)
    try:
        categories = {c["id"]: str(c["name"]) for c in data["categories"]}
        items = {im["id"]: AnnotatedImage(images_dir / im["file_name"], int(im["width"]), int(im["height"]))
                 for im in data["images"]}
        for ann in data.get("annotations", []):
            x, y, w, h = ann["bbox"]
            items[ann["image_id"]].objects.append((categories[ann["category_id"]], (x, y, x + w, y + h)))
    except (KeyError, TypeError, ValueError) as err:
        raise DataError([DataProblem(str(path), f"not COCO detection JSON: bad or missing {err}")]) from None
    return list(items.values()), [categories[k] for k in sorted(categories)]


def write_coco(items: list[AnnotatedImage], class_names: list[str], path: str | Path) -> None:
    category_id = {name: i + 1 for i, name in enumerate(class_names)}
    images, annotations = [], []
    for image_id, item in enumerate(items, 1):
        images.append({"id": image_id, "file_name": item.image.name, "width": item.width, "height": item.height})
        for name, (x1, y1, x2, y2) in item.objects:
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": category_id[name],
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1),
                                "iscrowd": 0})
    categories = [{"id": i, "name": name, "supercategory": "none"} for name, i in category_id.items()]
    Path(path).write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
