"""The integration chain on one tiny model (conftest's `trained`: 30 epochs from scratch on
synthetic hearts and stars, killed after two and resumed, 2-3 minutes on 2 cores): train -> run
folder and resume -> export -> evaluate -> detect and the camera loop. Everything that needs a model
which has learnt something is here; tests/unit/ needs none."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from conftest import TINY_EPOCHS, load_tool, state_epoch, tiny_config as config
from kerasdet.cli import main as kerasdet_main
from kerasdet.config import load_config
from kerasdet.core.detections import box_iou_matrix
from kerasdet.data import load_dataset
from kerasdet.data.formats.csv_table import read_csv_table
from kerasdet.data.images import read_rgb
from kerasdet.eval.evaluate import evaluate
from kerasdet.infer import detect, select_detections
from kerasdet.infer.detect import pixel_box
from kerasdet.models.load import load_model
from kerasdet.runtime.tflite_detector import TFLiteDetector


# --- train


def test_short_fit_learns(trained):
    history = pd.read_csv(trained.run_dir / "metrics.csv")
    assert history.loss.iloc[-1] < 0.6 * history.loss.iloc[0]
    assert trained.best_metrics["map50"] > 0.35  # from scratch, 30 tiny epochs; chance is ~0
    # the first validation is epoch 3, after the two small epochs, and was 0.20 in one run: best at least doubles it
    assert trained.best_metrics["map50"] > 2 * history.map50.dropna().iloc[0] + 0.1


def test_a_distilled_fit_learns_its_teachers_predictions_and_lr_find_ramps_that_loss(trained, tiny_project, tmp_path):
    from kerasdet.train import RunFolder, fit
    from kerasdet.train.lr_find import lr_find
    teacher = f"train.distill_from={trained.run_dir / RunFolder.BEST}"
    result = fit(load_config(config(tiny_project, 4), [teacher]), out=tmp_path / "kd", quiet=True)
    history = pd.read_csv(result.run_dir / RunFolder.METRICS)
    assert history.distill_loss.iloc[-1] < 0.7 * history.distill_loss.iloc[0]  # the student moves towards it
    # lr-find trains the loss the run will: with a heavily weighted teacher its first loss is far higher
    first = {weight: lr_find(load_config(config(tiny_project, 1), overrides), steps=2, out=tmp_path / f"lr{weight}",
                             quiet=True).losses[0]
             for weight, overrides in ((0, []), (100, [teacher, "train.distill_weight=100"]))}
    assert first[100] > 2 * first[0]


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


def test_resume_continues_a_killed_run(trained):
    # `trained` is a run SIGKILLed after two or more epochs and finished with fit(resume=...)
    assert 2 <= trained.killed_after < TINY_EPOCHS
    history = pd.read_csv(trained.run_dir / "metrics.csv")
    assert list(history.epoch) == list(range(1, TINY_EPOCHS + 1))  # continued at killed_after + 1, none repeated
    assert state_epoch(trained.run_dir) == TINY_EPOCHS
    assert (trained.run_dir / "best.keras").exists()


@pytest.mark.slow  # five starts of a few epochs each, every one re-tracing: about 3 minutes on 2 cores
def test_killed_again_and_again_it_resumes_to_the_end(tiny_project):
    """SIGKILL at random moments after each start has made progress (in a step, an evaluation, a
    checkpoint or state save), resume, again: every epoch once and a loadable best checkpoint."""
    cfg, run = config(tiny_project, 8), tiny_project / "chaos"
    rng = np.random.default_rng(7)
    command = [sys.executable, "-m", "kerasdet", "train", str(cfg), "--out", str(run)]
    kills = 0
    while True:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        began, deadline = state_epoch(run), time.time() + 300
        while proc.poll() is None and state_epoch(run) == began and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(rng.uniform(0.0, 3.0))
        if proc.poll() is not None or kills == 4:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        command = [sys.executable, "-m", "kerasdet", "train", "--resume", str(run)]
    assert proc.wait(timeout=300) == 0 and kills >= 2
    history = pd.read_csv(run / "metrics.csv")
    assert list(history.epoch) == list(range(1, 9))
    assert state_epoch(run) == 8
    load_model(run / "best.keras")
    assert not list(run.glob("*.tmp.*"))  # temporaries of killed saves are gone


# --- export and evaluate


@pytest.mark.parametrize("fmt", ["fp32", "fp16"])
def test_tflite_and_keras_detections_agree(trained, exported, fmt):
    from kerasdet.runtime.keras_predictor import KerasPredictor
    ds = load_dataset(trained.run_dir.parent / "splits" / "val.txt")
    images = [read_rgb(r.image_path) for r in ds.records]
    keras_dets = KerasPredictor(*load_model(trained.run_dir / "best.keras")).predict(images)
    tflite = TFLiteDetector(exported[fmt])
    matched = total = 0
    for image, k in zip(images, keras_dets):
        t = tflite.detect(image)
        for box, score, cls in zip(k.boxes, k.scores, k.classes):
            if score < 0.2:
                continue
            total += 1
            same = box_iou_matrix(box[None], t.boxes[t.classes == cls])
            matched += same.max(initial=0) > 0.9
    # fp32 runs the same arithmetic; fp16 weights move scores a little, so a box near another of
    # its class may lose NMS to it (seen once in ten runs): all of fp32, nearly all of fp16
    assert total >= 5 and matched >= (total if fmt == "fp32" else 0.9 * total), (matched, total)


def test_int8_accuracy_is_measured_against_float(trained, exported):
    # The same evaluation path scores both files. On this tiny from-scratch model int8 still loses
    # more than the 1-point target (on hands it is 0.7, see README); the bound guards against a
    # broken int8 graph (wrong input scale, lost outputs), which scores near zero.
    data = trained.run_dir.parent / "splits" / "val.txt"
    float_map = evaluate(trained.run_dir / "best.keras", data)["map50"]
    int8_map = evaluate(exported["int8"], data)["map50"]
    assert float_map > 0.2
    assert int8_map > 0.5 * float_map, (float_map, int8_map)


def test_evaluate_plots_and_json_from_the_int8_file(trained, exported, tmp_path, capsys):
    import json

    from kerasdet.cli import main
    data = trained.run_dir.parent / "splits" / "val.txt"
    assert main(["evaluate", str(exported["int8"]), str(data), "--plots", str(tmp_path / "plots")]) == 0
    out = capsys.readouterr().out
    assert "plots: " in out and "mistakes at score >= 0.25" in out
    for name in ("pr_curves.png", "confusion_matrix.png", "val_grid.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 5000, name
    header = (tmp_path / "plots" / "mistakes.csv").read_text().splitlines()[0]
    assert header.startswith("image,mistake,true_class,predicted_class,score,iou")
    assert main(["evaluate", str(exported["int8"]), str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"map", "map50", "map75", "per_class"} <= set(report) and not any(k.startswith("_") for k in report)
    assert set(report["per_class"]["heart"]) == {"ap", "ap50", "boxes"}


def test_a_checkpoint_copied_alone_keeps_its_class_names(trained, tmp_path):
    # The model card inside best.keras carries the class names (and the calibration data for int8):
    # nothing is read from the run folder it came from.
    import shutil

    import keras
    from kerasdet.core.card import ModelCardError
    from kerasdet.tflite.convert import export
    alone = tmp_path / "elsewhere" / "model.keras"
    alone.parent.mkdir()
    shutil.copy(trained.run_dir / "best.keras", alone)
    data = trained.run_dir.parent / "splits" / "val.txt"
    here, there = evaluate(trained.run_dir / "best.keras", data), evaluate(alone, data)
    assert list(there.per_class) == ["heart", "star"] and there.per_class == here.per_class
    assert TFLiteDetector(export(alone, "int8", calib_count=8)).class_names == ["heart", "star"]
    with pytest.raises(ValueError, match=r"--classes star,heart disagrees .* \(heart,star\)"):
        evaluate(alone, data, classes=["star", "heart"])
    plain = tmp_path / "plain.keras"  # a Keras file kerasdet did not write: refused, not guessed at
    keras.saving.load_model(alone).save(plain)
    with pytest.raises(ModelCardError, match="plain.keras: no kerasdet model card"):
        evaluate(plain, data)



# --- detect and the camera loop


def read_video(path):
    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, bgr = capture.read()
        if not ok:
            return frames
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def test_detect_cam_headless_writes_the_annotated_video(exported, clip, tmp_path, capsys):
    path, truth = clip
    out = tmp_path / "annotated.mp4"
    rc = load_tool("detect_cam").main(["--model", str(exported["int8"]), "--source", str(path), "--headless",
                                       "--save", str(out), "--conf", "0.1", "--threads", "1"])
    assert rc == 0, capsys.readouterr().err
    assert "12 frames" in capsys.readouterr().out
    source_frames, annotated = read_video(path), read_video(out)
    assert len(annotated) == len(source_frames) == 12
    detector = TFLiteDetector(exported["int8"], num_threads=1)
    drawn_frames = found = 0
    for frame, drawn, objects in zip(source_frames, annotated, truth):
        d = select_detections(detector.detect(frame), conf=0.1)
        found += any(box_iou_matrix(d.boxes, np.array([t], np.float32)).max(initial=0) > 0.5 for _, t in objects)
        for x1, y1, x2, y2 in (pixel_box(b, 128, 96) for b in d.boxes):
            # the box's outline is drawn where the detector put it: strong change on the left edge
            edge = np.abs(drawn[y1 + 2:y2 - 2, x1].astype(int) - frame[y1 + 2:y2 - 2, x1]).mean()
            drawn_frames += edge > 40
    assert found >= 8, f"the tiny model found the object in only {found} of 12 frames"
    assert drawn_frames >= found
    # the status line (FPS, ms) is drawn on a black band in the top-left corner
    assert all(f[1:4, 1:60].mean() < 60 for f in annotated)


def test_detect_csv_and_voc_round_trip_through_the_loader(exported, tiny_project, tmp_path, capsys):
    images = tmp_path / "new_photos"
    images.mkdir()
    for p in sorted((tiny_project / "data").glob("*.jpg"))[:10]:
        shutil.copy(p, images)
    # How sure the tiny model is varies with the machine's float rounding (CI once found nothing at
    # 0.2), so the threshold comes from its own scores: about half the images get boxes, half none.
    detector = TFLiteDetector(exported["int8"])
    top_scores = [detector.detect(read_rgb(p)).scores.max(initial=0) for p in sorted(images.iterdir())]
    conf = float(np.median(top_scores))
    results = detect(exported["int8"], images, csv_path=tmp_path / "d.csv", voc_dir=tmp_path / "pre",
                     images_dir=tmp_path / "drawn", conf=conf, progress=False).results
    with_boxes = sum(len(r.detections.boxes) > 0 for r in results)
    assert len(results) == 10 and 0 < with_boxes < 10, (top_scores, conf)
    expected = {r.path.name: sorted(pixel_box(b, r.width, r.height) for b in r.detections.boxes)
                for r in results}
    names = detector.class_names
    # LabelImg XML written apart from the images: kerasdet's loader reads them back, boxes intact
    ds = load_dataset(tmp_path / "pre", names)
    assert len(ds.records) == 10  # images with no detection become negatives, not dropped
    for r in ds.records:
        assert sorted(tuple(map(int, b)) for b in r.boxes) == expected[Path(r.image_path).name]
    rows = read_csv_table(tmp_path / "d.csv", images)
    assert {i.image.name: sorted(tuple(map(int, b)) for _, b in i.objects) for i in rows} == \
        {k: v for k, v in expected.items() if v}
    assert len(list((tmp_path / "drawn").glob("*.jpg"))) == 10
    # a second --voc run leaves the XML already there alone (they may hold corrected labels) and writes
    # the new ones; a.jpg beside a.png gets two XML, an unreadable image is listed, the rest goes on
    first = sorted(images.iterdir())[0]
    cv2.imwrite(str(images / (first.stem + ".png")), cv2.imread(str(first)))
    (images / "broken.jpg").write_bytes(b"not a jpeg")
    corrected = (tmp_path / "pre" / (first.stem + ".xml"))
    corrected.write_text(corrected.read_text().replace("</annotation>", "<!-- corrected -->\n</annotation>"))
    corrected_bytes = corrected.read_bytes()
    assert kerasdet_main(["detect", str(exported["int8"]), str(images), "--voc", str(tmp_path / "pre"),
                          "--csv", str(tmp_path / "e.csv"), "--conf", str(conf)]) == 2
    captured = capsys.readouterr()
    assert "11 images" in captured.out and "10 XML were already in" in captured.out
    assert "1 images could not be read" in captured.err and "broken.jpg" in captured.err
    assert corrected.read_bytes() == corrected_bytes
    assert sorted(p.name for p in (tmp_path / "pre").glob(first.stem + "*")) == \
        [first.stem + ".xml", first.stem + "_png.xml"]
    assert len(read_csv_table(tmp_path / "e.csv", images)) >= with_boxes  # the same threshold, one more image


@pytest.mark.slow  # it may install mediapipe: tools/eval_mediapipe.py makes .venv-mediapipe on first use
def test_mediapipe_object_detector_finds_what_tflitedetector_finds(exported, tiny_project):
    """The int8 file, unchanged, in MediaPipe Tasks' ObjectDetector: the same boxes, classes and
    class names as kerasdet's own runtime. $KERASDET_MEDIAPIPE_PYTHON may name a Python that
    imports mediapipe."""
    tool = load_tool("eval_mediapipe")
    python = tool.mediapipe_python(os.environ.get("KERASDET_MEDIAPIPE_PYTHON"))
    records = load_dataset(tiny_project / "splits" / "val.txt").records[:8]
    images = [read_rgb(r.image_path) for r in records]
    names = TFLiteDetector(exported["int8"]).class_names
    ours, _ = tool.run_kerasdet(exported["int8"], images, threads=1, repeat=1)
    theirs, _ = tool.run_mediapipe(python, exported["int8"], images, names, repeat=1)
    for found, other in ((ours, theirs), (theirs, ours)):
        agree = tool.agreement(found, other)
        assert agree["matched"] >= len(images) // 2 and agree["missing"] == 0, agree  # measured: 7-8 of 7-8
        # MediaPipe resamples its own way and rounds boxes to whole pixels: on objects 10-30 px wide
        # that costs IoU (measured: mean 0.82-0.92 over two trainings; 0.964 on hands' 400x300 frames)
        assert agree["iou_mean"] > 0.75, agree
