"""YOLO txt (Ultralytics, LabelImg's YOLO mode): one `<image stem>.txt` per image, a line
`class_index cx cy w h` per box, all four fractions of the image; an empty file is a negative.

The class names are in `classes.txt` (one per line, as LabelImg writes it) or in an Ultralytics
`data.yaml` (`names:` a list or a `{0: name}` dict). Labels lie beside their images, or in a `labels/`
tree mirroring `images/` (`images/train/x.jpg` <-> `labels/train/x.txt`); image sizes come from the images.

Writing gives OUT/classes.txt, OUT/data.yaml (`names` only) and OUT/<stem>.txt; images are not copied.
OUT is a new folder (core/files.py's claim_folder: a folder of the user's is refused). The fractions get
enough digits (`fraction_decimals`) that reading them back returns every pixel coordinate within 1e-6 px;
YOLO has no field for `difficult` or `truncated` (`convert` says how many such boxes it wrote as ordinary).
To train with Ultralytics, move the .txt files into `labels/` beside the dataset's `images/` folder, with
the same sub-folders (`images/train/x.jpg` -> `labels/train/x.txt`), and add `path`, `train` and `val`
to data.yaml.
"""
from __future__ import annotations

import math
from pathlib import Path

import yaml

from ...core.class_names import class_names_to_text
from ...core.files import claim_folder, write_text
from ..errors import DataError, DataProblem
from ..images import IMAGE_SUFFIXES
from .annotated import MADE_BY, PIXEL_DECIMALS, AnnotatedImage, Box, image_size, pixel

NAME_FILES = ("classes.txt", "data.yaml", "data.yml")
TOLERANCE = 0.01  # of the image: rounding in other tools puts box edges a hair outside; clipped back in


def yolo_to_box(cx: float, cy: float, w: float, h: float, width: int, height: int) -> Box:
    """Pixel corners of a normalized centre box, clipped to the image, rounded (`pixel`): what
    `fraction_decimals` digits keep of a box comes back exactly."""
    x1, y1, x2, y2 = max(cx - w / 2, 0), max(cy - h / 2, 0), min(cx + w / 2, 1), min(cy + h / 2, 1)
    return pixel(x1 * width), pixel(y1 * height), pixel(x2 * width), pixel(y2 * height)


def box_to_yolo(box: Box, width: int, height: int) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return (x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height


def fraction_decimals(width: int, height: int) -> int:
    """Decimals for a fraction of this image: a corner is cx -+ w / 2, so the written digits move it by
    at most 0.75 * 10**-decimals * size pixels; one more digit than the size has plus PIXEL_DECIMALS
    keeps that under a tenth of the reader's rounding (`pixel`), and what it rounds to is the box."""
    return len(str(max(width, height, 1))) + PIXEL_DECIMALS + 1


def yolo_line(index: int, box: Box, width: int, height: int) -> str:
    """`class cx cy w h`, the fractions without trailing zeros (0.5, not 0.5000000000)."""
    decimals = fraction_decimals(width, height)
    return f"{index} " + " ".join(f"{v:.{decimals}f}".rstrip("0").rstrip(".")
                                  for v in box_to_yolo(box, width, height))


def label_files(folder: Path) -> list[Path]:
    """The label .txt files: under `labels/` when the folder has one (Ultralytics), else anywhere in it."""
    root = folder / "labels" if (folder / "labels").is_dir() else folder
    return sorted(p for p in root.rglob("*.txt") if p.name != "classes.txt" and p.is_file())


def names_file(folder: Path) -> Path | None:
    """The shallowest classes.txt / data.yaml under the folder (classes.txt first at equal depth)."""
    found = [p for name in NAME_FILES for p in folder.rglob(name) if p.is_file()]
    return min(found, key=lambda p: (len(p.parts), NAME_FILES.index(p.name), p), default=None)


def is_yolo_folder(folder: Path) -> bool:
    return names_file(folder) is not None and bool(label_files(folder))


def read_names(path: Path) -> list[str]:
    if path.suffix == ".txt":
        names = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    else:
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            raise DataError([DataProblem(str(path), f"malformed YAML: {getattr(err, 'problem', err)}",
                                         mark.line + 1 if mark else None)]) from None
        names = data.get("names") if isinstance(data, dict) else None
        if isinstance(names, dict) and sorted(names) == list(range(len(names))):
            names = [names[i] for i in range(len(names))]
    if not isinstance(names, list) or not names:
        raise DataError([DataProblem(str(path), "no class names (classes.txt: one a line; data.yaml: `names:` a "
                                                "list or a {0: name, 1: ...} dict)")])
    return [str(n) for n in names]


def _image_for(label: Path, label_root: Path, images_dir: Path | None, index: dict) -> Path | None:
    """By stem, any image suffix in any case: in --images (mirrored sub-folder, then flat), beside
    the label, then in the `images/` folder that the label's `labels/` folder mirrors."""
    folders = [images_dir / label.parent.relative_to(label_root), images_dir] if images_dir else []
    folders.append(label.parent)
    parts = label.parent.parts
    if "labels" in parts:
        i = len(parts) - 1 - parts[::-1].index("labels")
        folders.append(Path(*parts[:i], "images", *parts[i + 1:]))
    for folder in folders:
        if folder not in index:
            index[folder] = {p.stem: p for p in sorted(folder.glob("*"))
                             if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()}
        if label.stem in index[folder]:
            return index[folder][label.stem]
    return None


def _parse_line(text: str, n_names: int | None) -> tuple[int, tuple[float, ...]] | str:
    """(class index, (cx, cy, w, h)) of one label line, or what is wrong with it."""
    fields = text.split()
    if len(fields) != 5:
        return f"expected 5 fields `class cx cy w h`, got {len(fields)}: {text.strip()!r}"
    try:
        values = [float(f) for f in fields]
    except ValueError:
        values = [math.nan]
    if not all(map(math.isfinite, values)):
        return f"not a number in {text.strip()!r}"
    cls, cx, cy, w, h = values
    if cls != int(cls) or not 0 <= cls < (n_names or math.inf):
        allowed = f"0..{n_names - 1} ({n_names} class names)" if n_names else "a whole number >= 0"
        return f"class index {fields[0]} is not {allowed}"
    if w <= 0 or h <= 0:
        return f"box width and height must be > 0: {text.strip()!r}"
    if min(cx - w / 2, cy - h / 2) < -TOLERANCE or max(cx + w / 2, cy + h / 2) > 1 + TOLERANCE:
        return f"box outside the image: cx cy w h must be fractions 0..1 of it, got {text.strip()!r}"
    return int(cls), (cx, cy, w, h)


def _read_label(label: Path, names: list[str] | None) -> tuple[list[tuple[str, tuple]], list[DataProblem]]:
    """(class name, (cx, cy, w, h)) of each line, and the bad lines; without names only the lines are checked."""
    objects, problems = [], []
    for line_no, text in enumerate(label.read_text().splitlines(), 1):
        parsed = _parse_line(text, len(names) if names else None) if text.strip() else None
        if isinstance(parsed, str):
            problems.append(DataProblem(str(label), parsed, line_no))
        elif parsed and names:
            objects.append((names[parsed[0]], parsed[1]))
    return objects, problems


def read_yolo(folder: str | Path, images_dir: str | Path | None = None,
              classes: list[str] | None = None) -> tuple[list[AnnotatedImage], list[str]]:
    """Every label file with its image; `classes` (--classes) overrides the folder's names file.
    All problems of all files are raised together."""
    folder = Path(folder)
    images_dir = Path(images_dir) if images_dir else None
    label_root = folder / "labels" if (folder / "labels").is_dir() else folder
    problems: list[DataProblem] = []
    names = classes
    if names is None and (path := names_file(folder)):
        try:
            names = read_names(path)
        except DataError as err:
            if any(label.read_text().strip() for label in label_files(folder)):
                problems += err.problems
            else:  # only negatives (what kerasdet writes for a dataset without boxes): no name is needed
                names = []
    elif names is None:
        problems.append(DataProblem(str(folder), "no class names: put a classes.txt (one name per line) or an "
                                                 "Ultralytics data.yaml (names:) in it, or give --classes"))
    items, index = [], {}
    for label in label_files(folder):
        image = _image_for(label, label_root, images_dir, index)
        size = None
        if image is None:
            problems.append(DataProblem(str(label), f"no image named {label.stem} with a suffix of "
                                                    f"{', '.join(IMAGE_SUFFIXES)} (give the images folder: --images)"))
        else:
            try:
                size = image_size(image, label)
            except DataError as err:
                problems += err.problems
        objects, label_problems = _read_label(label, names)
        problems += label_problems
        if size:
            items.append(AnnotatedImage(image, *size, [(name, yolo_to_box(*xywh, *size)) for name, xywh in objects]))
    if problems:
        raise DataError(problems)
    return items, names


def write_yolo(items: list[AnnotatedImage], class_names: list[str], out_dir: str | Path) -> None:
    """OUT/classes.txt, OUT/data.yaml and OUT/<image stem>.txt; two images with one stem are an error,
    found before anything is written."""
    out_dir = Path(out_dir)
    by_stem: dict[str, AnnotatedImage] = {}
    problems = []
    for item in items:
        first = by_stem.setdefault(item.image.stem, item)
        if item.image.stem == "classes":
            problems.append(DataProblem(str(item.image), "its labels would overwrite classes.txt: rename it"))
        elif first is not item:
            problems.append(DataProblem(str(item.image), f"same stem as {first.image}: both would be written to "
                                                         f"{out_dir / (item.image.stem + '.txt')}"))
    if problems:
        raise DataError(problems)
    out_dir = claim_folder(out_dir, MADE_BY)  # a folder of the user's (the source itself too) is refused
    write_text(out_dir / "classes.txt", class_names_to_text(class_names))
    write_text(out_dir / "data.yaml", yaml.safe_dump({"names": dict(enumerate(class_names))}, sort_keys=False,
                                                     allow_unicode=True))
    index = {name: i for i, name in enumerate(class_names)}
    for stem, item in by_stem.items():
        lines = [yolo_line(index[name], box, item.width, item.height) for name, box in item.objects]
        write_text(out_dir / f"{stem}.txt", "".join(line + "\n" for line in lines))
