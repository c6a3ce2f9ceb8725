"""What a user sees when something goes wrong: one sentence on stderr naming the file or key and what to do,
the exit code (2 for a user error, 130 for Ctrl-C), never a traceback."""
import importlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kerasdet.cli import main
from kerasdet.data.synthetic import make_demo_dataset

PREFIX = {verb: f"kerasdet {verb}: " for verb in ("train", "stats", "split", "evaluate", "export", "preview")}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_demo_dataset(tmp_path_factory.mktemp("msg") / "d", n=6, seed=0, size=(128, 96))


def config(folder: Path, data: Path, epochs: int = 1) -> Path:
    path = folder / "tiny.yaml"
    path.write_text(f"data:\n  train: {data}\nmodel:\n  alpha: 0.35\n  input_size: 64\n  weights: none\n"
                    f"train:\n  epochs: {epochs}\n  batch_size: 1\n  freeze_backbone_epochs: 0\n  warmup_epochs: 0\n")
    return path


def one_message(err: str, verb: str) -> str:
    """The one line the CLI printed for `verb` (other stderr lines are TensorFlow's start-up logs and
    progress bars): there is exactly one, and no traceback."""
    assert "Traceback" not in err
    lines = [ln for ln in err.replace("\r", "\n").splitlines() if ln.startswith(PREFIX[verb])]
    assert len(lines) == 1, err
    return lines[0]


# --- 11: Ctrl-C ---------------------------------------------------------------------------------------------

def test_ctrl_c_in_train_says_where_it_stopped_and_how_to_resume(data, tmp_path, capsys, monkeypatch):
    fit_module = importlib.import_module("kerasdet.train.fit")  # kerasdet.train.fit is also the function
    run = tmp_path / "run"

    def two_epochs_then_ctrl_c(run_folder, *args):
        np.savez(run_folder / run_folder.STATE, **{"progress/epoch": np.array(2)})
        raise KeyboardInterrupt("in epoch 3/30, step 5/12")  # what _train_epoch raises

    monkeypatch.setattr(fit_module, "_train", two_epochs_then_ctrl_c)
    assert main(["train", str(config(tmp_path, data)), "--out", str(run)]) == 130
    line = one_message(capsys.readouterr().err, "train")
    assert line == (f"kerasdet train: stopped by Ctrl-C in epoch 3/30, step 5/12; {run} keeps the 2 finished epochs: "
                    f"`kerasdet train --resume {run}` continues from epoch 3")


def test_ctrl_c_before_the_first_epoch_ended_says_there_is_nothing_to_resume(data, tmp_path, capsys, monkeypatch):
    fit_module = importlib.import_module("kerasdet.train.fit")  # kerasdet.train.fit is also the function
    monkeypatch.setattr(fit_module, "_train", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert main(["train", str(config(tmp_path, data)), "--out", str(tmp_path / "run")]) == 130
    line = one_message(capsys.readouterr().err, "train")
    assert "before the first epoch ended" in line and "--resume" not in line and str(tmp_path / "run") in line


def test_ctrl_c_in_another_verb_is_one_line(data, capsys, monkeypatch):
    import kerasdet.data.stats as stats_module

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(stats_module, "dataset_stats", interrupted)
    assert main(["stats", str(data)]) == 130
    assert one_message(capsys.readouterr().err, "stats") == ("kerasdet stats: stopped by Ctrl-C before it finished; "
                                                              "run the command again")


@pytest.mark.slow  # ~45 s on 2 cores: TensorFlow's start and the first epoch's trace
def test_sigint_during_a_real_train_prints_the_resume_command(data, tmp_path):
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "kerasdet", "train", str(config(tmp_path, data, epochs=500)),
                             "--out", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    deadline = time.time() + 300
    try:
        while not (run / "last_state.npz").exists():  # the first epoch is done: the second is under way
            assert proc.poll() is None and time.time() < deadline, "training ended before it could be interrupted"
            time.sleep(0.2)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    line = one_message(err, "train")
    said = re.fullmatch(r"kerasdet train: stopped by Ctrl-C (?:in epoch (\d+)/500, step \d+/6|after epoch (\d+)/500); "
                        r"(.+) keeps the (\d+) finished epochs?: `kerasdet train --resume (.+)` continues from epoch "
                        r"(\d+)", line)
    assert said, line
    in_epoch, after_epoch, folder, done, resume, next_epoch = said.groups()
    assert folder == resume == str(run) and int(done) >= 1 and int(next_epoch) == int(done) + 1
    assert int(in_epoch or next_epoch) == int(next_epoch) and int(after_epoch or done) == int(done)


# --- 12: --set values that are not plain YAML -----------------------------------------------------------------

@pytest.mark.parametrize("override, says", [
    ("data.classes=[a,", "is not valid YAML"),
    ("train.epochs=!!python/object:os.system x", "has the YAML tag !!python/object:os.system"),
    ("train.epochs=!!binary aGVsbG8=", "has the YAML tag !!binary"),
    ("data.classes=!custom a", "has the YAML tag !custom"),
])
def test_set_with_broken_yaml_or_a_tag_names_key_and_text(data, tmp_path, capsys, override, says):
    assert main(["preview", str(config(tmp_path, data)), "--out", str(tmp_path / "p.png"), "--set", override]) == 2
    line = one_message(capsys.readouterr().err, "preview")
    key, text = override.split("=", 1)
    assert f"key '{key}'" in line and repr(text) in line and says in line and "[a, b]" in line
    assert not (tmp_path / "p.png").exists()


# --- 14: calibration images and lists ---------------------------------------------------------------------------

def test_export_names_an_unreadable_calibration_image(data, tmp_path, capsys, monkeypatch):
    import kerasdet.tflite.convert as convert_module
    calib = tmp_path / "calib"
    calib.mkdir()
    for image in sorted(data.glob("*.jpg"))[:3]:
        (calib / image.name).write_bytes(image.read_bytes())
    (calib / "broken.jpg").write_text("not an image")
    monkeypatch.setattr(convert_module, "load_model", lambda path: (None, SimpleNamespace(input_size=64,
                                                                                         training_data={})))
    assert main(["export", str(tmp_path / "m.keras"), "--calib", str(calib), "--out", str(tmp_path / "m.tflite")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{calib / 'broken.jpg'}: cannot be read for calibration: not a readable image" in err
    assert not (tmp_path / "m.tflite").exists()


def test_a_calibration_image_that_fails_to_decode_is_named_once(data, monkeypatch):
    import kerasdet.tflite.convert as convert_module
    from kerasdet.data.errors import DataError

    def cannot_decode(path, apply_exif=True):
        raise OSError(f"{path}: cannot decode image")  # read_rgb's own message

    monkeypatch.setattr(convert_module, "read_rgb", cannot_decode)
    with pytest.raises(DataError) as caught:
        next(convert_module.calibration_images(data, (48, 64), count=2))
    assert str(caught.value).count(".jpg") == 1 and ": cannot be read for calibration: cannot decode image" in str(
        caught.value)


def test_lists_with_a_byte_order_mark_are_read(data, tmp_path, capsys):
    from kerasdet.data.discover import find_images
    from kerasdet.tflite.convert import _images
    images = sorted(data.glob("*.jpg"))
    plain = tmp_path / "plain"
    plain.mkdir()
    for image in images:  # images without XML: calibration images
        (plain / image.name).write_bytes(image.read_bytes())
    for folder in (data, plain):
        listed = tmp_path / f"{folder.name}.txt"
        listed.write_bytes(b"\xef\xbb\xbf" + "".join(f"{folder / i.name}\r\n" for i in images).encode())
        assert find_images(listed) == [folder / i.name for i in images]
        assert [Path(p) for p, _, _ in _images(listed)] == [folder / i.name for i in images]
    assert main(["stats", str(tmp_path / "d.txt"), "--json"]) == 0
    assert f'"images": {len(images)}' in capsys.readouterr().out


def test_a_list_that_is_not_text_is_named(tmp_path, capsys):
    listed = tmp_path / "list.txt"
    listed.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xb2\xff")
    assert main(["stats", str(listed)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{listed}: not a text list of paths (not UTF-8" in err
