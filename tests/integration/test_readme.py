"""The README's commands, run: every command of its ```bash blocks, in order, in a sandbox laid out as
a reader's folder (the project's configs/ and tools/, a `photos/` folder of LabelImg XML beside JPEGs,
`splits/hands/` lists made from it), so a renamed option, a moved file or a verb that no longer
does what the README says fails here (tests/unit/test_docs.py only parses them).

What is swapped, and nothing else: the data is tiny synthetic hearts and stars (`make_demo_dataset`),
so training commands get TINY (one epoch at 64 pixels, no pretrained weights to download) and the
hands configs the demo's classes; `configs/mine.yaml` is edited after `cp` as the README tells the
reader to; `--resume` meets a run as a kill leaves it (no results.json yet: the run it names
finished here); `--format web` takes the MediaPipe bundle tests/web's `npm ci` installed (as a reader
offline would, `--mediapipe-web`); a camera (`0`) is a synthetic clip, shown headless; `lr-find` takes a few steps; the demo
and tools/frontier.py run small (frontier without MediaPipe Hands, whose venv is a download of its
own). Not run: the install and test commands (.ci/run is them), `labelImg` (a GUI) and `mkdocs serve`
(a server; .ci/run builds the same site with --strict).

About three minutes on 2 cores: marked `readme`, left out of the default run, run by .ci/run.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kerasdet.cli import main as kerasdet_main
from kerasdet.data.split import split_dataset
from kerasdet.data.synthetic import make_demo_dataset, make_demo_video

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
from test_docs import KERASDET, PYTHON, README, _bash_commands  # noqa: E402

pytestmark = pytest.mark.readme

TINY = ["--set", "model.weights=none", "--set", "model.input_size=64", "--set", "train.epochs=1",
        "--set", "train.progressive_epochs=0", "--set", "train.freeze_backbone_epochs=0",
        "--set", "train.batch_size=8", "--set", "train.eval_every=1"]
DEMO_CLASSES = ["--set", "data.classes=[heart, star]"]
PLACEHOLDERS = {"path/to/data": "photos", "path/to/photos": "photos", "kangaroo": "heart,star"}  # the photos hold both
MEDIAPIPE_WEB = ROOT / "tests" / "web" / "node_modules" / "@mediapipe" / "tasks-vision"
NOT_RUN = {"labelImg", "python3", ".venv/bin/pip", ".venv/bin/mkdocs"}  # see the docstring


def readme_commands() -> list[tuple[int, list[str]]]:
    return [(n, t) for n, t in _bash_commands(README)
            if t[0] not in NOT_RUN and t[:3] != [".venv/bin/python", "-m", "pytest"]]


def as_run_here(tokens: list[str], clip: Path) -> list[str]:
    """The README's command with the sandbox's swaps (the docstring's list)."""
    tokens = [PLACEHOLDERS.get(t, t) for t in tokens]
    if tokens[0] in KERASDET:
        verb = tokens[1]
        if verb in ("train", "lr-find", "kfold"):
            tokens += TINY
            if any(t.startswith("configs/hands") for t in tokens):
                tokens += DEMO_CLASSES
        if verb == "lr-find":
            tokens += ["--steps", "4"]
        if verb == "kfold":
            tokens += ["--out", "runs/kfold"]
        if verb == "demo":
            tokens += ["--n", "40", "--epochs", "1"]
        if verb == "export" and "web" in tokens:
            tokens += ["--mediapipe-web", str(MEDIAPIPE_WEB)]
        if verb == "cam" and tokens[3] == "0":
            tokens[3:4] = [str(clip), "--headless"]
    elif tokens[:2] == ["python", "tools/frontier.py"]:
        tokens += ["--no-mediapipe", "--rounds", "1", "--out", "frontier/frontier"]
    return tokens


def point_mine_at_the_lists(config: Path) -> None:
    """What the README's comment on `cp configs/custom.yaml configs/mine.yaml` tells the reader to do."""
    cfg = yaml.safe_load(config.read_text())
    cfg["data"].update(train="../splits/mine/train.txt", val="../splits/mine/val.txt", classes=["heart", "star"])
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))


@pytest.fixture
def reader_folder(tmp_path, monkeypatch):
    root = tmp_path / "reader"
    shutil.copytree(ROOT / "configs", root / "configs")
    shutil.copytree(ROOT / "tools", root / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    make_demo_dataset(root / "photos", n=32, seed=5, size=(128, 96), scenes=8)
    split_dataset(root / "photos", root / "splits" / "hands", val=0.25, test=0.0, group=r"^(scene\d+)_", seed=0)
    clip = root / "clip.mp4"
    make_demo_video(clip, frames=6, size=(128, 96), objects=1, seed=0)
    monkeypatch.chdir(root)
    return root, clip


def test_every_readme_command_runs_as_written(reader_folder, capsys):
    root, clip = reader_folder
    commands = readme_commands()
    assert len(commands) >= 20
    ran = []
    for number, tokens in commands:
        argv = as_run_here(tokens, clip)
        where = f"README.md:{number}: {' '.join(tokens)}"
        if argv[0] == "cp":
            shutil.copy(argv[1], argv[2])
            if argv[2] == "configs/mine.yaml":
                point_mine_at_the_lists(root / argv[2])
        elif argv[0] in KERASDET:
            if "--resume" in argv:
                (root / argv[argv.index("--resume") + 1] / "results.json").unlink()  # as if killed at its end
            code = kerasdet_main(argv[1:])
            assert code in (0, None), f"{where}: exit {code}\n{capsys.readouterr().err[-2000:]}"
        elif argv[0] in PYTHON:
            done = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True)
            assert done.returncode == 0, f"{where}: exit {done.returncode}\n{done.stderr[-2000:]}"
        else:
            pytest.fail(f"{where}: the README runs {argv[0]}, which this test does not know how to run")
        ran.append(argv[1] if argv[0] in KERASDET else argv[0])
    # what the README promises the commands leave behind
    for path in ("runs/demo/demo_summary.json", "splits/mine/val.txt", "runs/mine/best.keras",
                 "runs/mine/plots", "runs/mine/best_int8.tflite", "stats.png", "grid.png", "runs/hands1/best.keras",
                 "runs/hands1/best_int8.tflite", "runs/hands1/best_web/index.html", "runs/try/best.keras",
                 "frontier/frontier.md"):
        assert (root / path).exists(), f"{path}: a README command should have written it"
    assert {"demo", "split", "train", "evaluate", "export", "cam", "stats", "preview", "lr-find", "kfold",
            "inspect"} <= set(ran)
