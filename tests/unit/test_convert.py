"""`kerasdet convert`: every format round-trips through LabelImg XML without losing a box."""
import json

import numpy as np
import pytest

from kerasdet.cli import main as kerasdet_main
from kerasdet.data import DataError, load_dataset
from kerasdet.data.formats import convert, detect_format
from kerasdet.data.formats.label_map import read_label_map


def same_boxes(a, b):
    """Records of two loads of the same images: same boxes and classes, image by image."""
    by_name = {r.image_path.split("/")[-1]: r for r in b.records}
    for r in a.records:
        other = by_name[r.image_path.split("/")[-1]]
        order_a, order_b = np.lexsort(r.boxes.T), np.lexsort(other.boxes.T)
        np.testing.assert_allclose(r.boxes[order_a], other.boxes[order_b], atol=1e-3)
        assert r.labels[order_a].tolist() == other.labels[order_b].tolist()


@pytest.mark.parametrize("name,fmt", [("coco.json", "coco"), ("_annotations.json", "cloud"),
                                      ("boxes.csv", "csv")])
def test_round_trip_through_each_format(demo_data, tmp_path, name, fmt):
    original = load_dataset(demo_data)
    out = tmp_path / name
    convert(demo_data, out)
    assert detect_format(out) == fmt
    convert(out, tmp_path / "back", images=demo_data)
    back = load_dataset(tmp_path / "back", original.class_names)
    boxes = sum(len(r.boxes) for r in original.records)
    assert sum(len(r.boxes) for r in back.records) == boxes > 20
    with_boxes = [r for r in original.records if len(r.boxes)]
    # the CSV format has no row for an image without boxes; the JSON formats keep negatives
    assert len(back.records) == (len(with_boxes) if fmt == "csv" else len(original.records))
    same_boxes(back, original)


def test_csv_in_the_tf_object_detection_api_layout(demo_data, tmp_path):
    convert(demo_data, tmp_path / "a.csv")
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines[0] == "filename,width,height,class,xmin,ymin,xmax,ymax"
    name, w, h, cls, *box = lines[1].split(",")
    r = next(r for r in load_dataset(demo_data).records if r.image_path.endswith(name))
    assert (int(w), int(h)) == (r.width, r.height) and cls in ("heart", "star")


def test_label_map_round_trip(tmp_path):
    (tmp_path / "label_map.pbtxt").write_text("item {\n  id: 2\n  name: 'star'\n}\nitem {\n  name: \"heart\"\n"
                                             "  id: 1\n  display_name: 'Heart'\n}\n")
    assert convert(tmp_path / "label_map.pbtxt", tmp_path / "classes.txt") == \
        f"2 classes -> {tmp_path / 'classes.txt'}"
    assert (tmp_path / "classes.txt").read_text() == "heart\nstar\n"
    convert(tmp_path / "classes.txt", tmp_path / "again.pbtxt")
    assert read_label_map(tmp_path / "again.pbtxt") == ["heart", "star"]


def test_label_map_from_a_dataset_uses_its_classes(demo_data, tmp_path):
    assert kerasdet_main(["convert", str(demo_data), str(tmp_path / "lm.pbtxt")]) == 0
    assert read_label_map(tmp_path / "lm.pbtxt") == load_dataset(demo_data).class_names


def test_bad_inputs_are_clear_errors(demo_data, tmp_path, capsys):
    (tmp_path / "broken.json").write_text('{"annotations": {"a.jpg": [\n  {"x": 0.1,, }]}}')
    with pytest.raises(DataError, match=r"broken.json:2: malformed JSON"):
        convert(tmp_path / "broken.json", tmp_path / "out")
    (tmp_path / "bad.csv").write_text("filename,width,class,xmin,ymin,xmax,ymax\na.jpg,10,cat,1,1,5,5\n")
    with pytest.raises(DataError, match="missing column.*height"):
        convert(tmp_path / "bad.csv", tmp_path / "out")
    (tmp_path / "nan.csv").write_text("filename,width,height,class,xmin,ymin,xmax,ymax\n"
                                      "a.jpg,10,10,cat,1,1,5,5\na.jpg,10,10,cat,1,x,5,5\n")
    with pytest.raises(DataError, match=r"nan.csv:3: a number is missing"):
        convert(tmp_path / "nan.csv", tmp_path / "out")
    (tmp_path / "_annotations.json").write_text(json.dumps({"annotations": {"missing.jpg": []}}))
    with pytest.raises(DataError, match="missing.jpg"):
        convert(tmp_path / "_annotations.json", tmp_path / "out")
    (tmp_path / "lm.pbtxt").write_text("item { id: 1 name: 'a' }\nitem { id: 3 name: 'b' }\n")
    with pytest.raises(DataError, match=r"ids \[1, 3\] are not 1..2"):
        read_label_map(tmp_path / "lm.pbtxt")
    # CSV rows whose images are elsewhere: converting to XML needs --images, and says so
    convert(demo_data, tmp_path / "a.csv")
    assert kerasdet_main(["convert", str(tmp_path / "a.csv"), str(tmp_path / "xml")]) == 2
    assert "give the images folder: --images" in capsys.readouterr().err
