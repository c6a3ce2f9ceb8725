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


# --- 13: other annotation formats as data ----------------------------------------------------------------------

def _boxes_by_image(ds) -> dict:
    return {Path(r.image_path).name: sorted((ds.class_names[c], *np.round(b, 3).tolist(), bool(d))
                                            for b, c, d in zip(r.boxes, r.labels, r.difficult)) for r in ds.records}


@pytest.fixture(scope="module")
def sources(data, tmp_path_factory) -> dict:
    """The demo data in every other format, images beside the annotation file (YOLO: images/ + labels/)."""
    import json
    from kerasdet.data.formats import convert
    root = tmp_path_factory.mktemp("formats")
    photos = root / "photos"
    photos.mkdir()
    for image in data.glob("*.jpg"):
        (photos / image.name).write_bytes(image.read_bytes())
    found = {}
    for name, out in (("coco", photos / "coco.json"), ("cloud", photos / "_annotations.json"),
                      ("csv", photos / "boxes.csv")):
        convert(data, out)
        found[name] = out
    convert(data, root / "yolo" / "labels", to="yolo")
    (root / "yolo" / "images").mkdir()
    for image in data.glob("*.jpg"):
        (root / "yolo" / "images" / image.name).write_bytes(image.read_bytes())
    found["yolo"] = root / "yolo"
    labelme = root / "labelme"
    labelme.mkdir()
    coco = json.loads(found["coco"].read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    for im in coco["images"]:
        (labelme / im["file_name"]).write_bytes((photos / im["file_name"]).read_bytes())
        shapes = [{"label": names[a["category_id"]], "shape_type": "rectangle",
                   "points": [a["bbox"][:2], [a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]]}
                  for a in coco["annotations"] if a["image_id"] == im["id"]]
        (labelme / (Path(im["file_name"]).stem + ".json")).write_text(json.dumps(
            {"shapes": shapes, "imagePath": im["file_name"], "imageWidth": im["width"], "imageHeight": im["height"]}))
    found["labelme"] = labelme
    return found


@pytest.mark.parametrize("fmt", ["coco", "cloud", "csv", "yolo", "labelme"])
def test_every_format_convert_reads_is_data_with_the_labelimg_records(data, sources, fmt, capsys):
    from kerasdet.data import load_dataset
    ds, labelimg = load_dataset(sources[fmt]), load_dataset(data)
    expected = _boxes_by_image(labelimg)
    if fmt == "csv":  # the CSV has no row for an image without boxes
        expected = {name: boxes for name, boxes in expected.items() if boxes}
    assert _boxes_by_image(ds) == expected and ds.class_names == labelimg.class_names
    assert main(["stats", str(sources[fmt])]) == 0
    assert f"{len(expected)} images, {labelimg.boxes} boxes" in capsys.readouterr().out


def test_a_bad_box_in_coco_is_a_problem_naming_the_file_and_image_and_difficult_is_kept(sources, tmp_path, capsys):
    import json
    coco = json.loads(sources["coco"].read_text())
    coco["annotations"][0]["bbox"] = [100, 10, 50, 20]  # past the 128-pixel-wide image
    coco["annotations"][1]["difficult"] = 1
    bad = sources["coco"].parent / "bad_coco.json"
    bad.write_text(json.dumps(coco))
    image = next(im["file_name"] for im in coco["images"] if im["id"] == coco["annotations"][0]["image_id"])
    assert main(["stats", str(bad), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["boxes_dropped"] == 1 and stats["difficult_boxes"] == 1
    assert stats["problems"] == [f"{bad} (image {image}): object '{stats['problems'][0].split(chr(39))[1]}' box "
                                 "(100, 10, 150, 30) lies outside the 128x96 image"]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data:\n  train: {bad}\nmodel:\n  weights: none\n")
    assert main(["preview", str(cfg), "--out", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"{bad} (image {image}): object" in err and "lies outside" in err


@pytest.mark.parametrize("verb", ["stats", "split", "train"])
def test_a_model_or_binary_file_given_as_data_is_one_sentence(data, tmp_path, capsys, verb):
    model = tmp_path / "best.keras"
    model.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xb2\x00" + bytes(range(256)))
    if verb == "train":
        cfg = tmp_path / "c.yaml"
        cfg.write_text(f"data:\n  train: {model}\nmodel:\n  weights: none\n")
        args = ["train", str(cfg), "--out", str(tmp_path / "run")]
    else:
        args = [verb, str(model), *(["--out", str(tmp_path / "lists")] if verb == "split" else [])]
    assert main(args) == 2
    line = one_message(capsys.readouterr().err, verb)
    assert line == (f"kerasdet {verb}: error: {model}: a Keras model, not annotated images: give a folder of images "
                    "with LabelImg XML, FOLDER:SPLIT, a .txt list of images, a COCO / Cloud Annotations / LabelMe "
                    ".json, a TF Object Detection API .csv, or a folder of YOLO txt labels with classes.txt")


def test_unknown_json_and_binary_files_are_refused_by_name(tmp_path, capsys):
    other = tmp_path / "package.json"
    other.write_text('{"name": "x", "version": "1"}')
    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"\x00\xb2\x01" * 50)
    assert main(["stats", str(other)]) == 2
    assert one_message(capsys.readouterr().err, "stats").startswith(f"kerasdet stats: error: {other}: JSON, but "
                                                                    "neither COCO")
    assert main(["stats", str(blob)]) == 2
    assert one_message(capsys.readouterr().err, "stats").startswith(f"kerasdet stats: error: {blob}: a binary file, "
                                                                    "not annotated images")


def test_a_folder_with_yolo_labels_but_no_class_names_or_a_coco_file_says_so(sources, tmp_path, capsys):
    yolo = tmp_path / "yolo"
    (yolo / "labels").mkdir(parents=True)
    for label in (sources["yolo"] / "labels").glob("scene*.txt"):
        (yolo / "labels" / label.name).write_text(label.read_text())
    assert main(["stats", str(yolo)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"Its .txt files look like YOLO labels (e.g. {yolo / 'labels'}" in err
    assert "add a classes.txt beside them" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "coco.json").write_text(sources["coco"].read_text())
    assert main(["stats", str(plain)]) == 2
    assert f"{plain / 'coco.json'} is COCO JSON: give that file as the data" in capsys.readouterr().err


def test_split_of_coco_gives_the_commands_that_make_lists_train_reads(sources, tmp_path, capsys):
    import shutil
    from kerasdet.data import load_dataset
    photos = tmp_path / "photos"
    photos.mkdir()
    for image in sources["coco"].parent.glob("*.jpg"):
        shutil.copy(image, photos / image.name)
    shutil.copy(sources["coco"], photos / "coco.json")
    assert main(["split", str(photos / "coco.json"), "--out", str(tmp_path / "lists")]) == 2
    line = one_message(capsys.readouterr().err, "split")
    xml = tmp_path / "photos_xml"
    assert f"`kerasdet convert {photos / 'coco.json'} {xml}` and `kerasdet split {xml}`" in line
    assert not (tmp_path / "lists").exists()
    assert main(["convert", str(photos / "coco.json"), str(xml)]) == 0  # the commands it gives
    assert main(["split", str(xml), "--val", "0.5", "--test", "0", "--out", str(tmp_path / "lists")]) == 0
    listed = [load_dataset(tmp_path / "lists" / f"{name}.txt") for name in ("train", "val")]
    whole = _boxes_by_image(load_dataset(photos / "coco.json"))
    assert {**_boxes_by_image(listed[0]), **_boxes_by_image(listed[1])} == whole
