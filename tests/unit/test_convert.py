"""`kerasdet convert`: every format round-trips through LabelImg XML without losing a box."""
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import tree_digest, write_image

from kerasdet.cli import main as kerasdet_main
from kerasdet.data import DataError, load_dataset
from kerasdet.data.formats import AnnotatedImage, convert, detect_format
from kerasdet.data.formats.label_map import read_label_map
from kerasdet.data.formats.yolo_txt import read_yolo, write_yolo


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


# --- YOLO txt and LabelMe JSON ----------------------------------------------------------------------

def test_voc_to_yolo_and_back_keeps_every_box_and_the_negatives(demo_data, tmp_path):
    before = tree_digest(demo_data)
    original = load_dataset(demo_data)
    convert(demo_data, tmp_path / "yolo", to="yolo")
    assert (tmp_path / "yolo" / "classes.txt").read_text() == "heart\nstar\n"
    assert yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text()) == {"names": {0: "heart", 1: "star"}}
    labels = sorted((tmp_path / "yolo").glob("scene*.txt"))
    assert len(labels) == len(original.records)
    assert sum(p.read_text() == "" for p in labels) == sum(len(r.boxes) == 0 for r in original.records) > 0
    assert detect_format(tmp_path / "yolo") == "yolo"
    convert(tmp_path / "yolo", tmp_path / "back", images=demo_data)  # a folder without --to: LabelImg XML
    back = load_dataset(tmp_path / "back", original.class_names)
    assert len(back.records) == len(original.records)
    assert sum(len(r.boxes) for r in back.records) == sum(len(r.boxes) for r in original.records)
    same_boxes(back, original)
    assert tree_digest(demo_data) == before


@pytest.mark.parametrize("names", ["names: [cat, dog]\n", "path: .\nnames:\n  0: cat\n  1: dog\n"])
def test_reads_the_ultralytics_images_labels_layout(tmp_path, names):
    root = tmp_path / "ds"
    for folder in ("images/train", "images/val", "labels/train", "labels/val"):
        (root / folder).mkdir(parents=True)
    for image in ("train/a.jpg", "train/b.PNG", "val/c.jpg"):
        write_image(root / "images" / image, 100, 50)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.4\n1 0.1 0.1 0.2 0.2\n")
    (root / "labels" / "train" / "b.txt").write_text("1 0.25 0.75 0.5 0.5\n")
    (root / "labels" / "val" / "c.txt").write_text("")
    (root / "train.txt").write_text("./images/train/a.jpg\n./images/train/b.PNG\n")  # Ultralytics' list
    (root / "data.yaml").write_text(names)
    before = tree_digest(root)
    assert detect_format(root) == "yolo"
    assert convert(root, tmp_path / "xml") == f"3 images, 3 boxes: yolo {root} -> voc {tmp_path / 'xml'}"
    ds = load_dataset(tmp_path / "xml")
    assert ds.class_names == ["cat", "dog"]
    boxes = {r.image_path.split("/")[-1]: (r.boxes.tolist(), r.labels.tolist()) for r in ds.records}
    assert boxes == {"a.jpg": ([[40, 15, 60, 35], [0, 0, 20, 10]], [0, 1]),
                     "b.PNG": ([[0, 25, 50, 50]], [1]), "c.jpg": ([], [])}
    assert tree_digest(root) == before


def test_every_yolo_problem_is_reported_with_its_file_and_line(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for stem in ("a", "b"):
        write_image(src / f"{stem}.jpg", 20, 10)
    (src / "classes.txt").write_text("cat\ndog\n")
    (src / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5\n0 x 0.5 0.1 0.1\n\n2 0.5 0.5 0.1 0.1\n"
                               "0 0.95 0.5 0.2 0.2\n0 0.5 0.5 0 0.1\n")
    (src / "b.txt").write_text("1 0.998 0.5 0.01 0.2\n-1 0.5 0.5 0.1 0.1\n")  # line 1: within the tolerance
    (src / "lost.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DataError) as err:
        convert(src, tmp_path / "out")
    assert [(Path(p.file).name, p.line) for p in err.value.problems] == [
        ("a.txt", 2), ("a.txt", 3), ("a.txt", 5), ("a.txt", 6), ("a.txt", 7), ("b.txt", 2), ("lost.txt", None)]
    text = str(err.value)
    for expected in ("a.txt:2: expected 5 fields", "a.txt:3: not a number", "a.txt:5: class index 2 is not 0..1",
                     "a.txt:6: box outside the image", "a.txt:7: box width and height must be > 0",
                     "b.txt:2: class index -1", "lost.txt: no image named lost"):
        assert expected in text
    assert not (tmp_path / "out").exists()

    (src / "classes.txt").unlink()
    with pytest.raises(ValueError, match="YOLO .txt labels with a classes.txt or data.yaml"):
        detect_format(src)
    with pytest.raises(DataError) as err:
        read_yolo(src)
    assert "no class names" in str(err.value) and "a.txt:2: expected 5 fields" in str(err.value)


def test_yolo_output_refuses_two_images_with_one_stem(tmp_path):
    items = [AnnotatedImage(tmp_path / d / "x.jpg", 10, 10, [("cat", (1, 1, 5, 5))]) for d in ("a", "b")]
    with pytest.raises(DataError, match=r"b/x.jpg: same stem as .*a/x.jpg"):
        write_yolo(items, ["cat"], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_labelme_rectangles_polygons_and_circles_to_voc(tmp_path):
    src = tmp_path / "labelme"
    for folder in ("images", "json"):
        (src / folder).mkdir(parents=True)
    write_image(src / "images" / "a.jpg", 64, 48)
    write_image(src / "b.jpg", 64, 48)
    (src / "json" / "a.json").write_text(json.dumps({
        "imagePath": "..\\images\\a.jpg", "imageWidth": 64, "imageHeight": 48, "shapes": [
            {"label": "cat", "points": [[30, 40], [10, 5]], "shape_type": "rectangle"},
            {"label": "dog", "points": [[20, 10], [50, 12], [40, 30], [25, 28]], "shape_type": "polygon"},
            {"label": "cat", "points": [[30, 20], [33, 24]], "shape_type": "circle"}]}))
    (src / "b.json").write_text(json.dumps({"imagePath": "b.jpg", "imageWidth": 64, "imageHeight": 48,
                                            "shapes": []}))
    before = tree_digest(src)
    assert detect_format(src) == "labelme" and detect_format(src / "b.json") == "labelme"
    convert(src, tmp_path / "xml")
    ds = load_dataset(tmp_path / "xml")
    boxes = {r.image_path.split("/")[-1]: (r.boxes.tolist(), [ds.class_names[i] for i in r.labels])
             for r in ds.records}
    assert boxes == {"a.jpg": ([[10, 5, 30, 40], [20, 10, 50, 30], [25, 15, 35, 25]], ["cat", "dog", "cat"]),
                     "b.jpg": ([], [])}
    assert tree_digest(src) == before

    (src / "b.json").write_text(json.dumps({"imagePath": "b.jpg", "imageWidth": 64, "imageHeight": 48,
                                            "shapes": [{"label": "cat", "points": [[3, 3]], "shape_type": "point"},
                                                       {"label": "cat"}]}))
    with pytest.raises(DataError, match=r"(?s)b.json: shape 0 \(point 'cat'\).*no area.*b.json: shape 1"):
        convert(src, tmp_path / "xml2")


def test_cli_converts_to_yolo(demo_data, tmp_path, capsys):
    assert kerasdet_main(["convert", str(demo_data), str(tmp_path / "yolo"), "--to", "yolo"]) == 0
    original = load_dataset(demo_data)
    boxes = sum(len(r.boxes) for r in original.records)
    assert capsys.readouterr().out == (f"{len(original.records)} images, {boxes} boxes: voc {demo_data} -> "
                                       f"yolo {tmp_path / 'yolo'}\n")
    assert (tmp_path / "yolo" / "classes.txt").read_text() == "heart\nstar\n"
