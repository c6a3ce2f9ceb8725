"""LabelImg / Pascal-VOC: read with kerasdet's own checked loader, write one XML per image."""
from __future__ import annotations

from pathlib import Path

from ..dataset import load_dataset
from ..voc_xml import write_voc_xml, xml_file_names
from .annotated import AnnotatedImage


def read_voc(source: str | Path, classes: list[str] | None = None) -> tuple[list[AnnotatedImage], list[str]]:
    ds = load_dataset(source, classes, hint="Fix these files: convert writes every box or stops.")
    items = [AnnotatedImage(Path(r.image_path), r.width, r.height,
                            [(ds.class_names[c], tuple(map(float, b))) for b, c in zip(r.boxes, r.labels)])
             for r in ds.records]
    return items, ds.class_names


def write_voc(items: list[AnnotatedImage], out_dir: str | Path) -> list[Path]:
    """`out_dir/<image stem>.xml` (`xml_file_names` for images sharing a stem), with <path> the image's
    absolute path so XML and images may live apart."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    names = xml_file_names([item.image for item in items])
    for item in items:
        xml = out_dir / names[item.image]
        write_voc_xml(xml, item.image.name, item.width, item.height, item.objects,
                      image_path=str(item.image.resolve()))
        written.append(xml)
    return written
