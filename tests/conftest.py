"""Shared by the unit tests (tests/unit/: no trained model, each a few seconds) and the integration
chain (tests/integration/: one tiny model trained, exported and used end to end)."""
import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasdet.core.registry import ARCHITECTURES  # noqa: E402
from kerasdet.data.split import split_dataset  # noqa: E402
from kerasdet.data.synthetic import make_demo_dataset, make_demo_video  # noqa: E402
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


def load_tool(name):
    """A script of tools/ as a module."""
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOLS = Path(__file__).parents[1] / "tools"


def need_browser() -> None:
    """Skip here without Chromium, node and tests/web's npm packages (tools/web_browser.py says which is
    missing); fail on CI (CI=true), whose .ci/run installs them: no browser test is skipped there."""
    why = load_tool("web_browser").missing()
    if why and os.environ.get("CI") == "true":
        pytest.fail(f"{why}: CI installs them (.ci/run)")
    if why:
        pytest.skip(why)


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def pytest_collection_modifyitems(items):
    """Each test is marked by its folder: `-m unit` runs tests/unit/ alone, `-m integration` the chain."""
    for item in items:
        folder = Path(item.fspath).parent.name
        if folder in ("unit", "integration"):
            item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs, where the machine lets the tests mount one (root, Linux)."""
    import subprocess
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """A 12-frame synthetic video and the true boxes of each frame, objects as large as in the tiny
    model's 128x96 training pictures."""
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    truth = make_demo_video(path, frames=12, size=(128, 96), objects=1, seed=0, object_size=(0.3, 0.45))
    return path, truth


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
  eval_every: 2  # evaluations and best.keras saves cost a second or two each on 2 cores
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


def tiny_config(root, epochs, progressive_epochs=0):
    """The tiny config; with `progressive_epochs`, those first epochs train at 64 (0.67 of 96: 64x64
    for the tiny project's square images)."""
    path = root / f"tiny{epochs}{'p' if progressive_epochs else ''}.yaml"
    progressive = (f"  progressive_epochs: {progressive_epochs}\n  progressive_scale: 0.67\n"
                   if progressive_epochs else "")
    path.write_text(TINY.format(epochs=epochs).replace("augment:\n", progressive + "augment:\n"))
    return path


# --- the integration chain's tiny model --------------------------------------------------------

# Over seeds 1-4 the tiny model reached best mAP@0.5 0.28-0.44 after 14 epochs and 0.52-0.64 after
# 30 (about 1 s an epoch). Float rounding differs between CPUs, so the tests need that margin.
TINY_EPOCHS = 30


def state_epoch(run: Path) -> int:
    """The epochs a run's resume state holds (0 before the first is saved)."""
    from kerasdet.train import RunFolder
    state = run / RunFolder.STATE  # replaced atomically, never half-written
    return int(np.load(state)["progress/epoch"]) if state.exists() else 0


def train_until_killed(config: Path, run: Path, epochs: int) -> int:
    """`kerasdet train CONFIG --out RUN` in a process of its own, SIGKILLed once its resume state
    holds at least `epochs` epochs; returns the epochs it holds then."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "kerasdet", "train", str(config), "--out", str(run)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    try:
        while time.time() < deadline and state_epoch(run) < epochs:
            assert proc.poll() is None, "training ended before it could be killed"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return state_epoch(run)


@dataclass
class Trained:
    run_dir: Path
    best_metrics: dict
    killed_after: int  # epochs the first process had finished when it was killed


@pytest.fixture(scope="session")
def trained(tiny_project):
    """The tiny model, trained as a user's run often goes: `kerasdet train` killed after two epochs,
    then finished with `fit(resume=RUN)` (one run for the chain and the resume test: two traces, not four)."""
    from kerasdet.train import fit
    run = tiny_project / "run"
    # its first 2 epochs at 64 (progressive resizing): the resume crosses the switch to 96
    killed_after = train_until_killed(tiny_config(tiny_project, TINY_EPOCHS, progressive_epochs=2), run, 2)
    result = fit(None, resume=run, quiet=True)
    return Trained(result.run_dir, result.best_metrics, killed_after)


@pytest.fixture(scope="session")
def exported(trained, tmp_path_factory):
    """The tiny trained model as fp32, fp16 and int8 .tflite files."""
    from kerasdet.tflite.convert import export
    out = tmp_path_factory.mktemp("export")
    best = trained.run_dir / "best.keras"
    return {fmt: export(best, fmt, out=out / f"{fmt}.tflite", calib_count=32) for fmt in ("fp32", "fp16", "int8")}


# --- untrained models of every architecture: what unit tests of saving, export and runtimes use --

UNTRAINED_SIZE = 64
UNTRAINED_CALIB_COUNT = 8  # demo images the untrained model's int8 export calibrates on


@dataclass
class Untrained:
    trainer: object  # kerasdet.train.Trainer
    card: object  # its ModelCard
    path: Path  # best.keras saved after one training step
    losses: dict  # the step's loss terms
    weights_changed: bool


def spread_class_scores(model, rng) -> None:
    """An untrained head scores every anchor near its prior (ties everywhere, so NMS may keep either
    of two equal boxes): random class-output weights spread the scores out."""
    for layer in model.layers:
        if layer.name.endswith("_cls_out"):
            kernel, bias = layer.get_weights()
            layer.set_weights([rng.normal(0, 0.3, kernel.shape).astype(np.float32), np.zeros_like(bias)])


@contextmanager
def left_as_found(trainer):
    """Steps taken inside leave a shared fixture's trainer (weights, optimizer state) as they found
    it: the tests after it, in any order, see the model `untrained.path` holds."""
    weights, state = trainer.model.get_weights(), trainer.state()
    try:
        yield trainer
    finally:
        trainer.model.set_weights(weights)
        trainer.load_state(state)


@pytest.fixture(scope="session", params=list(ARCHITECTURES))
def untrained(request, tmp_path_factory) -> Untrained:
    """One training step of a tiny detector (head only: quick to trace), saved with its card."""
    import keras

    from kerasdet.config import Config
    from kerasdet.models.detector import model_card
    from kerasdet.train import RunFolder, Trainer
    keras.utils.set_random_seed(0)
    cfg = Config()
    cfg.train.epochs = 1  # the default, auto, is a number once the training data is known
    cfg.model.arch, cfg.model.alpha, cfg.model.input_size, cfg.model.weights = (request.param, 0.35, UNTRAINED_SIZE,
                                                                                 "none")
    trainer = Trainer(cfg, num_classes=2, steps_per_epoch=1)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, UNTRAINED_SIZE, UNTRAINED_SIZE, 3), dtype=np.uint8)
    targets = {"boxes": np.array([[[4, 4, 40, 50], [-1] * 4], [[20, 10, 60, 60], [30, 30, 50, 50]]], np.float32),
               "classes": np.array([[1, -1], [0, 1]], np.float32)}
    before = [w.copy() for w in trainer.model.get_weights()]
    losses = trainer.train_step(images, targets, backbone_frozen=True)
    changed = any(not np.array_equal(b, w) for b, w in zip(before, trainer.model.get_weights()))
    spread_class_scores(trainer.model, rng)
    card = model_card(cfg.model, ["heart", "star"])
    run = RunFolder(tmp_path_factory.mktemp(request.param)).create()
    return Untrained(trainer, card, run.save_model(trainer.model, card, run.BEST), losses, changed)


@pytest.fixture(scope="session")
def untrained_tflite(untrained, demo_data, tmp_path_factory) -> dict[str, Path]:
    """The untrained model exported as fp32 and int8 (calibrated on the demo images)."""
    from kerasdet.tflite.convert import export
    out = tmp_path_factory.mktemp("tflite")
    return {fmt: export(untrained.path, fmt, calib=demo_data, out=out / f"{untrained.card.arch}_{fmt}.tflite",
                        calib_count=UNTRAINED_CALIB_COUNT) for fmt in ("fp32", "int8")}
