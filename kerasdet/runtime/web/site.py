"""`kerasdet export MODEL --format web`: a static site that runs the model in the browser.

The folder holds everything the page needs and nothing it fetches from elsewhere: `index.html`,
`app.js`, `style.css` (static/, the same for every model), `config.json` (what this model's page
shows: class names, the score threshold), `model.tflite` (the int8 export, MediaPipe reads its
class names from the metadata inside) and the pinned MediaPipe Tasks Vision bundle and WebAssembly
(bundle.py). Copied to a laptop with no internet or served on a LAN, it runs the same.

The score a detection needs to be drawn is kerasdet's own display threshold (core/postprocess.py
CONF, as `kerasdet detect` and `cam` show), written into config.json here: one source of truth.
"""
from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from ...core.card import is_kerasdet_model, read_card
from ...core.files import claim_folder, write_bytes, write_text
from ...core.postprocess import CONF
from .bundle import PACKAGE, VERSION, bundle_files

MADE_BY = "kerasdet export --format web"
MODEL_FILE = "model.tflite"
STATIC_FILES = ("index.html", "app.js", "style.css")


def export_web(model_path: str | Path, out: str | Path | None = None, mediapipe_web: str | Path | None = None,
               calib: str | Path | None = None, input_shape: tuple[int, int] | None = None,
               keep_float: str | None = None) -> Path:
    """Write the site for `model_path` into `out` (default: `<model stem>_web/` beside the model); returns
    the folder. A `.keras` checkpoint is exported to int8 into it (`calib`, `input_shape` and `keep_float`
    as for `kerasdet export`); a `.tflite` kerasdet exported is copied. `mediapipe_web`: the MediaPipe
    package's .tgz or folder, for a machine that cannot download it (bundle.py)."""
    model_path = Path(model_path)
    if not model_path.is_file():
        raise ValueError(f"{model_path}: no such model file")
    if model_path.suffix not in (".keras", ".tflite"):
        raise ValueError(f"{model_path}: give a .keras checkpoint or a .tflite that kerasdet exported")
    site = claim_folder(out or model_path.with_name(f"{model_path.stem}_web"), made_by=MADE_BY)
    library = bundle_files(mediapipe_web)  # before the slow int8 conversion: a missing npm fails at once
    model = _write_model(model_path, site / MODEL_FILE, calib, input_shape, keep_float)
    for name, data in library.items():
        write_bytes(site / Path(name).name, data)  # flat: the page loads each from its own folder
    for name in STATIC_FILES:
        write_text(site / name, files(__package__).joinpath("static", name).read_text(encoding="utf-8"))
    write_text(site / "config.json", json.dumps(page_config(model), indent=2) + "\n")
    return site


def _write_model(model_path: Path, target: Path, calib, input_shape, keep_float) -> Path:
    """The int8 model at `target`: exported from a `.keras`, or a kerasdet `.tflite` copied (any format:
    the user chose it) without loading TensorFlow."""
    if model_path.suffix == ".keras":
        from ...tflite.convert import export
        return export(model_path, "int8", calib, target, input_shape=input_shape, keep_float=keep_float)
    if not is_kerasdet_model(model_path):
        raise ValueError(f"{model_path} is not a .tflite kerasdet exported (it carries no model card): give the "
                         "trained .keras checkpoint, or its `kerasdet export` file")
    return write_bytes(target, model_path.read_bytes())


def page_config(model: Path) -> dict:
    """What the page reads at start: the model file, the thresholds, the names it shows."""
    card = read_card(model)
    return {"model": model.name, "score": CONF, "maxResults": card.nms["max_detections"], "classes": card.class_names,
            "title": f"kerasdet {card.arch} ({card.backbone} {card.alpha:g})",
            "library": f"{PACKAGE} {VERSION}", "kerasdet": card.kerasdet_version}
