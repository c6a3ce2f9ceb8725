"""Damaged and odd files as users' folders hold them: each is read right or reported by name, never
trained on in silence."""
import cv2
import numpy as np
import pytest
from PIL import Image

from kerasdet.cli import main as kerasdet_main
from kerasdet.config import Config
from kerasdet.data import DataError, load_dataset
from kerasdet.data import images as images_module
from kerasdet.data.images import read_rgb
from kerasdet.data.samples import SampleLoader
from kerasdet.data.voc_xml import write_voc_xml
from kerasdet.train.fit import _load_data
from kerasdet.train.run_folder import RunFolder

from conftest import tree_digest, write_image, write_pair


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_a_file_cut_short_is_named_and_left_out(tmp_path, suffix):
    write_pair(tmp_path, "good", [("a", (1, 1, 9, 9))])
    img = np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)  # noise: a long coded stream
    cv2.imwrite(str(tmp_path / f"cut{suffix}"), img)
    data = (tmp_path / f"cut{suffix}").read_bytes()
    (tmp_path / f"cut{suffix}").write_bytes(data[:len(data) // 2])
    write_voc_xml(tmp_path / "cut.xml", f"cut{suffix}", 64, 48, [("a", (1, 1, 9, 9))])
    cut_short = r"(the .* is cut short|image file is truncated)"  # PIL sees a cut PNG in its header already
    with pytest.raises(DataError, match=rf"cut\{suffix}: cannot use this image: {cut_short}"):
        load_dataset(tmp_path)
    ds = load_dataset(tmp_path, on_error="skip")
    assert [r.xml_path.split("/")[-1] for r in ds.records] == ["good.xml"] and ds.images_dropped == 1


def test_a_png_named_jpg_and_a_jpeg_with_zero_padding_are_read(tmp_path):
    """Both are common in downloaded sets (a fruit set: 37 of 300); the format is in the bytes."""
    img = np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "png.png"), img)
    (tmp_path / "png.png").rename(tmp_path / "really_png.jpg")
    cv2.imwrite(str(tmp_path / "padded.jpg"), img)
    with open(tmp_path / "padded.jpg", "ab") as f:
        f.write(bytes(5000))  # more zero bytes than one block of the tail check
    for name in ("really_png.jpg", "padded.jpg"):
        write_voc_xml(tmp_path / name.replace(".jpg", ".xml"), name, 64, 48, [("a", (1, 1, 9, 9))])
    ds = load_dataset(tmp_path)
    assert len(ds) == 2 and ds.images_dropped == 0
    assert images_module.incomplete_reason(tmp_path / "really_png.jpg") is None
    data = (tmp_path / "padded.jpg").read_bytes()
    (tmp_path / "padded.jpg").write_bytes(data[:len(data) - 5000 - 100] + bytes(3000))  # cut, then padded
    assert "JPEG is cut short" in images_module.incomplete_reason(tmp_path / "padded.jpg")


def _colors(path):
    return read_rgb(path)[10, 10].astype(int)


def test_cmyk_16bit_palette_tiff_decode_to_the_same_rgb(tmp_path):
    rgb = (200, 60, 20)
    Image.new("RGB", (64, 48), rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    sixteen = np.zeros((48, 64, 3), np.uint16)
    sixteen[:] = [c * 257 for c in rgb[::-1]]  # BGR, full 16-bit range
    cv2.imwrite(str(tmp_path / "deep.png"), sixteen)
    Image.new("RGB", (64, 48), rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "palette.png")
    Image.new("RGB", (64, 48), rgb).save(tmp_path / "photo.tif")
    for name in ("cmyk.jpg", "deep.png", "palette.png", "photo.tif"):
        write_voc_xml(tmp_path / (name.split(".")[0] + ".xml"), name, 64, 48, [("a", (1, 1, 9, 9))])
        assert np.abs(_colors(tmp_path / name) - rgb).max() <= 6, name
    ds = load_dataset(tmp_path)
    assert len(ds) == 4 and ds.warnings == []


def test_a_large_photo_is_shrunk_while_decoding_and_its_boxes_follow(tmp_path):
    image = np.full((1200, 1600, 3), 60, np.uint8)
    image[300:900, 400:800] = 255  # the labelled object
    cv2.imwrite(str(tmp_path / "big.jpg"), image)
    write_voc_xml(tmp_path / "big.xml", "big.jpg", 1600, 1200, [("a", (400, 300, 800, 900))])
    ds = load_dataset(tmp_path)
    loader = SampleLoader(ds, input_size=64, max_boxes=2)
    assert max(loader.image(ds.records[0], 0).shape[:2]) <= 4 * 64  # never held at 1600x1200
    letterboxed, boxes, _ = loader(0)
    x1, y1, x2, y2 = boxes[0]
    np.testing.assert_allclose(boxes[0], [16, 12, 32, 36], atol=0.5)  # 1600 -> 64: x0.04
    assert letterboxed[int(y1) + 2:int(y2) - 2, int(x1) + 2:int(x2) - 2].min() > 200


def test_pils_decompression_bomb_limit_does_not_stop_a_dataset(tmp_path, monkeypatch):
    write_pair(tmp_path, "photo", [("a", (1, 1, 9, 9))])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # as if the 64x48 photo were 500 megapixels
    assert len(load_dataset(tmp_path)) == 1
    assert Image.MAX_IMAGE_PIXELS == 100  # the user's setting is back
    monkeypatch.setattr(images_module, "OPENCV_MAX_PIXELS", 1000)  # beyond what OpenCV decodes: named
    with pytest.raises(DataError, match=r"photo\.jpg: cannot use this image: 64x48 is 0 megapixels, more than "
                                        r"OpenCV decodes"):
        load_dataset(tmp_path)


def test_class_names_differing_only_in_case_are_reported(tmp_path):
    for k in range(3):
        write_pair(tmp_path, f"h{k}", [("heart", (1, 1, 9, 9))])
    write_pair(tmp_path, "odd", [("Heart", (1, 1, 9, 9)), ("heart", (20, 20, 30, 30))])
    with pytest.raises(DataError, match=r"odd\.xml:\d+: class 'Heart' differs from 'heart' \(4 boxes\) only in "
                                        r"letter case"):
        load_dataset(tmp_path)
    ds = load_dataset(tmp_path, on_error="skip")
    assert ds.class_names == ["heart"] and ds.boxes == 4 and ds.boxes_dropped == 1
    assert load_dataset(tmp_path, classes=["heart", "Heart"]).boxes == 5  # both listed: both wanted


def test_size_that_disagrees_with_the_image_is_reported(tmp_path):
    write_pair(tmp_path, "fine", [("a", (1, 1, 9, 9))])
    write_image(tmp_path / "resized.jpg", 64, 48)
    write_voc_xml(tmp_path / "resized.xml", "resized.jpg", 640, 480, [("a", (10, 10, 60, 40))])
    with pytest.raises(DataError, match=r"resized\.jpg: cannot use this image: resized\.xml's <size> is 640x480 "
                                        r"but the image is 64x48"):
        load_dataset(tmp_path)


def face_masks(root):
    """A public face-mask set's quirk: LabelImg left two zero-height boxes (a stray click) beside good ones."""
    for k in range(6):
        write_pair(root, f"mask{k}", [("with_mask", (4, 4, 30, 30)), ("without_mask", (34, 10, 60, 40))])
    write_pair(root, "stray", [("with_mask", (4, 4, 30, 30)), ("with_mask", (40, 20, 50, 20))])
    write_pair(root, "stray2", [("without_mask", (5, 12, 5, 30)), ("without_mask", (34, 10, 60, 40))])


def test_stray_zero_height_boxes_are_dropped_the_images_kept(tmp_path, capsys):
    face_masks(tmp_path / "data")
    before = tree_digest(tmp_path / "data")
    cfg = Config()
    cfg.data.train = str(tmp_path / "data")
    run = RunFolder(tmp_path / "run").create()
    train_ds, _ = _load_data(cfg, run)  # by default too: a stray click is nothing to decide
    out = capsys.readouterr().out
    assert "8 images, 14 boxes; left out: 2 boxes with problems" in out and "data.json" in out
    assert all("stray" in p.file and "ymin == ymax" in p.message for p in train_ds.problems)
    stray = next(r for r in train_ds.records if r.image_path.endswith("stray.jpg"))
    assert stray.boxes.tolist() == [[4, 4, 30, 30]]  # the good box stays
    report = (run / run.DATA).read_text()
    assert "stray.xml" in report and "stray2.xml" in report
    assert kerasdet_main(["stats", str(tmp_path / "data")]) == 0
    assert "problems: 2 (left out: 0 images, 2 boxes" in capsys.readouterr().out
    assert tree_digest(tmp_path / "data") == before


def test_training_says_which_images_have_no_xml(tmp_path, capsys):
    write_pair(tmp_path / "data", "a", [("x", (1, 1, 9, 9))])
    write_image(tmp_path / "data" / "forgotten.jpg")
    cfg = Config()
    cfg.data.train = str(tmp_path / "data")
    run = RunFolder(tmp_path / "run").create()
    _load_data(cfg, run)
    assert "1 images without XML not used" in capsys.readouterr().out
    assert "forgotten.jpg: image has no XML" in (run / run.DATA).read_text()


def test_stats_prints_the_layout_and_pairing(tmp_path, capsys):
    write_pair(tmp_path / "annots", "k1", [("kangaroo", (1, 1, 30, 30))], image_dir=tmp_path / "images")
    assert kerasdet_main(["stats", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "images in images/, XML in annots/" in out and "paired XML with images 1 by <filename>" in out


def test_skip_that_leaves_too_little_stops_with_the_counts(demo_data, tmp_path):
    cfg = Config()
    cfg.data.train, cfg.data.on_error = str(demo_data), "skip"
    cfg.data.classes = ["cat", "dog"]  # none of the demo's hearts and stars
    run = RunFolder(tmp_path / "run").create()
    with pytest.raises(DataError, match=r"The train data lost 100% of the boxes to these problems, more than "
                                        r"data.max_left_out 0.25"):
        _load_data(cfg, run)
    cfg.data.classes, cfg.data.max_left_out = ["heart", "star", "cat"], 1.0  # a class with no box at all
    with pytest.raises(DataError, match=r"No box of class cat is left in the training data"):
        _load_data(cfg, run)
    cfg.data.classes = []
    train_ds, _ = _load_data(cfg, run)
    assert train_ds.problems == [] and len(train_ds) == 48


@pytest.mark.parametrize("damage", ["cut, then an end marker", "3 KB zeroed in the middle"])
def test_a_jpeg_damaged_inside_is_named_and_left_out(tmp_path, damage):
    """libjpeg decodes both with only a warning on stderr naming no file; kerasdet names the file."""
    write_pair(tmp_path, "good", [("a", (1, 1, 9, 9))])
    img = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (240, 320, 3), np.uint8), (7, 7), 0)
    cv2.imwrite(str(tmp_path / "bad.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    data = (tmp_path / "bad.jpg").read_bytes()
    middle = len(data) // 2
    data = (data[:int(len(data) * 0.6)] + b"\xff\xd9" if damage.startswith("cut") else
            data[:middle] + bytes(3000) + data[middle + 3000:])
    (tmp_path / "bad.jpg").write_bytes(data)
    write_voc_xml(tmp_path / "bad.xml", "bad.jpg", 320, 240, [("a", (1, 1, 9, 9))])
    assert images_module.incomplete_reason(tmp_path / "bad.jpg") is None  # its end marker is there
    with pytest.raises(DataError, match=r"bad\.jpg: cannot use this image: the JPEG is damaged \(Corrupt JPEG data"):
        load_dataset(tmp_path)
    ds = load_dataset(tmp_path, on_error="skip")
    assert [r.xml_path.split("/")[-1] for r in ds.records] == ["good.xml"] and ds.images_dropped == 1
