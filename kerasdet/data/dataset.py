"""LabelImg annotations -> checked `ImageRecord`s: every problem named, nothing lost without a word.

`discover` finds the XML and the image each describes, whatever the layout. Here each image is checked
(readable, complete, the size its XML was drawn on) and each box (a number, positive area, inside the
image, a known class, not a case variant of another class). A bad box leaves out that box; a bad image
or XML leaves out that image. A problem with no decision behind it (a box of no area, a stray click; one
wholly outside its image) is always left out and listed in `problems`: a user cannot fix a stray click
in someone else's set, and the first run should train. What needs a decision (an unknown class, a damaged
image, a <size> that disagrees with the image...) stops with `on_error="raise"` (the default), all
problems listed at once; with "skip" it is left out and listed too.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.records import ImageRecord
from .discover import Discovery, Pair, discover
from .errors import DataError, DataProblem
from .images import damage_reason, image_header, oriented_size
from .voc_xml import VocObject

SKIP_HINT = ("Fix these files, or set data.on_error: skip to leave out only what is listed (a bad box drops "
             "that box, a bad image or XML that image).")


@dataclass
class DetectionDataset:
    source: str
    class_names: list[str]
    records: list[ImageRecord]
    problems: list[DataProblem] = field(default_factory=list)  # each left out a box or an image
    warnings: list[DataProblem] = field(default_factory=list)  # images without XML, files ignored
    layout: str = ""  # what the source was recognised as
    pairing: list[str] = field(default_factory=list)  # how XML were paired with images, one line per rule
    images_dropped: int = 0
    boxes_dropped: int = 0
    images_unlabelled: int = 0  # images of the source without an XML (listed in `warnings`)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def boxes(self) -> int:
        return sum(len(r.boxes) for r in self.records)

    def boxes_per_class(self) -> dict[str, int]:
        counts = np.bincount(np.concatenate([r.labels for r in self.records] + [np.zeros(0, int)]),
                             minlength=len(self.class_names))
        return dict(zip(self.class_names, counts.tolist()))

    def summary(self) -> str:
        """One line: what is used and what is not (`kerasdet train` prints it for each split)."""
        line = f"{len(self.records)} images, {self.boxes} boxes"
        left_out = [f"{n} {what}" for n, what in ((self.images_dropped, "images"), (self.boxes_dropped, "boxes"))
                    if n]
        if left_out:
            line += f"; left out: {' and '.join(left_out)} with problems"
        if self.images_unlabelled:
            line += f"; {self.images_unlabelled} images without XML not used"
        return line

    def problem_lines(self, limit: int = 10) -> list[str]:
        """The problems as `kerasdet train` prints them: the first `limit`, then how many more."""
        more = [f"... and {len(self.problems) - limit} more"] if len(self.problems) > limit else []
        return [str(p) for p in self.problems[:limit]] + more

    def report(self) -> dict:
        """Everything about how the source was read, for the run folder."""
        return {"source": self.source, "layout": self.layout, "pairing": self.pairing,
                "images": len(self.records), "boxes": self.boxes, "classes": self.class_names,
                "images_dropped": self.images_dropped, "boxes_dropped": self.boxes_dropped,
                "problems": [str(p) for p in self.problems], "warnings": [str(w) for w in self.warnings]}


@dataclass
class _Checked:
    pair: Pair
    width: int  # of the pixels the boxes were drawn on
    height: int
    apply_exif: bool
    objects: list[VocObject] = field(default_factory=list)  # the boxes that passed


def _pixel_frame(pair: Pair) -> tuple[int, int, bool]:
    """(width, height, apply_exif) of the pixels the boxes were drawn on; OSError when unusable.

    Photos from phones carry an EXIF rotation. Tools that honour it label the rotated picture; older
    LabelImg builds label the stored pixels. The XML's <size> tells which one was seen; a <size> that is
    neither means the image was resized after labelling, and its boxes no longer fit it.
    """
    raw_w, raw_h, orientation = image_header(pair.image)
    reason = damage_reason(pair.image)
    if reason:
        raise OSError(reason)
    width, height = oriented_size(raw_w, raw_h, orientation)
    ann = pair.annotation
    if ann.width > 0 and ann.height > 0 and (ann.width, ann.height) not in ((width, height), (raw_w, raw_h)):
        size = getattr(ann, "size_text", "<size>")  # another format's annotation (discover.py) has no <size>
        raise OSError(f"{ann.xml_path.name}'s {size} is {ann.width}x{ann.height} but the image is {width}x{height}:"
                      " resized after labelling? Its boxes would be wrong; label it again")
    if (width, height) != (raw_w, raw_h) and (ann.width, ann.height) == (raw_w, raw_h):
        return raw_w, raw_h, False
    return width, height, True


def _box_problem(obj: VocObject, width: int, height: int) -> tuple[str, bool] | None:
    """(What is wrong with a box, whether it needs the user's decision); None for a good box. A box with
    nothing inside the image (no area, or wholly outside it) holds no object to learn: leaving it out is
    what anyone would do. Swapped corners or a box partly outside may be a mistake worth fixing."""
    xmin, ymin, xmax, ymax = obj.box
    where = f"object '{obj.name}' box ({xmin:g}, {ymin:g}, {xmax:g}, {ymax:g})"
    if xmax == xmin or ymax == ymin:
        return f"{where}: xmin == xmax or ymin == ymax, a box of no area (a stray click?)", False
    if xmax < xmin or ymax < ymin:
        return f"{where}: xmax < xmin or ymax < ymin (corners swapped?)", True
    if min(xmax, width) <= max(xmin, 0) or min(ymax, height) <= max(ymin, 0):
        return f"{where} lies wholly outside the {width}x{height} image", False
    if xmin < 0 or ymin < 0 or xmax > width or ymax > height:
        return f"{where} lies outside the {width}x{height} image", True
    return None


def _case_variants(checked: list[_Checked]) -> dict[str, str]:
    """{'Heart': 'heart'}: a spelling -> the most used spelling of the same name ignoring letter case."""
    counts = Counter(o.name for c in checked for o in c.objects)
    main: dict[str, str] = {}
    for name in sorted(counts, key=lambda n: (-counts[n], n != n.lower(), n)):  # ties: lower case first
        main.setdefault(name.lower(), name)
    return {name: main[name.lower()] for name in counts if main[name.lower()] != name}


def _class_problems(checked: list[_Checked], classes: list[str] | None) -> list[DataProblem]:
    """Boxes of a class not in `classes`, or (no classes given) spelled like another class but for case."""
    problems = []
    variants = {} if classes else _case_variants(checked)
    counts = Counter(o.name for c in checked for o in c.objects)
    for c in checked:
        kept = []
        for obj in c.objects:
            xml = str(c.pair.annotation.xml_path)
            if classes and obj.name not in classes:
                problems.append(DataProblem(xml, f"unknown class '{obj.name}' (data.classes: {', '.join(classes)})",
                                            obj.line))
            elif obj.name in variants:
                main = variants[obj.name]
                problems.append(DataProblem(xml, f"class '{obj.name}' differs from '{main}' ({counts[main]} boxes) "
                                                 "only in letter case: use one spelling, or list both in "
                                                 "data.classes", obj.line))
            else:
                kept.append(obj)
        c.objects = kept
    return problems


def _check(found: Discovery, classes: list[str] | None) -> tuple[list[_Checked], list[DataProblem], int, int]:
    """(usable images with their good boxes, problems, images dropped, boxes dropped)."""
    problems = list(found.problems)
    images_dropped = len(found.problems)
    checked = []
    for pair in found.pairs:
        problems += pair.object_problems
        try:
            width, height, apply_exif = _pixel_frame(pair)
        except OSError as err:
            problems.append(DataProblem(str(pair.image), f"cannot use this image: {err.strerror or err}"))
            images_dropped += 1
            continue
        c = _Checked(pair, width, height, apply_exif)
        for obj in pair.annotation.objects:
            found = _box_problem(obj, width, height)
            if found:
                problems.append(DataProblem(str(pair.annotation.xml_path), found[0], obj.line, found[1]))
            else:
                c.objects.append(obj)
        checked.append(c)
    problems += _class_problems(checked, classes)
    boxes_dropped = sum(len(c.pair.annotation.objects) + len(c.pair.object_problems) - len(c.objects)
                        for c in checked)
    return checked, problems, images_dropped, boxes_dropped


def load_dataset(source: str | Path, classes: list[str] | None = None, on_error: str = "raise",
                 hint: str = SKIP_HINT) -> DetectionDataset:
    """Read every annotation of `source`, leaving out each bad box / image and listing it in `problems`;
    with on_error="raise", a problem that needs a decision raises DataError listing all problems, those
    first (`hint` says what to do)."""
    found = discover(source)
    checked, problems, images_dropped, boxes_dropped = _check(found, classes)
    decisions = [p for p in problems if p.needs_decision]
    if decisions and on_error != "skip":
        raise DataError(decisions + [p for p in problems if not p.needs_decision], hint=hint)
    class_names = list(classes) if classes else sorted({o.name for c in checked for o in c.objects})
    index = {name: i for i, name in enumerate(class_names)}
    records = [ImageRecord(str(c.pair.image), str(c.pair.annotation.xml_path), c.width, c.height,
                           np.array([o.box for o in c.objects], np.float32).reshape(-1, 4),
                           np.array([index[o.name] for o in c.objects], np.int32),
                           np.array([o.difficult for o in c.objects], bool), c.apply_exif) for c in checked]
    return DetectionDataset(str(source), class_names, records, problems, found.warnings, found.layout,
                            found.pairing_lines(), images_dropped, boxes_dropped, found.unlabelled)
