"""`kerasdet detect MODEL SOURCE`: detections on a batch of images, as CSV, LabelImg XML, pictures.

`--voc` closes the labelling loop: detections become one LabelImg XML per image, the user only
corrects them in LabelImg, and trains again on more data for less work.
"""
from __future__ import annotations

import csv
import xml.etree.ElementTree as ET  # our own XML, read back for one field (never a user's file parsed for data)
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..core.class_names import class_name
from ..core.detections import Detections
from ..core.postprocess import CONF, NMS_IOU, THREADS, TILE_OVERLAP
from ..data.images import damage_reason, read_rgb
from ..data.voc_xml import write_voc_xml, xml_file_names
from ..core.draw import draw_boxes, save_rgb
from ..core.files import check_new, claim_folder, write_file
from ..runtime.load import load_predictor
from ..runtime.select import select_detections
from ..runtime.tiles import tiled
from .sources import image_paths

CSV_COLUMNS = ["filename", "width", "height", "class", "score", "xmin", "ymin", "xmax", "ymax"]
DETECTED = "kerasdet detect"  # the <source><database> of an XML --voc wrote


@dataclass
class ImageDetections:
    path: Path
    width: int
    height: int
    detections: Detections


@dataclass
class DetectRun:
    results: list[ImageDetections] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # images that could not be read, with why
    kept_xml: list[Path] = field(default_factory=list)  # --voc files already there, left untouched


def pixel_box(box, width: int, height: int) -> tuple[int, int, int, int]:
    """Whole pixels inside the image, at least one pixel wide and high (as LabelImg stores them)."""
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    x1, y1 = min(max(x1, 0), width - 1), min(max(y1, 0), height - 1)
    return x1, y1, min(max(x2, x1 + 1), width), min(max(y2, y1 + 1), height)


def detect(model: str | Path, source: str | Path, csv_path: str | Path | None = None,
           voc_dir: str | Path | None = None, images_dir: str | Path | None = None, conf: float = CONF,
           iou: float = NMS_IOU, max_det: int | None = None, num_threads: int | None = THREADS,
           overwrite: bool = False, progress: bool = True, one_label: bool = True,
           tile: tuple[int, int] | None = None, tile_overlap: float = TILE_OVERLAP) -> DetectRun:
    """Run a `.keras` or `.tflite` model on an image, a folder (recursively), a .txt list or any LabelImg
    data source. An image that cannot be read is listed in `failed` and the others go on; `--voc` leaves
    an XML that is already there as it is (it may hold corrected labels) unless `overwrite`. `one_label`:
    one box per object, not every class the model considered (select.py). `tile`: (height, width) of the tiles
    each image is run on, with the whole image, for small objects in large images (runtime/tiles.py)."""
    paths = image_paths(source)
    names = xml_file_names(paths)
    # Every output is checked before the model loads: none may replace a photo or a file of the user's.
    if csv_path:
        check_new(csv_path)
    if images_dir:
        claim_folder(images_dir, "kerasdet detect --save-images")  # a folder of the user's (photos) is refused
    if voc_dir:
        Path(voc_dir).mkdir(parents=True, exist_ok=True)  # LabelImg's way: XML beside the photos, each new
    predictor = tiled(load_predictor(model, num_threads=num_threads), tile, tile_overlap, max_det)
    class_names = predictor.card.class_names
    run = DetectRun()
    for path in tqdm(paths, desc="detect", unit="image", disable=not progress):
        try:
            damaged = damage_reason(path)  # a damaged JPEG decodes, grey in part: no labels made from it
            if damaged:
                raise OSError(f"{path}: {damaged}")
            image = read_rgb(path)
        except OSError as err:
            run.failed.append(str(err))  # read_rgb's message names the file
            continue
        height, width = image.shape[:2]
        d = select_detections(predictor.detect(image), conf, iou, max_det, one_label)
        run.results.append(ImageDetections(path, width, height, d))
        if voc_dir:
            xml = Path(voc_dir) / names[path]
            if xml.exists() and not (overwrite and written_by_detect(xml)):
                run.kept_xml.append(xml)
            else:
                objects = [(class_name(class_names, int(c)), pixel_box(b, width, height))
                           for b, c in zip(d.boxes, d.classes)]
                write_voc_xml(xml, path.name, width, height, objects, image_path=str(path.resolve()),
                              replace=True, database=DETECTED)
        if images_dir:
            save_rgb(Path(images_dir) / (names[path][:-4] + ".jpg"),
                     draw_boxes(image, d.boxes, d.classes, class_names, d.scores))
    if csv_path:
        write_detections_csv(csv_path, run.results, class_names)
    return run


def written_by_detect(xml: Path) -> bool:
    """An XML `--voc` wrote and nobody saved since: LabelImg rewrites <source><database> as 'Unknown' when
    it saves a correction, so a corrected file is never replaced, even with --overwrite."""
    try:
        return ET.parse(xml).findtext("source/database") == DETECTED
    except (ET.ParseError, OSError):
        return False


def write_detections_csv(path: str | Path, results: list[ImageDetections], class_names: list[str]) -> None:
    """One row per box, in image pixels: the TF Object Detection API's CSV with a score column."""
    def save(tmp: Path) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_COLUMNS)
            for r in results:
                d = r.detections
                for box, score, cls in zip(d.boxes, d.scores, d.classes):
                    writer.writerow([r.path.name, r.width, r.height, class_name(class_names, int(cls)),
                                     f"{float(score):.4f}",
                                     *pixel_box(box, r.width, r.height)])
    write_file(path, save)
