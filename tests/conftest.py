import hashlib
import os
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasdet.data.synthetic import make_demo_dataset  # noqa: E402
from kerasdet.data.voc_xml import write_voc_xml  # noqa: E402


def write_image(path: Path, w=64, h=48, color=(40, 90, 200)):
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = color
    assert cv2.imwrite(str(path), img)


def write_pair(folder: Path, stem: str, objects, w=64, h=48, image_dir: Path | None = None):
    image_dir = image_dir or folder
    image_dir.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    write_image(image_dir / f"{stem}.jpg", w, h)
    write_voc_xml(folder / f"{stem}.xml", f"{stem}.jpg", w, h, objects)


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    return make_demo_dataset(tmp_path_factory.mktemp("demo") / "data", n=48, seed=1)
