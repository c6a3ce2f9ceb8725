"""Read one LabelImg / Pascal-VOC XML file, keeping line numbers for error messages."""
from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from .errors import DataProblem

_LINE = "__line__"  # attribute under which the element's source line is kept
NOT_AN_ANNOTATION = "root element is"  # how the problem of an XML that is no annotation at all begins


@dataclass
class VocObject:
    name: str
    box: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in image pixels
    difficult: bool
    truncated: bool
    line: int


@dataclass
class VocAnnotation:
    xml_path: Path
    filename: str  # the <filename> field, may be empty
    path: str  # the <path> field: often absolute, from the labeller's machine
    width: int  # from <size>; 0 when absent
    height: int
    objects: list[VocObject] = field(default_factory=list)


def _parse_with_lines(data: bytes) -> ET.Element:
    """ElementTree keeps no line numbers, so build the tree from expat events and record them."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda tag, attrs: builder.start(
        tag, {**attrs, _LINE: str(parser.CurrentLineNumber)})
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.Parse(data, True)
    return builder.close()


def _line(el: ET.Element) -> int:
    return int(el.get(_LINE, 0))


def _text(el: ET.Element, tag: str) -> str:
    child = el.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _number(el: ET.Element, tag: str, xml_path: Path) -> float:
    child = el.find(tag)
    if child is None:
        raise _Problem(DataProblem(str(xml_path), f"<{tag}> is missing", _line(el)))
    try:
        value = float((child.text or "").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _Problem(DataProblem(str(xml_path), f"<{tag}> is not a number: {child.text!r}", _line(child)))
    return value


class _Problem(Exception):
    def __init__(self, problem: DataProblem):
        self.problem = problem


def read_voc_xml(xml_path: str | Path) -> tuple[VocAnnotation | None, list[DataProblem]]:
    """Parse one file. Returns (annotation, problems); the annotation is None if unreadable.

    Box geometry against the image is checked later, once the image's real size is known.
    """
    xml_path = Path(xml_path)
    try:
        root = _parse_with_lines(xml_path.read_bytes())
    except expat.ExpatError as err:
        return None, [DataProblem(str(xml_path), f"malformed XML: {expat.errors.messages[err.code]}",
                                  err.lineno)]
    except OSError as err:
        return None, [DataProblem(str(xml_path), f"cannot read: {err.strerror}")]
    if root.tag != "annotation":
        return None, [DataProblem(str(xml_path), f"{NOT_AN_ANNOTATION} <{root.tag}>, expected <annotation>",
                                  _line(root))]
    problems = []
    size = root.find("size")
    width = height = 0
    if size is not None:
        try:
            width, height = int(_number(size, "width", xml_path)), int(_number(size, "height", xml_path))
        except _Problem:
            width = height = 0  # <size> is advisory: the image itself is the authority
    ann = VocAnnotation(xml_path, _text(root, "filename"), _text(root, "path"), width, height)
    for obj in root.findall("object"):
        name = _text(obj, "name")
        if not name:
            problems.append(DataProblem(str(xml_path), "object without a <name>", _line(obj)))
            continue
        bndbox = obj.find("bndbox")
        if bndbox is None:
            problems.append(DataProblem(str(xml_path), f"object '{name}' has no <bndbox>", _line(obj)))
            continue
        try:
            box = tuple(_number(bndbox, tag, xml_path) for tag in ("xmin", "ymin", "xmax", "ymax"))
        except _Problem as p:
            problems.append(p.problem)
            continue
        ann.objects.append(VocObject(name, box, _text(obj, "difficult") == "1",
                                     _text(obj, "truncated") == "1", _line(obj)))
    return ann, problems


def xml_file_names(images: list[Path]) -> dict[Path, str]:
    """A distinct XML file name for each image, for one output folder: `<stem>.xml`, where LabelImg looks
    for it; the later images sharing a stem (a.png after a.jpg, or another folder's a.jpg) get
    `<stem>_<suffix>.xml`, then a number; their <filename> and <path> still pair them for kerasdet."""
    names, used = {}, set()
    for p in images:
        suffixed = f"{p.stem}_{p.suffix[1:].lower()}"
        candidates = itertools.chain([p.stem, suffixed], (f"{suffixed}_{k}" for k in itertools.count(2)))
        name = next(c for c in candidates if c.lower() not in used)
        used.add(name.lower())
        names[p] = f"{name}.xml"
    return names


def write_voc_xml(xml_path: str | Path, image_filename: str, width: int, height: int,
                  objects: list[tuple[str, tuple[float, float, float, float]]],
                  image_path: str | None = None) -> None:
    """Write a LabelImg-compatible annotation (demo data, pre-annotation, converters).

    `image_path` (default: the file name) is where the image is, for XML saved in another folder.
    """
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = Path(xml_path).parent.name
    ET.SubElement(root, "filename").text = image_filename
    ET.SubElement(root, "path").text = image_path or image_filename
    ET.SubElement(ET.SubElement(root, "source"), "database").text = "Unknown"
    size = ET.SubElement(root, "size")
    for tag, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for name, box in objects:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = name
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "0"
        ET.SubElement(obj, "difficult").text = "0"
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), box):
            ET.SubElement(bndbox, tag).text = str(int(round(value)))
    ET.indent(root, "\t")
    ET.ElementTree(root).write(xml_path, encoding="utf-8")
