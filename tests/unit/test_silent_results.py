"""No result is silently wrong: what looked fine and was not (issue cases 5-9) is now an error naming the
file, or the right result."""
import json
import struct
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from kerasdet.cli import main
from kerasdet.core.card import CARD_FILE, read_card
from kerasdet.data.synthetic import make_demo_dataset


def error_line(err: str, verb: str) -> str:
    lines = [ln for ln in err.replace("\r", "\n").splitlines() if ln.startswith(f"kerasdet {verb}: error: ")]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_demo_dataset(tmp_path_factory.mktemp("silent") / "d", n=6, seed=4, size=(128, 96))


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_evaluating_nothing_is_an_error_not_a_zero(untrained_tflite, data, tmp_path, capsys):
    model = untrained_tflite["fp32"]
    (tmp_path / "demo.yaml").write_text(f"data:\n  train: {data}\n")  # a config given where the data goes
    code = main(["evaluate", str(model), str(tmp_path / "demo.yaml"), "--json"])
    assert code == 2 and "demo.yaml" in error_line(capsys.readouterr().err, "evaluate")
    other = make_demo_dataset(tmp_path / "cats", n=3, seed=0, size=(128, 96))
    for xml in other.glob("*.xml"):  # every box of a class the model does not know
        xml.write_text(xml.read_text().replace("<name>heart</name>", "<name>cat</name>")
                       .replace("<name>star</name>", "<name>dog</name>"))
    code = main(["evaluate", str(model), str(other), "--json"])
    captured = capsys.readouterr()
    line = error_line(captured.err, "evaluate")
    assert code == 2 and "nothing to evaluate" in line and "heart, star" in line and '"map"' not in captured.out


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_detect_lists_a_damaged_jpeg_and_writes_no_xml_for_it(untrained_tflite, tmp_path, capsys):
    photos = make_demo_dataset(tmp_path / "p", n=2, seed=0, size=(128, 96))
    img = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (96, 128, 3), np.uint8), (5, 5), 0)
    ok, encoded = cv2.imencode(".jpg", img)
    (photos / "bad.jpg").write_bytes(encoded.tobytes()[:len(encoded) * 6 // 10] + b"\xff\xd9")
    code = main(["detect", str(untrained_tflite["fp32"]), str(photos), "--voc", str(tmp_path / "xml")])
    line = error_line(capsys.readouterr().err, "detect")
    assert code == 2 and "1 images could not be read" in line
    assert sorted(p.name for p in (tmp_path / "xml").glob("*.xml")) == [p.stem + ".xml" for p in
                                                                           sorted(photos.glob("scene*.jpg"))]


def with_class_names(model: Path, names: list[str], out: Path) -> Path:
    """A copy of `model` whose card names `names`, as a user editing the card by hand would make it."""
    card = read_card(model)
    card.class_names = names
    if model.suffix == ".keras":
        with zipfile.ZipFile(model) as source, zipfile.ZipFile(out, "w") as copy:
            for item in source.infolist():
                copy.writestr(item, card.to_json() if item.filename == CARD_FILE else source.read(item.filename))
        return out
    from kerasdet.tflite.convert import attach_card
    data = model.read_bytes()
    end = data.rfind(b"PK\x05\x06")  # the appended zip's end record: its central directory's size and offset
    size, offset = struct.unpack("<II", data[end + 12:end + 20])
    out.write_bytes(attach_card(data[:end - size - offset], card))
    return out


@pytest.mark.parametrize("untrained", ["yolov8", "retinanet"], indirect=True)
@pytest.mark.parametrize("names", [["heart"], ["heart", "star", "moon"]])
def test_a_card_that_names_more_or_fewer_classes_than_the_head_scores_is_refused(untrained, untrained_tflite,
                                                                                 names, tmp_path):
    from kerasdet.core.card import ModelCardError
    from kerasdet.runtime.load import load_predictor
    for model in (untrained.path, untrained_tflite["int8"]):
        edited = with_class_names(model, names, tmp_path / f"edited{model.suffix}")
        with pytest.raises(ModelCardError, match=rf"edited{model.suffix}: its model card names {len(names)} classes "
                                                 rf"\({', '.join(names)}\) but the model scores 2"):
            load_predictor(edited)
        assert load_predictor(with_class_names(model, ["a", "b"], tmp_path / f"renamed{model.suffix}")).card


def test_a_split_it_cannot_fill_and_an_empty_validation_list_are_refused(tmp_path, capsys):
    one = make_demo_dataset(tmp_path / "one", n=1, seed=0, size=(128, 96))
    assert main(["split", str(one), "--out", str(tmp_path / "s")]) == 2
    assert "has only 1 image: too few for a val split of 0.15" in error_line(capsys.readouterr().err, "split")
    assert not (tmp_path / "s").exists()
    assert main(["split", str(one), "--folds", "3", "--out", str(tmp_path / "k")]) == 2
    assert "too few for k-fold" in error_line(capsys.readouterr().err, "split")
    (tmp_path / "val.txt").write_text("")
    (tmp_path / "c.yaml").write_text(f"data:\n  train: {one}\n  val: {tmp_path / 'val.txt'}\nmodel:\n  weights: none\n")
    assert main(["train", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "val.txt: the list is empty" in err and "Traceback" not in err
    assert json.loads((tmp_path / "run" / ".kerasdet.json").read_text().splitlines()[0])["made_by"] == "kerasdet train"
