import hashlib
import os
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasdet.config import load_config  # noqa: E402
from kerasdet.data.split import split_dataset  # noqa: E402
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


TINY = """data:
  train: splits/train.txt
  val: splits/val.txt
  cache: true
model:
  alpha: 0.35
  input_size: 96
  weights: none
train:
  epochs: {epochs}
  batch_size: 8
  learning_rate: 0.004
  warmup_epochs: 1
  freeze_backbone_epochs: 0
  patience: 50
augment:
  crop: 0.0
  affine: 0.3
"""


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("fit")
    make_demo_dataset(root / "data", n=96, seed=3, size=(128, 96), scenes=12)
    split_dataset(root / "data", root / "splits", val=0.25, test=0.0, group=r"^(scene\d+)_", seed=0)
    return root


def tiny_config(root, epochs):
    path = root / f"tiny{epochs}.yaml"
    path.write_text(TINY.format(epochs=epochs))
    return path


# Over seeds 1-4 the tiny model reached best mAP@0.5 0.28-0.44 after 14 epochs and 0.52-0.64 after
# 30 (about 1 s an epoch). Float rounding differs between CPUs, so the tests need that margin.
TINY_EPOCHS = 30


@pytest.fixture(scope="session")
def trained(tiny_project):
    from kerasdet.train import fit
    return fit(load_config(tiny_config(tiny_project, TINY_EPOCHS)), out=tiny_project / "run", quiet=True)


@pytest.fixture(scope="session")
def exported(trained, tmp_path_factory):
    """The tiny trained model as fp32, fp16 and int8 .tflite files."""
    from kerasdet.tflite.convert import export
    out = tmp_path_factory.mktemp("export")
    best = trained.run_dir / "best.keras"
    return {fmt: export(best, fmt, out=out / f"{fmt}.tflite", calib_count=32) for fmt in ("fp32", "fp16", "int8")}
