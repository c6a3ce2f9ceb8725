"""Read one LabelImg / Pascal-VOC XML file, keeping line numbers for error messages."""
from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import numpy as np

from ..core.files import write_text
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


def coordinate_text(value: float, exact: bool = True) -> str:
    """A box coordinate as LabelImg XML holds it: whole pixels as integers (`12`, not `12.0`), a fraction
    with the fewest digits that read back as the same number (`12.25`), never an exponent; so writing
    what was read gives the same coordinates, not ones moved by up to half a pixel. `exact=False`: the
    nearest whole pixel, as LabelImg itself writes (demo data, pre-annotation)."""
    number = float(value) if exact else float(round(float(value)))
    if number.is_integer():
        return str(int(number))
    typed = value if isinstance(value, np.floating) else np.float64(number)  # float32 keeps its short form
    return np.format_float_positional(typed, unique=True, trim="-")


def _flag(obj, index: int, name: str) -> bool:
    """`difficult` / `truncated` of an object given as an AnnotatedObject or VocObject (attributes),
    a `(name, box, difficult, truncated)` tuple, or a plain `(name, box)` pair (False)."""
    if hasattr(obj, name):
        return bool(getattr(obj, name))
    return bool(obj[index]) if isinstance(obj, tuple) and len(obj) > index else False


def _name_and_box(obj) -> tuple[str, tuple]:
    return (obj.name, obj.box) if isinstance(obj, VocObject) else (obj[0], obj[1])


def voc_xml_text(xml_path: str | Path, image_filename: str, width: int, height: int, objects: list,
                 image_path: str | None = None, database: str = "Unknown", exact: bool = False) -> str:
    """The text of a LabelImg-compatible annotation: `objects` are (name, box) pairs, optionally with
    difficult and truncated (see `_flag`); `image_path` (default: the file name) is where the image is,
    for XML saved in another folder; `database`, the <source><database> (LabelImg writes 'Unknown');
    `exact`: coordinates as given (`coordinate_text`), else whole pixels as LabelImg writes them."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = Path(xml_path).parent.name
    ET.SubElement(root, "filename").text = image_filename
    ET.SubElement(root, "path").text = image_path or image_filename
    ET.SubElement(ET.SubElement(root, "source"), "database").text = database
    size = ET.SubElement(root, "size")
    for tag, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for item in objects:
        name, box = _name_and_box(item)
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = name
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = str(int(_flag(item, 3, "truncated")))
        ET.SubElement(obj, "difficult").text = str(int(_flag(item, 2, "difficult")))
        bndbox = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), box):
            ET.SubElement(bndbox, tag).text = coordinate_text(value, exact)
    ET.indent(root, "\t")
    return ET.tostring(root, encoding="unicode")


def write_voc_xml(xml_path: str | Path, image_filename: str, width: int, height: int, objects: list,
                  image_path: str | None = None, replace: bool = True, database: str = "Unknown",
                  exact: bool = False) -> Path:
    """Write a LabelImg-compatible annotation (demo data, pre-annotation, converters) through
    core/files.py: a temporary name renamed into place. `replace=False` (convert) refuses an XML
    kerasdet did not write; True (the default, as before) is for callers that decided themselves
    (detect replaces only an XML it wrote and nobody corrected). `exact` (convert): fractional
    coordinates as given, so converting moves no box; else whole pixels, as LabelImg writes them.
    See `voc_xml_text` for the rest."""
    text = voc_xml_text(xml_path, image_filename, width, height, objects, image_path, database, exact)
    return write_text(xml_path, text, replace=replace)
