"""The TF Object Detection API's CSV: `filename,width,height,class,xmin,ymin,xmax,ymax`, pixels,
one row per box (what its xml_to_csv.py wrote). Images without boxes cannot be represented, nor
`difficult` / `truncated`: `convert` says how many it left out."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ...core.files import write_text
from ..errors import DataError, DataProblem
from ..voc_xml import coordinate_text
from .annotated import AnnotatedImage

COLUMNS = ["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax"]


def read_csv_table(path: str | Path, images_dir: str | Path | None = None) -> list[AnnotatedImage]:
    path = Path(path)
    images_dir = Path(images_dir) if images_dir else path.parent
    try:
        # round_trip: 12.3 reads as the 12.3 written; only an empty number is missing (a class "NA" is a name)
        table = pd.read_csv(path, dtype={"filename": str, "class": str}, float_precision="round_trip",
                            keep_default_na=False, na_values={c: [""] for c in COLUMNS[1:3] + COLUMNS[4:]})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError([DataProblem(str(path), f"not a readable CSV ({err})")]) from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError([DataProblem(str(path), f"missing column(s) {', '.join(missing)}; expected "
                                                 f"{','.join(COLUMNS)}", 1)])
    numbers = table[COLUMNS[1:3] + COLUMNS[4:]].apply(pd.to_numeric, errors="coerce")
    problems = [DataProblem(str(path), "a number is missing or not a number", int(i) + 2)
                for i in table.index[numbers.isna().any(axis=1)]]
    if problems:
        raise DataError(problems)
    items: dict[str, AnnotatedImage] = {}
    for name, cls, (w, h, *box) in zip(table["filename"], table["class"], numbers.itertuples(index=False)):
        item = items.setdefault(name, AnnotatedImage(images_dir / name, int(w), int(h)))
        item.objects.append((cls, tuple(float(v) for v in box)))
    return list(items.values())


def write_csv_table(items: list[AnnotatedImage], path: str | Path) -> Path:
    """One row per box, coordinates as written in LabelImg XML (`12`, `12.25`: exact, not rounded to
    2 decimals); through core/files.py, so a file of the user's is refused."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([item.image.name, item.width, item.height, name, *map(coordinate_text, box)]
                     for item in items for name, box in item.objects)
    return write_text(path, text.getvalue())
