"""Every layout LabelImg and public downloads leave behind, built from tiny generated images: `stats`,
`split`, the training input, `evaluate` and `convert` all see the same images and boxes, and nothing
the user owns is modified."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kerasdet.cli import main as kerasdet_main
from kerasdet.data import DataError, load_dataset
from kerasdet.data.discover import discover, find_images
from kerasdet.data.formats import convert
from kerasdet.data.pipeline import make_tf_dataset
from kerasdet.data.samples import SampleLoader
from kerasdet.data.voc_xml import read_voc_xml, write_voc_xml

from conftest import left_as_found, tree_digest, write_image, write_pair

N = 12  # images per generated layout
W, H = 128, 96


@pytest.fixture(scope="module")
def source_pairs(tmp_path_factory):
    """N (image, objects) of the demo data, the ground truth every layout must give back."""
    from kerasdet.data.synthetic import make_demo_dataset
    folder = make_demo_dataset(tmp_path_factory.mktemp("pairs") / "d", n=N, seed=5, size=(W, H))
    pairs = []
    for xml in sorted(folder.glob("*.xml")):
        ann, _ = read_voc_xml(xml)
        pairs.append((folder / ann.filename, [(o.name, o.box) for o in ann.objects]))
    return pairs


def put(pairs, image_dir: Path, xml_dir: Path, rename=lambda stem: stem, filename=True):
    """Copy the pairs into `image_dir` / `xml_dir`; `rename` gives the XML another name than the image's."""
    image_dir.mkdir(parents=True, exist_ok=True)
    xml_dir.mkdir(parents=True, exist_ok=True)
    for image, objects in pairs:
        shutil.copy(image, image_dir / image.name)
        write_voc_xml(xml_dir / f"{rename(image.stem)}.xml", image.name if filename else "", W, H, objects,
                      image_path=f"C:\\Users\\someone\\Desktop\\{image.name}")


def devkit(pairs, root: Path) -> Path:
    """VOCdevkit/VOC2007 with ImageSets/Main/{train,val,test}.txt and segmentation PNGs to ignore."""
    year = root / "VOCdevkit" / "VOC2007"
    put(pairs, year / "JPEGImages", year / "Annotations")
    (year / "SegmentationClass").mkdir()
    write_image(year / "SegmentationClass" / (pairs[0][0].stem + ".png"))
    main = year / "ImageSets" / "Main"
    main.mkdir(parents=True)
    ids = [p[0].stem for p in pairs]
    for name, part in (("train", ids[:8]), ("val", ids[8:10]), ("test", ids[10:])):
        (main / f"{name}.txt").write_text("".join(i + "\n" for i in part))
    (main / "trainval.txt").write_text("".join(i + "\n" for i in ids[:10]))
    (main / "heart_train.txt").write_text("".join(f"{i} {1 if k % 2 else -1}\n" for k, i in enumerate(ids[:8])))
    return year


def build(layout: str, pairs, root: Path) -> str:
    """The layout under `root`; returns the data source a user would give."""
    if layout in ("annots", "labels", "xml", "Annotations"):  # kangaroo: images/ + annots/
        put(pairs, root / "images", root / layout)
    elif layout == "beside":
        put(pairs, root, root)
    elif layout == "devkit":
        devkit(pairs, root)
        return str(root / "VOCdevkit")
    elif layout == "roboflow":  # train/ valid/ test/, JPEG + XML beside
        for name, part in (("train", pairs[:8]), ("valid", pairs[8:10]), ("test", pairs[10:])):
            put(part, root / name, root / name)
    elif layout == "nested":  # one pair at the top, the others in subfolders two levels deep
        put(pairs[:1], root, root)
        for k, pair in enumerate(pairs[1:]):
            folder = root / f"day{k % 2}" / f"cam{k % 3}"
            put([pair], folder, folder)
    elif layout == "nested_split_folders":  # images/train + labels/train
        put(pairs[:8], root / "images" / "train", root / "labels" / "train")
        put(pairs[8:], root / "images" / "val", root / "labels" / "val")
    elif layout == "xml_named_otherwise":  # LabelImg saved the XML under the name the user typed
        put(pairs, root / "images", root / "annotations", rename=lambda stem: f"label_{stem[::-1]}")
    elif layout == "no_filename":  # no <filename>: paired by the XML's stem
        put(pairs, root, root, filename=False)
    elif layout == "class_folders":  # images/<class>/x.jpg, every XML in one annotations/ (madarp/jimmyjohn)
        for k, pair in enumerate(pairs):
            put([pair], root / "dataset" / "images" / f"class{k % 3}", root / "dataset" / "annotations")
    return str(root)


LAYOUTS = ["annots", "labels", "xml", "Annotations", "beside", "devkit", "roboflow", "nested",
           "nested_split_folders", "xml_named_otherwise", "no_filename", "class_folders"]


def boxes_by_image(ds) -> dict:
    return {Path(r.image_path).name: sorted((ds.class_names[c], *map(float, b)) for b, c in zip(r.boxes, r.labels))
            for r in ds.records}


def truth(pairs) -> dict:
    return {image.name: sorted((name, *map(float, box)) for name, box in objects) for image, objects in pairs}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_command_sees_every_image_and_box(layout, source_pairs, tmp_path, capsys):
    source = build(layout, source_pairs, tmp_path / "data")
    before = tree_digest(tmp_path / "data")
    expected = truth(source_pairs)

    ds = load_dataset(source)
    assert boxes_by_image(ds) == expected
    assert ds.problems == [] and ds.warnings == [], ds.warnings
    assert kerasdet_main(["stats", source, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["images"] == N and stats["boxes"] == sum(len(v) for v in expected.values())
    assert stats["problems"] == [] and stats["warnings"] == []

    # split -> three lists of images, read back (the train list is what `train` reads)
    assert kerasdet_main(["split", source, "--out", str(tmp_path / "splits"), "--val", "0.25",
                          "--test", "0.25"]) == 0
    parts = [load_dataset(tmp_path / "splits" / f"{name}.txt") for name in ("train", "val", "test")]
    merged = {k: v for part in parts for k, v in boxes_by_image(part).items()}
    assert merged == expected and sum(len(p) for p in parts) == N

    # the training input: every box reaches the batches, scaled by the letterbox
    loader = SampleLoader(parts[0], 48, 8)
    images, targets = next(iter(make_tf_dataset(loader, batch_size=len(loader))))
    assert images.shape[0] == len(parts[0])
    assert int((targets["classes"].numpy() >= 0).sum()) == parts[0].boxes

    # convert to CSV and back: the same boxes
    assert kerasdet_main(["convert", source, str(tmp_path / "boxes.csv")]) == 0
    assert f"{N - sum(not v for v in expected.values())} images" in capsys.readouterr().out
    assert tree_digest(tmp_path / "data") == before


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)  # data, not architectures, under test
def test_evaluate_reads_a_devkit_split(untrained, source_pairs, tmp_path):
    from kerasdet.eval.evaluate import evaluate
    year = devkit(source_pairs, tmp_path)
    before = tree_digest(tmp_path)
    metrics = evaluate(untrained.path, f"{year}:test")
    test_boxes = sum(len(objects) for _, objects in source_pairs[10:])
    assert sum(m["boxes"] for m in metrics.per_class.values()) == test_boxes
    assert tree_digest(tmp_path) == before


@pytest.mark.parametrize("untrained", ["yolov8"], indirect=True)
def test_a_training_step_on_a_devkit_split(untrained, source_pairs, tmp_path):
    year = devkit(source_pairs, tmp_path)
    ds = load_dataset(f"{year}:train", ["heart", "star"])
    assert len(ds) == 8
    loader = SampleLoader(ds, untrained.card.input_size, 2)  # the shapes the fixture's step was traced for
    images, targets = next(iter(make_tf_dataset(loader, batch_size=2)))
    with left_as_found(untrained.trainer) as trainer:
        losses = trainer.train_step(images, targets, backbone_frozen=True)
    assert np.isfinite(losses["loss"]) and losses["loss"] > 0


def test_devkit_splits_ids_and_class_lists(source_pairs, tmp_path):
    year = devkit(source_pairs, tmp_path)
    ids = [p[0].stem for p in source_pairs]
    # the devkit, one year, a split of either, and the split's own id list all work
    assert len(load_dataset(year.parent)) == N
    assert [Path(r.image_path).stem for r in load_dataset(f"{year}:test").records] == ids[10:]
    assert len(load_dataset(f"{year.parent}:trainval")) == 10
    assert len(load_dataset(year / "ImageSets" / "Main" / "val.txt")) == 2
    assert convert(f"{year}:test", year.parent.parent / "test.csv").startswith("2 images")
    # a class list: `id 1` has the class, `id -1` does not (left out)
    assert len(load_dataset(year / "ImageSets" / "Main" / "heart_train.txt")) == 4
    found = discover(year)
    assert "Pascal VOC devkit VOC2007" in found.layout and "trainval" in found.layout
    assert found.warnings == []  # SegmentationClass/*.png are not images without XML
    with pytest.raises(DataError, match=r"no ImageSets/Main/nope\.txt"):
        load_dataset(f"{year}:nope")
    (year / "ImageSets" / "Main" / "bad.txt").write_text(ids[0] + "\nghost_id\n")
    with pytest.raises(DataError, match=r"bad\.txt:2: id 'ghost_id': .*Annotations/ghost_id\.xml does not exist"):
        load_dataset(year / "ImageSets" / "Main" / "bad.txt")


def test_roboflow_split_folders_read_one_by_name(source_pairs, tmp_path):
    root = Path(build("roboflow", source_pairs, tmp_path / "rf"))
    assert len(load_dataset(f"{root}:train")) == 8
    assert len(load_dataset(f"{root}:val")) == 2  # `val` finds valid/
    assert "look like splits and were all read" in discover(root).layout


def test_nothing_found_says_where_it_looked(tmp_path):
    (tmp_path / "photos").mkdir()
    write_image(tmp_path / "photos" / "a.jpg")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "config.xml").write_text("<settings/>")
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path)
    message = str(err.value)
    assert "searched" in message and "photos (1 images)" in message and "config.xml" in message


def test_xml_named_otherwise_pairs_without_false_warnings(source_pairs, tmp_path):
    source = build("xml_named_otherwise", source_pairs, tmp_path / "d")
    found = discover(source)
    assert found.warnings == [] and {p.rule for p in found.pairs} == {"filename"}


def test_pairing_rules_are_reported(tmp_path):
    write_image(tmp_path / "a.jpg")
    write_voc_xml(tmp_path / "a.xml", "a.png", 64, 48, [("x", (1, 1, 9, 9))])  # <filename> says .png
    write_image(tmp_path / "B.JPG")
    write_voc_xml(tmp_path / "b.xml", "b.jpg", 64, 48, [("x", (1, 1, 9, 9))])  # case differs
    write_image(tmp_path / "c.jpg")
    write_voc_xml(tmp_path / "other.xml", "", 64, 48, [("x", (1, 1, 9, 9))], image_path="D:\\pics\\c.jpg")
    ds = load_dataset(tmp_path)
    assert len(ds) == 3
    assert sorted(ds.pairing) == sorted(["1 by the XML's own name (no image has its <filename>)",
                                         "1 ignoring letter case (no exact match)",
                                         "1 by the file name in <path>"])


def test_two_images_one_xml_is_reported_never_a_silent_pick(tmp_path):
    write_image(tmp_path / "a.jpg")
    write_image(tmp_path / "a.png")
    write_voc_xml(tmp_path / "a.xml", "a.jpg", 64, 48, [("x", (1, 1, 9, 9))])
    ds = load_dataset(tmp_path)
    assert [Path(r.image_path).name for r in ds.records] == ["a.jpg"]
    assert len(ds.warnings) == 1 and "a.png" in ds.warnings[0].file and "a.xml describes a.jpg" in str(ds.warnings[0])
    # with no <filename> naming one, both fit equally: an error naming both
    write_voc_xml(tmp_path / "a.xml", "", 64, 48, [("x", (1, 1, 9, 9))])
    with pytest.raises(DataError, match=r"which image\? .*a\.jpg, .*a\.png fit equally"):
        load_dataset(tmp_path)


def test_two_xml_for_one_image(tmp_path):
    write_pair(tmp_path, "a", [("x", (1, 1, 9, 9))])
    write_voc_xml(tmp_path / "copy of a.xml", "a.jpg", 64, 48, [("x", (2, 2, 9, 9))])
    with pytest.raises(DataError, match=r"copy of a\.xml: describes .*a\.jpg \(by <filename>\), as .*/a\.xml does "
                                        r"already \(by <filename>\)"):
        load_dataset(tmp_path)


def test_of_two_xml_for_one_image_the_one_whose_filename_names_it_is_kept(tmp_path):
    """a.xml's <filename> names no image here, so it pairs with a.jpg by its own name only; z.xml's <filename>
    names a.jpg: the XML that names the image wins, whichever comes first."""
    write_image(tmp_path / "a.jpg")
    write_voc_xml(tmp_path / "a.xml", "wrong.jpg", 64, 48, [("x", (2, 2, 9, 9))])  # sorted first, <filename> wrong
    write_voc_xml(tmp_path / "z.xml", "a.jpg", 64, 48, [("x", (3, 3, 9, 9))])
    ds = load_dataset(tmp_path, on_error="skip")
    assert [(Path(r.xml_path).name, Path(r.image_path).name) for r in ds.records] == [("z.xml", "a.jpg")]
    assert any("a.xml: describes" in str(p) and "(by the XML's own name" in str(p) and "z.xml does already (by "
               "<filename>)" in str(p) for p in ds.problems)


def test_list_of_xml_and_find_images(source_pairs, tmp_path):
    put(source_pairs, tmp_path / "images", tmp_path / "annots")
    (tmp_path / "some.txt").write_text("annots/" + source_pairs[0][0].stem + ".xml\n")
    assert len(load_dataset(tmp_path / "some.txt")) == 1
    assert find_images(tmp_path / "some.txt") == [tmp_path / "images" / source_pairs[0][0].name]
    assert len(find_images(tmp_path)) == N  # images/ found recursively


def test_xml_without_any_image_names_both_folders(tmp_path):
    write_voc_xml((tmp_path / "xml").mkdir() or tmp_path / "xml" / "a.xml", "a.jpg", 64, 48, [])
    (tmp_path / "pictures").mkdir()
    write_image(tmp_path / "pictures" / "b.jpg")
    with pytest.raises(DataError, match=r"no XML could be paired with an image: XML in .*xml \(1\); images in "
                                        r".*pictures \(1\)"):
        load_dataset(tmp_path)


def test_filename_without_suffix_or_with_a_folder(tmp_path):
    (tmp_path / "images").mkdir()
    write_image(tmp_path / "images" / "000001.jpg")
    write_image(tmp_path / "images" / "000002.jpg")
    (tmp_path / "annotations").mkdir()
    write_voc_xml(tmp_path / "annotations" / "a.xml", "000001", 64, 48, [("x", (1, 1, 9, 9))])  # no suffix
    write_voc_xml(tmp_path / "annotations" / "b.xml", "images\\000002.jpg", 64, 48, [("x", (1, 1, 9, 9))])
    ds = load_dataset(tmp_path)
    assert sorted(Path(r.image_path).name for r in ds.records) == ["000001.jpg", "000002.jpg"]
    assert ds.pairing == ["2 by <filename>"]


def test_one_file_and_a_linked_image_folder(tmp_path):
    write_pair(tmp_path / "real" / "annotations", "a", [("x", (1, 1, 9, 9))], image_dir=tmp_path / "real" / "pics")
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "images").symlink_to(tmp_path / "real" / "pics")  # as on Colab / Kaggle set-ups
    (tmp_path / "ds" / "annotations").symlink_to(tmp_path / "real" / "annotations")
    (tmp_path / "ds" / "loop").symlink_to(tmp_path / "ds")  # a link back up is not followed forever
    assert len(load_dataset(tmp_path / "ds")) == 1
    assert len(load_dataset(tmp_path / "real" / "annotations" / "a.xml")) == 1  # one XML
    assert len(load_dataset(tmp_path / "real" / "pics" / "a.jpg")) == 1  # one image: its XML is found
