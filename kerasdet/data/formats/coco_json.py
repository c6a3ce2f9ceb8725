"""COCO detection JSON: images, categories, annotations with bbox [x, y, width, height] in pixels."""
from __future__ import annotations

import json
from pathlib import Path

from ...core.files import write_text
from ..errors import DataError, DataProblem
from .annotated import AnnotatedImage, AnnotatedObject, load_json, pixel

FLAGS = ("difficult", "truncated")  # extra annotation keys, 1 when set: pycocotools ignores them, kerasdet reads them


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
            items[ann["image_id"]].objects.append(_object(ann, categories))
    except (KeyError, TypeError, ValueError) as err:
        raise DataError([DataProblem(str(path), f"not COCO detection JSON: bad or missing {err}")]) from None
    return list(items.values()), [categories[k] for k in sorted(categories)]


def _object(ann: dict, categories: dict) -> AnnotatedObject:
    """COCO's bbox is x, y, width, height: the far corner x + width is rounded (`pixel`), so a box
    written from 0.1..0.3 reads back as 0.3, not 0.30000000000000004."""
    x, y, w, h = (float(v) for v in ann["bbox"])
    return AnnotatedObject(categories[ann["category_id"]], (pixel(x), pixel(y), pixel(x + w), pixel(y + h)),
                           *(bool(ann.get(flag, 0)) for flag in FLAGS))


def _number(value: float) -> int | float:
    """Whole pixels as JSON integers (12, not 12.0), as other COCO writers give them."""
    return int(value) if float(value).is_integer() else float(value)


def coco_annotation(ann_id: int, image_id: int, category: int, obj: AnnotatedObject) -> dict:
    x1, y1, x2, y2 = obj.box
    ann = {"id": ann_id, "image_id": image_id, "category_id": category,
           "bbox": [_number(v) for v in (x1, y1, x2 - x1, y2 - y1)], "area": _number((x2 - x1) * (y2 - y1)),
           "iscrowd": 0}
    ann.update({flag: 1 for flag in FLAGS if getattr(obj, flag)})  # only when set: other boxes as before
    return ann


def write_coco(items: list[AnnotatedImage], class_names: list[str], path: str | Path) -> Path:
    """One JSON file, written through core/files.py: a file of the user's is refused, a missing
    folder is made."""
    category_id = {name: i + 1 for i, name in enumerate(class_names)}
    images, annotations = [], []
    for image_id, item in enumerate(items, 1):
        images.append({"id": image_id, "file_name": item.image.name, "width": item.width, "height": item.height})
        for obj in item.labelled():
            annotations.append(coco_annotation(len(annotations) + 1, image_id, category_id[obj.name], obj))
    categories = [{"id": i, "name": name, "supercategory": "none"} for name, i in category_id.items()]
    return write_text(path, json.dumps({"images": images, "annotations": annotations, "categories": categories}))
