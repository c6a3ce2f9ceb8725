"""`kerasdet convert`: LabelImg XML <-> CSV, COCO JSON, Cloud Annotations, YOLO txt; LabelMe JSON -> any;
label_map.pbtxt <-> classes.

Every conversion goes through `AnnotatedImage`; reading LabelImg XML uses the checked loader, so a
bad box or a missing image stops the conversion with the file and line instead of being dropped.
Every output is written through core/files.py: a new file, or a new folder (`claim_folder`); the source
and any file or folder of the user's are refused before anything is read. What the output format cannot
hold (difficult / truncated flags, images without boxes in the CSV) is named in the summary line.
"""
from __future__ import annotations

from pathlib import Path

from ...core.class_names import class_names_from_text, class_names_to_text
from ...core.files import OutputExistsError, check_new, claim_folder, is_owned, write_text
from ...core.source_spec import split_source
from ..errors import DataError, DataProblem
from ..images import IMAGE_SUFFIXES
from .annotated import MADE_BY, AnnotatedImage, class_names_of, count_flags, load_json
from .cloud_annotations import is_cloud_annotations, read_cloud_annotations, write_cloud_annotations
from .coco_json import is_coco, read_coco, write_coco
from .csv_table import read_csv_table, write_csv_table
from .label_map import read_label_map, write_label_map
from .labelme import is_labelme, is_labelme_folder, read_labelme
from .voc import read_voc, write_voc
from .yolo_txt import is_yolo_folder, names_file, read_names, read_yolo, write_yolo

FORMATS = ("voc", "csv", "coco", "cloud", "yolo", "pbtxt", "classes")  # outputs; LabelMe is read only
FOLDER_FORMATS = ("voc", "yolo")  # written as a folder of files; the others as one file
NO_FLAGS = {"yolo": "YOLO txt", "csv": "the CSV format"}  # outputs without a field for difficult / truncated

__all__ = ["FORMATS", "AnnotatedImage", "convert", "detect_format"]


def _is_class_list(path: Path) -> bool:
    """A .txt of class names (classes.txt) rather than a list of image / XML paths."""
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    return bool(lines) and not any(Path(ln).suffix.lower() in IMAGE_SUFFIXES + (".xml",) for ln in lines)


def detect_format(path: str | Path) -> str:
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir():
        return _folder_format(path)
    if suffix == ".txt" and not _is_class_list(path):
        return "voc"
    if suffix == ".txt":
        return "classes"
    if suffix in (".csv", ".pbtxt"):
        return suffix[1:]
    if suffix == ".json":
        data = load_json(path)
        if is_cloud_annotations(data):
            return "cloud"
        if is_coco(data):
            return "coco"
        if is_labelme(data):
            return "labelme"
        raise ValueError(f"{path}: neither Cloud Annotations, COCO nor LabelMe JSON")
    raise ValueError(f"{path}: unknown annotation format (a folder or list of LabelImg XML, .csv, .json, "
                     f".pbtxt, or a classes .txt)")


def _folder_format(folder: Path) -> str:
    """XML first: a LabelImg folder may also hold other .txt / .json files."""
    if next(folder.rglob("*.xml"), None):
        return "voc"
    if is_yolo_folder(folder):
        return "yolo"
    if is_labelme_folder(folder):
        return "labelme"
    raise ValueError(f"{folder}: no annotations found (looked, in all sub-folders, for LabelImg .xml, YOLO "
                     f".txt labels with a classes.txt or data.yaml, and LabelMe .json)")


def _output_format(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix == ".json":
        return "cloud" if out.name == "_annotations.json" else "coco"
    return {".csv": "csv", ".pbtxt": "pbtxt", ".txt": "classes", "": "voc"}.get(suffix, "voc")


def convert(source: str | Path, out: str | Path, to: str | None = None, images: str | Path | None = None,
            classes: list[str] | None = None) -> str:
    """Convert `source` (format from its content) to `out` (format `to`, or from its name:
    a folder -> LabelImg XML, .csv, _annotations.json -> Cloud Annotations, other .json -> COCO,
    .pbtxt -> label map, .txt -> class names; YOLO txt only with `to="yolo"`). Returns a one-line summary."""
    folder, split = split_source(source)  # `VOC2007:trainval` and `DIR:train` are LabelImg sources too
    source, out = Path(source), Path(out)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such file or folder")
    src, dst = "voc" if split else detect_format(source), to or _output_format(out)
    if dst not in FORMATS:
        raise ValueError(f"--to {dst!r}: choose one of {', '.join(FORMATS)}")
    check_output(folder, out, dst)

    if src in ("pbtxt", "classes") or dst in ("pbtxt", "classes"):
        names = _class_names(src, source, images, classes)
        if dst == "pbtxt":
            write_label_map(names, out)
        elif dst == "classes":
            write_text(out, class_names_to_text(names))
        else:
            raise ValueError(f"{source}: a class list converts only to .pbtxt or a classes .txt")
        return f"{len(names)} classes -> {out}"

    items, names = _read(src, source, images, classes)
    if dst == "voc":
        missing = [DataProblem(str(source), f"image not found: {item.image} (give the images folder: --images)")
                   for item in items if not item.image.is_file()]
        if missing:
            raise DataError(missing)
        write_voc(items, out)
    elif dst == "csv":
        write_csv_table(items, out)
    elif dst == "coco":
        write_coco(items, names or class_names_of(items), out)
    elif dst == "yolo":
        write_yolo(items, names or class_names_of(items), out)
    else:
        write_cloud_annotations(items, out)
    boxes = sum(len(item.objects) for item in items)
    return "; ".join([f"{len(items)} images, {boxes} boxes: {src} {source} -> {dst} {out}", *left_out(items, dst)])


def check_output(source: Path, out: Path, dst: str) -> None:
    """Refuse, before the slow reading, an output that would change the user's files: the source itself
    (a clear sentence naming it), a folder holding files kerasdet did not write, a file kerasdet did not
    write. Each is one sentence; nothing is created here (the writers claim the folder afterwards)."""
    if out.resolve() == source.resolve():
        kind = "folder" if source.is_dir() else "file"
        raise OutputExistsError(f"{out} is the {kind} being converted: give a new {kind} for the output "
                                "(kerasdet convert never writes into what it reads)")
    if dst not in FOLDER_FORMATS:
        check_new(out)
    elif out.exists() and not (out.is_dir() and (is_owned(out) or not any(out.iterdir()))):
        claim_folder(out, MADE_BY)  # refuses with its one sentence, before creating anything


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def left_out(items: list[AnnotatedImage], dst: str) -> list[str]:
    """What the output format cannot hold, each as a clause of the summary line (empty: nothing lost)."""
    notes = []
    flags = {k: n for k, n in count_flags(items).items() if n}
    if dst in NO_FLAGS and flags:
        counts = " and ".join(f"{n} {k}" for k, n in flags.items())
        written = "box written as an ordinary box" if sum(flags.values()) == 1 else "boxes written as ordinary boxes"
        notes.append(f"{NO_FLAGS[dst]} has no field for {' or '.join(flags)}: {counts} {written}")
    empty = sum(not item.objects for item in items)
    if dst == "csv" and empty:
        notes.append(f"{_count(empty, 'image has', 'images have')} no boxes: the CSV format has one row per box, "
                     f"so {'it is' if empty == 1 else 'they are'} not in it")
    return notes


def _read(fmt: str, source: Path, images, classes=None) -> tuple[list[AnnotatedImage], list[str]]:
    if fmt == "voc":
        return read_voc(source, classes)
    if fmt == "coco":
        return read_coco(source, images)
    if fmt == "yolo":
        return read_yolo(source, images, classes)
    readers = {"csv": read_csv_table, "cloud": read_cloud_annotations, "labelme": read_labelme}
    items = readers[fmt](source, images)
    return items, class_names_of(items)


def _class_names(fmt: str, source: Path, images, classes) -> list[str]:
    if fmt == "pbtxt":
        return read_label_map(source)
    if fmt == "classes":
        return class_names_from_text(source.read_text().strip() + "\n")
    if fmt == "yolo" and not classes:  # its names file, without needing the images
        return read_names(names_file(source))
    return classes or _read(fmt, source, images)[1]
