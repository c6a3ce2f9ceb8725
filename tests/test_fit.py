"""kerasdet.fit on tiny synthetic data: it learns, it writes its run folder, it resumes after a kill."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from kerasdet.config import load_config
from conftest import TINY_EPOCHS, tiny_config as config


def test_short_fit_learns(trained):
    history = pd.read_csv(trained.run_dir / "metrics.csv")
    assert history.loss.iloc[-1] < 0.6 * history.loss.iloc[0]
    assert trained.best_metrics["map50"] > 0.35  # from scratch, 30 tiny epochs; chance is ~0
    assert trained.best_metrics["map50"] > 3 * history.map50.iloc[0] + 0.1


@pytest.mark.slow
def test_short_retinanet_fit_learns(tiny_project):
    # measured: best mAP@0.5 0.32 after 14 epochs (YOLOv8 on the same data: see `trained`)
    from kerasdet.train import fit
    result = fit(load_config(config(tiny_project, 14), ["model.arch=retinanet"]), out=tiny_project / "retina",
                 quiet=True)
    history = pd.read_csv(result.run_dir / "metrics.csv")
    assert result.best_metrics["map50"] > 0.2 and history.loss.iloc[-1] < 0.5 * history.loss.iloc[0]


def test_run_folder_has_everything(trained):
    import keras
    names = {p.name for p in trained.run_dir.iterdir()}
    assert {"config.yaml", "classes.txt", "best.keras", "last.keras", "metrics.csv", "results.png",
            "tensorboard", "results.json"} <= names
    assert (trained.run_dir / "classes.txt").read_text().split() == ["heart", "star"]
    assert load_config(trained.run_dir / "config.yaml").train.epochs == TINY_EPOCHS
    model = keras.saving.load_model(trained.run_dir / "best.keras")  # plain Keras, no custom objects
    assert model.input_shape == (None, 96, 96, 3)


def test_resume_continues_a_killed_run(tiny_project):
    cfg = config(tiny_project, 6)
    run = tiny_project / "killed"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "kerasdet", "train", str(cfg), "--out", str(run)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    try:
        state_epoch = 0
        while time.time() < deadline and state_epoch < 2:
            assert proc.poll() is None, "training ended before it could be killed"
            time.sleep(0.5)
            if (run / "last_state.npz").exists():  # replaced atomically, never half-written
                state_epoch = int(np.load(run / "last_state.npz")["progress/epoch"])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert 2 <= state_epoch < 6
    from kerasdet.train import fit
    result = fit(None, resume=run, quiet=True)
    history = pd.read_csv(run / "metrics.csv")
    assert list(history.epoch) == list(range(1, 7))  # continued at state_epoch + 1, none repeated
    assert int(np.load(run / "last_state.npz")["progress/epoch"]) == 6
    assert result.best_metrics["map50"] >= 0.0 and (run / "best.keras").exists()


def test_resume_of_a_folder_that_is_not_a_run(tmp_path):
    from kerasdet.train import fit
    with pytest.raises(FileNotFoundError, match="no last_state.npz"):
        fit(None, resume=tmp_path)


def test_cli_train_bad_config_names_the_key(tmp_path, capsys):
    from kerasdet.cli import main
    (tmp_path / "c.yaml").write_text("model:\n  backbone: resnet50\n")
    assert main(["train", str(tmp_path / "c.yaml")]) == 2
    assert "key 'model.backbone' is 'resnet50'" in capsys.readouterr().err


def test_no_box_is_dropped_when_an_image_holds_more_than_max_boxes(tmp_path, capsys):
    from conftest import write_pair
    from kerasdet.data.dataset import load_dataset
    from kerasdet.data.samples import box_slots
    write_pair(tmp_path, "crowded", [("heart", (2 + 6 * i, 2, 6 + 6 * i, 8)) for i in range(5)])
    write_pair(tmp_path, "single", [("star", (10, 10, 30, 30))])
    dataset = load_dataset(str(tmp_path), ["heart", "star"])
    assert box_slots(dataset, 32) == 32
    assert box_slots(dataset, 3) == 5
    assert "crowded.xml has 5 boxes" in capsys.readouterr().out
