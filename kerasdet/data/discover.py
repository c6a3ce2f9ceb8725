"""Find the annotation XML of a data source and the image each one describes, whatever the layout.

A source is one of:
- a folder, searched recursively in a stable (sorted) order, hidden folders skipped. The XML may lie
  beside the images, in any sibling folder (`annotations/`, `annots/`, `labels/`, `xml/`, `Annotations/`:
  recognised by what they hold, not by their names), in nested subfolders, or in a Roboflow
  "Pascal VOC" export (`train/ valid/ test/`, XML beside the JPEGs);
- a Pascal VOC devkit: a year folder (`VOC2007/` with `Annotations/`, `JPEGImages/`, `ImageSets/Main/`)
  or a `VOCdevkit/` holding several years;
- `PATH:SPLIT`: in a devkit, the ids listed in `ImageSets/Main/SPLIT.txt` (`VOCdevkit/VOC2007:trainval`);
  in any other folder, its subfolder SPLIT (`val` and `valid` stand for each other);
- a `.txt` list, one entry per line, relative to the list: images (their XML is looked for beside them
  and in the sibling folders above), XML files, or VOC ids (in a devkit's `ImageSets/Main/`).

An XML is paired with an image by the first rule that finds one (`PAIRING_RULES`): its `<filename>`; its
own name with any image suffix; either ignoring letter case; the file name in its `<path>` (or `<path>`
itself when that file exists here). Among several images a rule finds, the nearest to the XML wins (same
folder, then the most folder names in common); a tie is reported as an ambiguity, never a silent pick.
"""
from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..core.source_spec import split_source
from .errors import DataError, DataProblem
from .images import IMAGE_SUFFIXES
from .voc_xml import NOT_AN_ANNOTATION, VocAnnotation, VocObject, read_voc_xml

PAIRING_RULES = {  # rule -> how `kerasdet stats` explains it
    "filename": "by <filename>",
    "stem": "by the XML's own name (no image has its <filename>)",
    "case": "ignoring letter case (no exact match)",
    "path": "by the file name in <path>",
    "named": "by the image its annotation names (another format: no XML)",
}
DEVKIT_FOLDERS = ("Annotations", "JPEGImages")
SPLIT_ALIASES = {"val": "valid", "valid": "val"}
NO_XML_HINT = "save it in LabelImg (even with no boxes, to train on it as a negative)"


@dataclass
class Pair:
    annotation: VocAnnotation
    image: Path
    rule: str  # a key of PAIRING_RULES
    object_problems: list[DataProblem]  # objects the XML parser could not read (each left out)


@dataclass
class Discovery:
    source: str
    layout: str  # one line: what kind of folder this was recognised as
    pairs: list[Pair]
    problems: list[DataProblem] = field(default_factory=list)  # XML that cannot be used: each drops an image
    warnings: list[DataProblem] = field(default_factory=list)  # images without XML, files ignored
    unlabelled: int = 0  # images of the source that no XML describes (each is one of the warnings)

    def pairing_lines(self) -> list[str]:
        """How the pairs were made, most common rule first, e.g. '12 paired by the XML's own name ...'."""
        counts = Counter(p.rule for p in self.pairs)
        return [f"{n} {PAIRING_RULES[rule]}" for rule, n in counts.most_common()]


# --- the source: folder, devkit, split, list ---------------------------------------------------------------

def discover(source: str | Path) -> Discovery:
    """Pairs of (annotation, image) in `source`; raises DataError when it holds none, saying where it
    looked and what it found instead."""
    path, split = split_source(str(source))
    if not path.exists():
        raise DataError([DataProblem(str(path), "no such file or folder")])
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES + (".xml",):  # one file: a list of one
        is_xml = path.suffix.lower() == ".xml"
        found = _pair_listed(str(source), path, [path] if is_xml else [], [] if is_xml else [path])
        found.layout = f"one {'annotation' if is_xml else 'image'} file"
        return found
    fmt = annotation_format(source)
    if fmt:
        return _discover_annotations(path, fmt, str(source))
    if path.is_file():
        return _discover_list(path, str(source))
    if split is not None:
        return _discover_split(path, split, str(source))
    years = _devkit_years(path)
    if years:
        xml, images = [], []
        for year in years:
            year_xml, year_images = _devkit_files(year)
            xml, images = xml + year_xml, images + year_images
        return _pair_folder(str(source), xml, images, _devkit_layout(path, years))
    xml, images = _walk(path)
    return _pair_folder(str(source), xml, images, _folder_layout(path, xml, images))


def source_path(spec: str | Path) -> Path:
    """The file or folder a source names ('VOC2007:trainval' -> VOC2007)."""
    return split_source(spec)[0]


def _discover_split(path: Path, split: str, spec: str) -> Discovery:
    years = _devkit_years(path)
    if years:
        lists = [y / "ImageSets" / "Main" / f"{split}.txt" for y in years]
        found = [f for f in lists if f.is_file()]
        if not found:
            raise DataError([DataProblem(spec, f"no ImageSets/Main/{split}.txt in "
                                               f"{', '.join(str(y) for y in years)}")])
        parts = [_discover_list(f, spec) for f in found]
        merged = parts[0]
        for part in parts[1:]:
            merged.pairs += part.pairs
            merged.problems += part.problems
            merged.warnings += part.warnings
            merged.unlabelled += part.unlabelled
        merged.layout = f"Pascal VOC devkit {', '.join(y.name for y in years)}, split '{split}' " \
                        f"(ids from ImageSets/Main/{split}.txt)"
        return merged
    for name in (split, SPLIT_ALIASES.get(split)):
        if name and (path / name).is_dir():
            found = discover(path / name)
            found.source = spec
            return found
    subfolders = ", ".join(sorted(p.name for p in path.iterdir() if p.is_dir())) or "none"
    raise DataError([DataProblem(spec, f"'{split}' is neither a subfolder of {path} (it has: {subfolders}) "
                                       "nor a split of a Pascal VOC devkit")])


def _discover_list(list_file: Path, spec: str) -> Discovery:
    """A list of images, XML or VOC ids; every entry must be usable (a listed image without XML is a problem)."""
    devkit = _devkit_of_id_list(list_file)
    xml, images, problems = [], [], []
    entries = _list_entries(list_file)
    if not entries:  # an empty split would count, train or evaluate nothing, and say nothing
        raise DataError([DataProblem(str(list_file), "the list is empty: one image, XML file or VOC id a line "
                                                     "expected (`kerasdet split` writes such lists)")])
    for number, entry in entries:
        if devkit is not None and Path(entry).suffix.lower() not in IMAGE_SUFFIXES + (".xml",):
            xml_path = devkit / "Annotations" / f"{entry}.xml"
            if xml_path.is_file():
                xml.append(xml_path)
            else:
                problems.append(DataProblem(str(list_file), f"id {entry!r}: {xml_path} does not exist", number))
            continue
        path = _listed_path(list_file, entry)
        if not path.is_file():
            problems.append(DataProblem(str(list_file), f"listed file {path} does not exist", number))
        elif path.suffix.lower() == ".xml":
            xml.append(path)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            images.append(path)
        else:
            problems.append(DataProblem(str(list_file), f"{entry!r} is not an image, an XML or a VOC id "
                                                         f"(image suffixes: {', '.join(IMAGE_SUFFIXES)})", number))
    if devkit is not None:
        images_here = _files(devkit / "JPEGImages", IMAGE_SUFFIXES)
        found = _pair_folder(spec, xml, images_here, f"Pascal VOC ids listed in {list_file}", unlabelled=False)
    else:
        found = _pair_listed(spec, list_file, xml, images)
    found.problems = problems + found.problems
    return found


def _list_entries(list_file: Path) -> list[tuple[int, str]]:
    """(line number, entry); a VOC class list line `id flag` keeps ids whose flag is not -1 (absent)."""
    entries = []
    try:  # utf-8-sig: a list saved by Notepad starts with a byte-order mark, not part of the first path
        text = list_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError([DataProblem(str(list_file), f"not a text list of paths (not UTF-8: byte {err.start} is "
                                                     f"0x{err.object[err.start]:02x})")]) from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) == 2 and re.fullmatch(r"-?[01]", fields[1]):
            if fields[1] != "-1":
                entries.append((number, fields[0]))
        else:
            entries.append((number, line))
    return entries


def _listed_path(list_file: Path, entry: str) -> Path:
    """A list's entry: absolute, or relative to the list file."""
    return Path(entry) if Path(entry).is_absolute() else (list_file.parent / entry).resolve()


def _devkit_years(folder: Path) -> list[Path]:
    """The VOC year folders of a devkit: `folder` itself, or its children (`VOCdevkit/VOC2007`, ...)."""
    if all((folder / name).is_dir() for name in DEVKIT_FOLDERS):
        return [folder]
    return [c for c in sorted(folder.iterdir()) if c.is_dir() and not c.name.startswith(".")
            and all((c / name).is_dir() for name in DEVKIT_FOLDERS)]


def _devkit_of_id_list(list_file: Path) -> Path | None:
    """`VOC2007/ImageSets/Main/train.txt` -> VOC2007."""
    root = list_file.resolve().parents[2] if len(list_file.resolve().parents) > 2 else None
    if root is not None and list_file.parent.parent.name == "ImageSets" and _devkit_years(root) == [root]:
        return root
    return None


def _devkit_files(year: Path) -> tuple[list[Path], list[Path]]:
    """A devkit year's annotations and images (its Segmentation*/ PNGs are not training images)."""
    return _files(year / "Annotations", (".xml",)), _files(year / "JPEGImages", IMAGE_SUFFIXES)


def _files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes and p.is_file())


def _walk(root: Path) -> tuple[list[Path], list[Path]]:
    """Every XML and image under `root`; a devkit year folder inside contributes only its two folders."""
    xml, images, seen = [], [], set()
    for folder, subfolders, names in os.walk(root, followlinks=True):  # linked image folders are common
        here = Path(folder)
        if os.path.realpath(folder) in seen:  # a link back up the tree
            subfolders[:] = []
            continue
        seen.add(os.path.realpath(folder))
        if here != root and all(n in subfolders for n in DEVKIT_FOLDERS):
            year_xml, year_images = _devkit_files(here)
            xml, images = xml + year_xml, images + year_images
            subfolders[:] = []
            continue
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__pycache__")
        for name in sorted(names):
            suffix = os.path.splitext(name)[1].lower()
            if suffix == ".xml":
                xml.append(here / name)
            elif suffix in IMAGE_SUFFIXES:
                images.append(here / name)
    return sorted(xml), sorted(images)


def find_images(source: str | Path) -> list[Path]:
    """Every image of a source, labelled or not (for detection and calibration): an image file; a folder,
    searched recursively (a devkit's JPEGImages/ only); a .txt list of images; any data source above
    (`DIR:SPLIT`, a list of XML or VOC ids) for the images its annotations describe."""
    path, split = split_source(str(source))
    if not path.exists():
        raise DataError([DataProblem(str(path), "no such file or folder")])
    if path.is_dir() and split is None:
        images = _walk(path)[1]
        if not images:
            raise DataError([DataProblem(str(path), f"no images in this folder or its subfolders (looked for "
                                                    f"{', '.join(IMAGE_SUFFIXES)})")])
        return images
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return [path]
    if path.suffix.lower() == ".txt" and split is None:
        entries = [(n, _listed_path(path, e)) for n, e in _list_entries(path)]
        if entries and all(e.suffix.lower() in IMAGE_SUFFIXES for _, e in entries):
            missing = [DataProblem(str(path), f"listed image {e} does not exist", n) for n, e in entries
                       if not e.is_file()]
            if missing:
                raise DataError(missing)
            return [e for _, e in entries]
    if path.is_file() and path.suffix.lower() not in (".txt", ".json", ".csv"):  # .json, .csv: annotation_format
        raise DataError([DataProblem(str(path), "not an image, a folder of images or a .txt list")])
    return [p.image for p in discover(source).pairs]


# --- other annotation formats: read with `kerasdet convert`'s readers ------------------------------------------

FORMAT_NAMES = {"coco": "COCO JSON", "cloud": "Cloud Annotations JSON", "labelme": "LabelMe JSON",
                "csv": "TF Object Detection API CSV", "yolo": "YOLO txt labels"}
SOURCES = ("a folder of images with LabelImg XML, FOLDER:SPLIT, a .txt list of images, a COCO / Cloud Annotations "
           "/ LabelMe .json, a TF Object Detection API .csv, or a folder of YOLO txt labels with classes.txt")
NOT_DATA = {".keras": "a Keras model", ".tflite": "a TFLite model", ".h5": "a Keras / HDF5 model",
            ".onnx": "an ONNX model", ".pt": "a PyTorch model", ".pb": "a TensorFlow graph",
            ".npz": "a NumPy archive (a run's resume state?)", ".pbtxt": "a label map (class names, no boxes)",
            ".yaml": "a YAML file (a config?)", ".yml": "a YAML file (a config?)"}


def annotation_format(source: str | Path) -> str | None:
    """The format of a source that is not LabelImg XML, read through `kerasdet convert`'s readers
    (kerasdet/data/formats): 'coco', 'cloud', 'labelme' (a .json, or a folder of LabelMe .json without XML),
    'csv' (TF OD API), 'yolo' (a folder of YOLO .txt labels with classes.txt or data.yaml, without XML);
    None for a LabelImg source. A file that is no data source (a model, a binary file, JSON of another
    kind) is a DataError naming it."""
    path, split = split_source(str(source))
    if split is not None or not path.exists():
        return None
    if path.is_dir():
        if next(path.rglob("*.xml"), None):
            return None
        from .formats.labelme import is_labelme_folder
        from .formats.yolo_txt import is_yolo_folder
        return "yolo" if is_yolo_folder(path) else "labelme" if is_labelme_folder(path) else None
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES + (".xml", ".txt"):
        return None
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        from .formats import is_cloud_annotations, is_coco, is_labelme, load_json
        data = load_json(path)
        for fmt, fits in (("cloud", is_cloud_annotations), ("coco", is_coco), ("labelme", is_labelme)):
            if fits(data):
                return fmt
        raise NotADataSource(path, 'JSON, but neither COCO (an "images" list), Cloud Annotations (an "annotations" '
                                   f'object) nor LabelMe ("shapes" and "imagePath"): give {SOURCES}')
    what = NOT_DATA.get(suffix)
    if what is None:
        with open(path, "rb") as f:
            head = f.read(4096)
        if b"\0" not in head:
            return None  # text: a list of images, XML or VOC ids under another name
        what = "a binary file"
    raise NotADataSource(path, f"{what}, not annotated images: give {SOURCES}")


class NotADataSource(DataError):
    """A file given as data that no reader takes (a model, a binary file, JSON of another kind): one
    sentence naming it, not a list of problems."""

    def __init__(self, path: Path, message: str):
        super().__init__([DataProblem(str(path), message)])
        self.args = (f"{path}: {message}",)


def _discover_annotations(path: Path, fmt: str, spec: str) -> Discovery:
    """Pairs from a source in another annotation format, read as `kerasdet convert` reads it; each box and
    image then gets the LabelImg checks (load_dataset). Problems of the file itself (a malformed line, an
    image it names that is not there) stop the reading, whatever data.on_error says."""
    from .formats import read_cloud_annotations, read_coco, read_csv_table, read_labelme, read_yolo
    from .formats.yolo_txt import label_files
    what = FORMAT_NAMES[fmt]
    files = sorted(path.rglob("*.json")) if fmt == "labelme" and path.is_dir() else [path]  # LabelMe: one per image
    read, failed = [], []
    for file in files:
        try:
            if fmt in ("coco", "yolo"):
                items = (read_coco if fmt == "coco" else read_yolo)(file)[0]
            else:
                items = {"cloud": read_cloud_annotations, "csv": read_csv_table, "labelme": read_labelme}[fmt](file)
        except DataError as err:
            failed += err.problems
            continue
        read += [(item, file) for item in items]
    if failed:
        raise DataError(failed, hint=f"{path} is read as {what}, as `kerasdet convert` reads it: fix these files "
                                     "(data.on_error: skip cannot leave out a file it cannot read).")
    labels = {}
    if fmt == "yolo":  # each image's own label file, when no two share a name
        stems = Counter(label.stem for label in label_files(path))
        labels = {label.stem: label for label in label_files(path) if stems[label.stem] == 1}
    pairs, problems, seen = [], [], set()
    for item, file in read:
        image = Path(item.image)
        own = file if fmt == "labelme" else labels.get(image.stem)  # else one file holds many images' boxes
        annotation_file = own or Path(f"{path} (image {image.name})")
        if not image.is_file():
            problems.append(DataProblem(str(annotation_file), f"image not found: {image} ({what} images are looked "
                                        f"for beside {path}; to keep them elsewhere, `kerasdet convert {path} "
                                        "XML_FOLDER --images IMAGES_FOLDER` and train on XML_FOLDER)"))
            continue
        if image in seen:
            problems.append(DataProblem(str(annotation_file), f"{image} is annotated twice in {path}; the second "
                                                              "is left out"))
            continue
        seen.add(image)
        ann = _NamedAnnotation(annotation_file, image.name, str(image), int(item.width), int(item.height))
        ann.objects = [VocObject(obj[0], tuple(float(v) for v in obj[1]), bool(getattr(obj, "difficult", False)),
                                 bool(getattr(obj, "truncated", False)), 0) for obj in item.objects]
        pairs.append(Pair(ann, image, "named", []))
    if not pairs and not problems:
        problems.append(DataProblem(str(path), f"{what} without a single image"))
    folders = sorted({p.image.parent for p in pairs})
    where = f"in {folders[0]}" if len(folders) == 1 else f"in {len(folders)} folders" if folders else "none found"
    return Discovery(spec, f"{what}, {len(read)} images {where}", pairs, problems)


@dataclass
class _NamedAnnotation(VocAnnotation):
    """An image's annotation in another format: `xml_path` is the file that holds it (for one file of
    many images, 'FILE (image NAME)'), its size the one that file gives."""
    size_text: str = "size"  # what `load_dataset` calls the size it was drawn on (LabelImg: <size>)


# --- pairing -------------------------------------------------------------------------------------------------

class _ImageIndex:
    """Images by exact and lower-case name and stem."""

    def __init__(self, images: list[Path]):
        self.by = {key: defaultdict(list) for key in ("name", "stem", "name_lower", "stem_lower")}
        for image in images:
            self.by["name"][image.name].append(image)
            self.by["stem"][image.stem].append(image)
            self.by["name_lower"][image.name.lower()].append(image)
            self.by["stem_lower"][image.stem.lower()].append(image)

    def candidates(self, ann: VocAnnotation) -> list[tuple[str, list[Path]]]:
        """(rule, images it finds) in rule order."""
        stem = ann.xml_path.stem
        path_name = _base_name(ann.path)
        outside = [Path(ann.path)] if ann.path and Path(ann.path).is_absolute() and Path(ann.path).is_file() \
            and Path(ann.path).suffix.lower() in IMAGE_SUFFIXES else []
        # <filename> may hold a folder ('images/a.jpg') or no suffix at all ('000001'): then it names a stem
        name = _base_name(ann.filename)
        key = "name" if Path(name).suffix.lower() in IMAGE_SUFFIXES else "stem"
        return [
            ("filename", self.by[key].get(name, []) if name else []),
            ("stem", self.by["stem"].get(stem, [])),
            ("case", (self.by[f"{key}_lower"].get(name.lower(), []) if name else [])
             + self.by["stem_lower"].get(stem.lower(), [])),
            ("path", (self.by["name_lower"].get(path_name.lower(), []) if path_name else []) + outside),
        ]


def _base_name(path_text: str) -> str:
    """The file name of a path written on any system (LabelImg on Windows writes backslashes)."""
    return re.split(r"[\\/]", path_text)[-1] if path_text else ""


def _nearness(xml_dir: Path, image_dir: Path) -> tuple[bool, int]:
    """Same folder first, then the number of folder names shared from the root and from the end
    (`annotations/train` is nearer to `images/train` than to `images/val`)."""
    a, b = xml_dir.parts, image_dir.parts
    prefix = len(os.path.commonprefix([a, b]))
    suffix = len(os.path.commonprefix([a[prefix:][::-1], b[prefix:][::-1]]))
    return xml_dir == image_dir, prefix + suffix


def _pair_one(ann: VocAnnotation, index: _ImageIndex) -> tuple[Path | None, str, list[Path]]:
    """(image, rule, []) or (None, "", tied images) for an ambiguity, (None, "", []) when nothing fits."""
    for rule, found in index.candidates(ann):
        found = list(dict.fromkeys(found))
        if not found:
            continue
        scores = {image: _nearness(ann.xml_path.parent, image.parent) for image in found}
        best = max(scores.values())
        nearest = [image for image, score in scores.items() if score == best]
        return (nearest[0], rule, []) if len(nearest) == 1 else (None, "", nearest)
    return None, "", []


def _pair(spec: str, xml_files: list[Path], index: _ImageIndex) -> tuple[list[Pair], list[DataProblem],
                                                                          list[DataProblem]]:
    pairs, problems, ignored = [], [], []
    for xml in xml_files:
        ann, parse_problems = read_voc_xml(xml)
        if ann is None:
            if parse_problems and parse_problems[0].message.startswith(NOT_AN_ANNOTATION):
                ignored.append(DataProblem(str(xml), parse_problems[0].message + ": not a LabelImg / "
                                           "Pascal VOC annotation, ignored", parse_problems[0].line))
            else:
                problems += parse_problems
            continue
        image, rule, tied = _pair_one(ann, index)
        if tied:
            problems.append(DataProblem(str(xml), "which image? " + ", ".join(str(t) for t in tied) + " fit "
                                        f"equally (<filename> {ann.filename!r}); set <filename> to the right one"))
        elif image is None:
            problems.append(DataProblem(str(xml), f"image not found: <filename> {ann.filename!r}, "
                                                  f"<path> {ann.path!r}"))
        else:
            pairs.append(Pair(ann, image, rule, parse_problems))
    kept, doubles = _one_xml_per_image(pairs)
    return kept, problems + doubles, ignored


def _one_xml_per_image(pairs: list[Pair]) -> tuple[list[Pair], list[DataProblem]]:
    """Where two XML describe one image, the one paired by the surer rule is kept (its <filename> names the
    image, over one that only shares its name); of two paired alike, the first. The other is a problem."""
    rank = {rule: i for i, rule in enumerate(PAIRING_RULES)}
    best: dict[Path, Pair] = {}
    for pair in pairs:
        held = best.get(pair.image)
        if held is None or rank[pair.rule] < rank[held.rule]:
            best[pair.image] = pair
    problems = [DataProblem(str(p.annotation.xml_path), f"describes {p.image} ({PAIRING_RULES[p.rule]}), as "
                            f"{best[p.image].annotation.xml_path} does already ({PAIRING_RULES[best[p.image].rule]}); "
                            "left out (delete one of the two)")
                for p in pairs if best[p.image] is not p]
    return [p for p in pairs if best[p.image] is p], problems


def _unlabelled(images: list[Path], pairs: list[Pair]) -> list[DataProblem]:
    """Images no XML describes; one sharing its stem with a paired image says which (a.jpg + a.png)."""
    used = {p.image for p in pairs}
    by_stem = {(p.image.parent, p.image.stem.lower()): p for p in pairs}
    warnings = []
    for image in images:
        if image in used:
            continue
        twin = by_stem.get((image.parent, image.stem.lower()))
        if twin is not None:
            message = (f"not used: {twin.annotation.xml_path.name} describes {twin.image.name}, which has the same "
                       f"name; give this image its own XML, or remove it")
        else:
            message = f"image has no XML and is not used ({NO_XML_HINT})"
        warnings.append(DataProblem(str(image), message))
    return warnings


def _pair_folder(spec: str, xml: list[Path], images: list[Path], layout: str, unlabelled: bool = True) -> Discovery:
    pairs, problems, ignored = _pair(spec, xml, _ImageIndex(images))
    if not pairs and not problems:
        raise DataError([DataProblem(spec, _nothing_found(Path(spec), xml, images, ignored))])
    if not pairs:
        problems.insert(0, DataProblem(spec, "no XML could be paired with an image: XML in " + _folders(xml)
                                       + "; images in " + (_folders(images) or "no folder")))
    unused = _unlabelled(images, pairs) if unlabelled else []
    return Discovery(spec, layout, pairs, problems, ignored + unused, len(unused))


def _pair_listed(spec: str, list_file: Path, xml: list[Path], images: list[Path]) -> Discovery:
    """Listed XML pair as anywhere; a listed image is paired with the XML of its folder or of the folders
    beside it (`images/x.jpg` <- `annots/x.xml`, `images/train/x.jpg` <- `labels/train/x.xml`)."""
    search = sorted({d for i in {i.parent for i in images} for d in _annotation_folders(i)})
    folders = sorted({i.parent for i in images} | set(search)
                     | {d for x in {x.parent for x in xml} for d in [x, *_mirrors(x)]})
    index = _ImageIndex(sorted(set(images) | {p for d in folders for p in _files(d, IMAGE_SUFFIXES)}))
    listed = set(images)
    candidates = sorted(set(xml) | _xml_named_like(images, search))
    pairs, problems, ignored = _pair(spec, candidates, index)
    missing = listed - {p.image for p in pairs}
    if missing:  # XML saved under another name than the image's: read the others in those folders
        others = sorted({x for d in search for x in _files(d, (".xml",))} - set(candidates))
        more, _, _ = _pair(spec, others, index)
        pairs += [p for p in more if p.image in missing]
    keep = set(xml) | {p.annotation.xml_path for p in pairs if p.image in listed}
    pairs = [p for p in pairs if p.annotation.xml_path in keep]
    read = set(candidates)
    problems = [p for p in problems if Path(p.file) in read]
    paired = {p.image for p in pairs}
    problems += [DataProblem(str(image), f"no XML describes this image (looked in "
                                         f"{', '.join(str(d) for d in _annotation_folders(image.parent))})")
                 for image in images if image not in paired]
    listed = " and ".join(f"{n} {what}" for n, what in ((len(images), "images"), (len(xml), "XML")) if n)
    return Discovery(spec, f"a list of {listed or 'nothing'}", pairs, problems, ignored)


def _mirrors(folder: Path) -> list[Path]:
    """Folders that mirror `folder` one or two levels up: `images/` -> `annots/`, `images/train/` ->
    `labels/train/` (only those that exist)."""
    found = []
    for up in (1, 2):
        if len(folder.parts) <= up + 1:
            break
        base, rest = folder.parents[up - 1], folder.parts[len(folder.parts) - up + 1:]
        found += [sibling.joinpath(*rest) for sibling in sorted(base.iterdir())
                  if sibling.is_dir() and not sibling.name.startswith(".") and sibling.joinpath(*rest).is_dir()]
    return [f for f in dict.fromkeys(found) if f != folder]


def _annotation_folders(image_dir: Path) -> list[Path]:
    """Where an image's XML may be: its own folder when that holds XML, else the folders mirroring it and
    the folders of XML beside its parent (`images/<class>/x.jpg` <- `annotations/x.xml`)."""
    if _files(image_dir, (".xml",)):
        return [image_dir]
    flat = []
    if len(image_dir.parts) > 2:
        parent = image_dir.parent
        flat = [d for d in sorted(parent.parent.iterdir()) if d.is_dir() and d != parent
                and not d.name.startswith(".") and _files(d, (".xml",))]
    return list(dict.fromkeys(_mirrors(image_dir) + flat)) or [image_dir]


def _xml_named_like(images: list[Path], folders: list[Path]) -> set[Path]:
    stems = {i.stem for i in images}
    return {x for d in folders for x in _files(d, (".xml",)) if x.stem in stems}


# --- describing what was found --------------------------------------------------------------------------------

def _folder_layout(root: Path, xml: list[Path], images: list[Path]) -> str:
    xml_dirs = Counter(x.parent for x in xml)
    image_dirs = Counter(i.parent for i in images)
    beside = sum(1 for d in xml_dirs if d in image_dirs)

    def names(dirs):
        shown = [os.path.relpath(d, root) + "/" for d in sorted(dirs)][:4]
        return ", ".join(shown) + (" ..." if len(dirs) > 4 else "")

    if xml_dirs and beside == len(xml_dirs):
        kind = "XML beside the images"
    elif beside == 0:
        kind = f"images in {names(image_dirs)}, XML in {names(xml_dirs)}"
    else:
        kind = "XML beside the images and in separate folders"
    folders = set(xml_dirs) | set(image_dirs)
    splits = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name in ("train", "val", "valid", "test"))
    nested = any(len(d.relative_to(root).parts) > 1 for d in folders) or len(folders) > 2
    note = f", in {len(folders)} folders (searched recursively)" if nested else ""
    if len(splits) > 1:
        note += (f"; {', '.join(s + '/' for s in splits)} look like splits and were all read: "
                 f"give {root}:{splits[-1]} (or another) to read one")
    return kind + note


def _devkit_layout(root: Path, years: list[Path]) -> str:
    names = ", ".join(y.name for y in years)
    splits = sorted({f.stem for y in years for f in _files(y / "ImageSets" / "Main", (".txt",))
                     if "_" not in f.stem})
    hint = f"; its splits: {', '.join(splits)} (read one as {root}:{splits[0]})" if splits else ""
    return f"Pascal VOC devkit {names} (Annotations/ + JPEGImages/), all annotations{hint}"


def _folders(files: list[Path]) -> str:
    counts = Counter(f.parent for f in files)
    return ", ".join(f"{d} ({n})" for d, n in counts.most_common(5)) + (" ..." if len(counts) > 5 else "")


def _nothing_found(root: Path, xml: list[Path], images: list[Path], ignored: list[DataProblem]) -> str:
    image_dirs = Counter(i.parent for i in images)
    where = ", ".join(f"{d} ({n} images)" for d, n in image_dirs.most_common(5)) or "none"
    message = (f"no LabelImg / Pascal VOC XML found: searched {root} and its subfolders for .xml files with an "
               f"<annotation> root (beside the images, in a sibling folder such as annotations/, or a VOC "
               f"devkit's Annotations/ + JPEGImages/). Folders with images: {where}")
    if ignored:
        message += f". {len(ignored)} .xml files are not annotations, e.g. {ignored[0].file}"
    if not images:
        message += f"; no images either ({', '.join(IMAGE_SUFFIXES)})"
    other = _other_format_hint(root) if root.is_dir() else ""
    return message + (f". {other}" if other else "")


def _other_format_hint(root: Path) -> str:
    """What else a folder without XML may hold: an annotation file kerasdet reads, or YOLO labels without
    their class names."""
    for file in sorted(root.glob("*.json"))[:20] + sorted(root.glob("*.csv"))[:20]:
        try:
            fmt = annotation_format(file)
        except DataError:
            continue
        if fmt:
            return f"{file} is {FORMAT_NAMES[fmt]}: give that file as the data"
    for label in [p for p in sorted(root.rglob("*.txt")) if p.name != "classes.txt"][:50]:
        first = next((ln for ln in label.read_text(errors="replace").splitlines() if ln.strip()), "")
        if re.fullmatch(r"\s*\d+(\s+[-+0-9.eE]+){4}\s*", first):
            return (f"Its .txt files look like YOLO labels (e.g. {label}): add a classes.txt beside them, one class "
                    "name a line in index order, to read them")
    return ""
