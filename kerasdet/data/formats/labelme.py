"""LabelMe JSON (read only): one `.json` per image, `shapes` of `{"label", "points": [[x, y], ...],
"shape_type"}` in pixels, `imagePath` relative to the JSON file, and `imageWidth` / `imageHeight`.

A rectangle is its two corners (in either order); a circle is its centre and a point on it. Every other
shape (polygon, line, mask, ...) becomes the bounding box of its points: a detector learns boxes, so a
polygon's outline is lost. A shape without area (a point) is an error, not dropped.
"""
from __future__ import annotations

import math
from pathlib import Path

from ..errors import DataError, DataProblem
from .annotated import AnnotatedImage, Box, image_size, load_json


def is_labelme(data: object) -> bool:
    return isinstance(data, dict) and isinstance(data.get("shapes"), list) and "imagePath" in data


def is_labelme_folder(folder: Path) -> bool:
    return any(is_labelme(_json_or_none(p)) for p in sorted(folder.rglob("*.json")))


def _json_or_none(path: Path) -> object:
    try:
        return load_json(path)
    except (DataError, OSError, UnicodeDecodeError):
        return None


def shape_box(shape_type: str, points: list[list[float]]) -> Box:
    if shape_type == "circle":
        (cx, cy), (px, py) = points
        r = math.hypot(px - cx, py - cy)
        return cx - r, cy - r, cx + r, cy + r
    xs, ys = [float(p[0]) for p in points], [float(p[1]) for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def read_labelme(source: str | Path, images_dir: str | Path | None = None) -> list[AnnotatedImage]:
    """A LabelMe .json, or every one in a folder (recursively); all problems are raised together.
    The image is looked for in `images_dir` by name, at `imagePath`, then beside the JSON."""
    source = Path(source)
    files = sorted(source.rglob("*.json")) if source.is_dir() else [source]
    items, problems = [], []
    for path in files:
        try:
            item, file_problems = _read_one(path, Path(images_dir) if images_dir else None)
        except DataError as err:
            item, file_problems = None, err.problems
        problems += file_problems
        if item:
            items.append(item)
    if problems:
        raise DataError(problems)
    return items


def _read_one(path: Path, images_dir: Path | None) -> tuple[AnnotatedImage | None, list[DataProblem]]:
    data = load_json(path)
    if not is_labelme(data):
        return None, [DataProblem(str(path), 'not LabelMe JSON: no "shapes" list and "imagePath"')]
    relative = Path(str(data["imagePath"]).replace("\\", "/"))  # LabelMe on Windows writes backslashes
    candidates = ([images_dir / relative.name] if images_dir else []) + [path.parent / relative,
                                                                         path.parent / relative.name]
    image = next((c for c in candidates if c.is_file()), candidates[0])
    width, height = data.get("imageWidth"), data.get("imageHeight")
    if not (width and height):
        width, height = image_size(image, path)
    item, problems = AnnotatedImage(image, int(width), int(height)), []
    for i, shape in enumerate(data["shapes"]):
        try:
            label, shape_type = str(shape["label"]), shape.get("shape_type") or "polygon"
            x1, y1, x2, y2 = shape_box(shape_type, shape["points"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            problems.append(DataProblem(str(path), f'shape {i}: expected {{"label", "points": [[x, y], ...], '
                                                   f'"shape_type"}}, got {shape!r}'))
            continue
        if x2 <= x1 or y2 <= y1:
            problems.append(DataProblem(str(path), f"shape {i} ({shape_type} '{label}'): its box "
                                                   f"({x1:g}, {y1:g}, {x2:g}, {y2:g}) has no area"))
        else:
            item.objects.append((label, (x1, y1, x2, y2)))
    return item, problems
