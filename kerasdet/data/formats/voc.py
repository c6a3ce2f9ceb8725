"""LabelImg / Pascal-VOC: read with kerasdet's own checked loader, write one XML per image."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...core.files import claim_folder
from ...core.records import ImageRecord
from ..dataset import load_dataset
from ..errors import DataError
from ..voc_xml import read_voc_xml, write_voc_xml, xml_file_names
from .annotated import MADE_BY, AnnotatedImage, AnnotatedObject


def read_voc(source: str | Path, classes: list[str] | None = None) -> tuple[list[AnnotatedImage], list[str]]:
    ds = load_dataset(source, classes, on_error="skip")
    if ds.problems:  # even a box of no area: a conversion writes every box or stops
        raise DataError(ds.problems, hint="Fix these files: convert writes every box or stops.")
    items = [AnnotatedImage(Path(r.image_path), r.width, r.height, _objects(r, ds.class_names))
             for r in ds.records]
    return items, ds.class_names


def _objects(record: ImageRecord, class_names: list[str]) -> list[AnnotatedObject]:
    """The record's boxes as its XML states them. The loader keeps float32 boxes (12.3 becomes
    12.300000190734863) and no `truncated`, so the XML is read again for its exact numbers and both
    flags; its objects are the record's, in order (a box with a problem stopped the conversion). Should
    they differ, the record's own boxes are used."""
    names = [class_names[c] for c in record.labels]
    ann, _ = read_voc_xml(record.xml_path)
    if ann is not None and [o.name for o in ann.objects] == names and \
            all(np.allclose(o.box, box, rtol=1e-6, atol=1e-4) for o, box in zip(ann.objects, record.boxes)):
        return [AnnotatedObject(o.name, o.box, o.difficult, o.truncated) for o in ann.objects]
    return [AnnotatedObject(n, tuple(map(float, b)), bool(d)) for n, b, d in zip(names, record.boxes,
                                                                                  record.difficult)]


def write_voc(items: list[AnnotatedImage], out_dir: str | Path) -> list[Path]:
    """`out_dir/<image stem>.xml` (`xml_file_names` for images sharing a stem), with <path> the image's
    absolute path so XML and images may live apart."""
    out_dir = claim_folder(out_dir, MADE_BY)  # a folder of the user's (the source itself too) is refused
    written = []
    names = xml_file_names([item.image for item in items])
    for item in items:
        xml = out_dir / names[item.image]
        write_voc_xml(xml, item.image.name, item.width, item.height, item.labelled(),
                      image_path=str(item.image.resolve()), replace=False, exact=True)
        written.append(xml)
    return written
