"""Find LabelImg annotations and their images, check them, and turn them into records.

A data source is one of:
- a folder of images with the XML beside each (LabelImg's default),
- a folder holding `images/` and `annotations/`,
- a text file listing image (or XML) paths, one per line, as written by `kerasdet split`;
  relative paths are relative to the list file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.records import ImageRecord
from .errors import DataError, DataProblem
from .images import IMAGE_SUFFIXES, image_header, list_images, oriented_size
from .voc_xml import VocAnnotation, read_voc_xml


@dataclass
class DetectionDataset:
    source: str
    class_names: list[str]
    records: list[ImageRecord]
    skipped: list[DataProblem] = field(default_factory=list)  # with on_error=skip
    warnings: list[DataProblem] = field(default_factory=list)  # e.g. images without an XML

    def __len__(self) -> int:
        return len(self.records)


def _xml_files_and_image_dirs(source: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """(xml files, folders to look for their images in, images that should have an XML)."""
    if source.is_file():
        xmls, listed_images = [], []
        for line in source.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            path = Path(line) if Path(line).is_absolute() else (source.parent / line).resolve()
            (xmls if path.suffix.lower() == ".xml" else listed_images).append(path)
        return xmls, [], listed_images
    annotations = source / "annotations"
    if annotations.is_dir():
        image_dir = source / "images" if (source / "images").is_dir() else source
        return sorted(annotations.glob("*.xml")), [image_dir], list_images(image_dir)
    return sorted(source.glob("*.xml")), [source], list_images(source)


def _xml_for_image(image: Path) -> Path:
    beside = image.with_suffix(".xml")
    if beside.exists():
        return beside
    return image.parent.parent / "annotations" / (image.stem + ".xml")


def _find_image(ann: VocAnnotation, image_dirs: list[Path]) -> Path | None:
    """LabelImg's <path> is often absolute on another machine: match <filename>, then the XML's stem
    in the usual folders; last, <path> itself where it exists here (XML saved in another folder)."""
    dirs = image_dirs + [ann.xml_path.parent, ann.xml_path.parent.parent / "images"]
    names = [n for n in (ann.filename, re.split(r"[\\/]", ann.path)[-1] if ann.path else "") if n]
    for folder in dirs:
        for name in names:
            if (folder / name).is_file() and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                return folder / name
        for stem in [Path(n).stem for n in names] + [ann.xml_path.stem]:
            for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
                if (folder / (stem + suffix)).is_file():
                    return folder / (stem + suffix)
    if ann.path and Path(ann.path).is_absolute() and Path(ann.path).is_file():  # XML saved elsewhere
        return Path(ann.path)
    return None


def _check_boxes(ann: VocAnnotation, width: int, height: int,
                 class_index: dict[str, int] | None) -> list[DataProblem]:
    problems = []
    for obj in ann.objects:
        xmin, ymin, xmax, ymax = obj.box
        where = f"object '{obj.name}' box ({xmin:g}, {ymin:g}, {xmax:g}, {ymax:g})"
        if xmax <= xmin or ymax <= ymin:
            problems.append(DataProblem(str(ann.xml_path), f"{where}: xmax <= xmin or ymax <= ymin",
                                        obj.line))
        elif xmin < 0 or ymin < 0 or xmax > width or ymax > height:
            problems.append(DataProblem(
                str(ann.xml_path), f"{where} lies outside the {width}x{height} image", obj.line))
        if class_index is not None and obj.name not in class_index:
            problems.append(DataProblem(
                str(ann.xml_path), f"unknown class '{obj.name}' (data.classes: {', '.join(class_index)})",
                obj.line))
    return problems


def _record(ann: VocAnnotation, image: Path, width: int, height: int, apply_exif: bool,
            class_index: dict[str, int]) -> ImageRecord:
    boxes = np.array([o.box for o in ann.objects], np.float32).reshape(-1, 4)
    return ImageRecord(str(image), str(ann.xml_path), width, height, boxes,
                       np.array([class_index[o.name] for o in ann.objects], np.int32),
                       np.array([o.difficult for o in ann.objects], bool), apply_exif)


def _pixel_frame(ann: VocAnnotation, image: Path) -> tuple[int, int, bool]:
    """(width, height, apply_exif) of the pixels the boxes were drawn on.

    Photos from phones carry an EXIF rotation. Tools that honour it label the rotated picture;
    older LabelImg builds label the stored pixels. The XML's <size> tells which one was seen.
    """
    raw_w, raw_h, orientation = image_header(image)
    width, height = oriented_size(raw_w, raw_h, orientation)
    if (width, height) != (raw_w, raw_h) and (ann.width, ann.height) == (raw_w, raw_h):
        return raw_w, raw_h, False
    return width, height, True


def load_dataset(source: str | Path, classes: list[str] | None = None,
                 on_error: str = "raise") -> DetectionDataset:
    """Read every annotation of `source`; raise DataError listing all problems (or skip those files)."""
    source = Path(source)
    if not source.exists():
        raise DataError([DataProblem(str(source), "no such file or folder")])
    xml_files, image_dirs, images_needing_xml = _xml_files_and_image_dirs(source)
    problems: list[DataProblem] = []
    warnings: list[DataProblem] = []
    from_list = source.is_file()
    seen_xml = {p.resolve() for p in xml_files}
    for image in images_needing_xml:
        xml = _xml_for_image(image)
        if from_list:
            if not image.is_file():
                problems.append(DataProblem(str(source), f"listed image {image} does not exist"))
            elif not xml.is_file():
                problems.append(DataProblem(str(image), f"no annotation XML found (looked for {xml})"))
            else:
                xml_files.append(xml)
        elif xml.resolve() not in seen_xml:
            warnings.append(DataProblem(str(image), "image has no XML and is not used (save it in "
                                        "LabelImg, even with no boxes, to train on it as a negative)"))
    if not xml_files and not problems:
        raise DataError([DataProblem(str(source), "no LabelImg/Pascal-VOC XML files found")])

    parsed: list[tuple[VocAnnotation, Path, int, int, bool]] = []
    bad_files: dict[str, list[DataProblem]] = {}
    for xml in xml_files:
        ann, file_problems = read_voc_xml(xml)
        image = _find_image(ann, image_dirs) if ann else None
        if ann and image is None:
            file_problems.append(DataProblem(
                str(xml), f"image not found: <filename> {ann.filename!r}, <path> {ann.path!r}"))
        if ann and image is not None:
            try:
                width, height, apply_exif = _pixel_frame(ann, image)
                parsed.append((ann, image, width, height, apply_exif))
            except OSError as err:
                file_problems.append(DataProblem(str(image), f"cannot read image: {err}"))
        if file_problems:
            bad_files[str(xml)] = file_problems

    class_names = list(classes) if classes else sorted({o.name for a, *_ in parsed for o in a.objects})
    class_index = {name: i for i, name in enumerate(class_names)}
    for ann, image, width, height, _ in parsed:
        box_problems = _check_boxes(ann, width, height, class_index if classes else None)
        if box_problems:
            bad_files.setdefault(str(ann.xml_path), []).extend(box_problems)

    problems += [p for file_problems in bad_files.values() for p in file_problems]
    if problems and on_error != "skip":
        raise DataError(problems, hint="Fix these files, or set data.on_error: skip to leave them out "
                                       "(the skipped files are then listed and saved with the run).")
    records = [_record(ann, image, w, h, exif, class_index) for ann, image, w, h, exif in parsed
               if str(ann.xml_path) not in bad_files]
    if not classes:  # names only from files that were kept
        used = sorted({class_names[i] for r in records for i in r.labels})
        if used != class_names:
            remap = {class_names.index(n): i for i, n in enumerate(used)}
            for r in records:
                r.labels = np.array([remap[i] for i in r.labels], np.int32)
            class_names = used
    return DetectionDataset(str(source), class_names, records, problems, warnings)
