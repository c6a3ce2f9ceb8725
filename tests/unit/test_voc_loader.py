import cv2
import numpy as np
import pytest
from PIL import Image

from kerasdet.data import DataError, load_dataset
from kerasdet.data.images import read_rgb
from kerasdet.data.samples import SampleLoader
from kerasdet.data.voc_xml import write_voc_xml

from conftest import tree_digest, write_image, write_pair

XML = """<annotation verified="yes">
\t<folder>images</folder>
\t<filename>{filename}</filename>
\t<path>{path}</path>
\t<size><width>{w}</width><height>{h}</height><depth>3</depth></size>
{objects}</annotation>
"""
OBJ = """\t<object>
\t\t<name>{name}</name>
\t\t<truncated>0</truncated>
\t\t<difficult>{difficult}</difficult>
\t\t<bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox>
\t</object>
"""


def raw_xml(path, filename, objects, w=64, h=48, xml_path_field=None):
    objs = "".join(OBJ.format(name=n, b=b, difficult=d) for n, b, d in objects)
    path.write_text(XML.format(filename=filename, path=xml_path_field or filename, w=w, h=h, objects=objs))


def test_labelimg_default_layout_xml_beside_image(tmp_path):
    write_pair(tmp_path, "a", [("cat", (1, 2, 30, 40))])
    write_pair(tmp_path, "b", [("dog", (5, 5, 20, 20)), ("cat", (0, 0, 64, 48))])
    ds = load_dataset(tmp_path)
    assert ds.class_names == ["cat", "dog"]  # collected, sorted
    assert len(ds) == 2
    np.testing.assert_allclose(ds.records[1].boxes, [[5, 5, 20, 20], [0, 0, 64, 48]])
    assert list(ds.records[1].labels) == [1, 0]


def test_images_and_annotations_layout(tmp_path):
    write_pair(tmp_path / "annotations", "x", [("raccoon", (3, 4, 50, 40))], image_dir=tmp_path / "images")
    ds = load_dataset(tmp_path)
    assert len(ds) == 1 and ds.records[0].image_path.endswith("images/x.jpg")


def test_foreign_absolute_path_and_float_coords_and_difficult(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations").mkdir()
    write_image(tmp_path / "images" / "raccoon-1.jpg")
    raw_xml(tmp_path / "annotations" / "raccoon-1.xml", "raccoon-1.jpg",
            [("raccoon", (1.5, 2.25, 40.7, 30), 1), ("raccoon", (2, 2, 9, 9), 0)],
            xml_path_field="/Users/someone/Desktop/raccoon/images/raccoon-1.jpg")
    rec = load_dataset(tmp_path).records[0]
    np.testing.assert_allclose(rec.boxes[0], [1.5, 2.25, 40.7, 30])
    assert list(rec.difficult) == [True, False]


def test_match_by_xml_stem_when_filename_is_wrong(tmp_path):
    write_image(tmp_path / "photo7.jpg")
    raw_xml(tmp_path / "photo7.xml", "IMG_0001.JPG", [("a", (1, 1, 5, 5), 0)],
            xml_path_field="C:\\Users\\me\\IMG_0001.JPG")
    assert load_dataset(tmp_path).records[0].image_path.endswith("photo7.jpg")


def test_negatives_kept(tmp_path):
    write_pair(tmp_path, "empty", [])
    write_pair(tmp_path, "one", [("a", (1, 1, 9, 9))])
    ds = load_dataset(tmp_path)
    assert len(ds) == 2 and sum(len(r.boxes) == 0 for r in ds.records) == 1


def test_grayscale_rgba_png_become_rgb(tmp_path):
    gray = np.full((48, 64), 77, np.uint8)
    cv2.imwrite(str(tmp_path / "g.jpg"), gray)
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., 2] = 255  # red in BGRA
    rgba[..., 3] = 128
    cv2.imwrite(str(tmp_path / "p.png"), rgba)
    for stem, name in (("g", "g.jpg"), ("p", "p.png")):
        write_voc_xml(tmp_path / f"{stem}.xml", name, 64, 48, [("a", (1, 1, 9, 9))])
    ds = load_dataset(tmp_path)
    images = {r.image_path[-5:]: read_rgb(r.image_path) for r in ds.records}
    assert images["g.jpg"].shape == (48, 64, 3) and abs(int(images["g.jpg"][0, 0, 0]) - 77) <= 2
    assert images["p.png"].shape == (48, 64, 3) and tuple(images["p.png"][0, 0]) == (255, 0, 0)


def _exif_rotated_jpeg(path, orientation=6):
    """Stored 64x48 pixels, EXIF says: display rotated by 90 degrees (48x64)."""
    img = Image.new("RGB", (64, 48), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 16, 8))  # white patch top-left of stored pixels
    exif = Image.Exif()
    exif[0x0112] = orientation
    img.save(path, exif=exif.tobytes())


def test_exif_orientation_followed_when_xml_size_is_the_rotated_one(tmp_path):
    _exif_rotated_jpeg(tmp_path / "r.jpg")
    write_voc_xml(tmp_path / "r.xml", "r.jpg", 48, 64, [("a", (30, 0, 48, 20))])
    rec = load_dataset(tmp_path).records[0]
    assert (rec.width, rec.height, rec.apply_exif) == (48, 64, True)
    img = read_rgb(rec.image_path, rec.apply_exif)
    assert img.shape == (64, 48, 3)
    assert img[2:14, 42:46].mean() > 200  # orientation 6 moves the patch to the top-right


def test_exif_ignored_when_labelled_on_stored_pixels(tmp_path):
    _exif_rotated_jpeg(tmp_path / "r.jpg")
    write_voc_xml(tmp_path / "r.xml", "r.jpg", 64, 48, [("a", (0, 0, 60, 40))])  # 60 > 48: stored frame
    rec = load_dataset(tmp_path).records[0]
    assert (rec.width, rec.height, rec.apply_exif) == (64, 48, False)
    assert read_rgb(rec.image_path, rec.apply_exif).shape == (48, 64, 3)


@pytest.mark.parametrize("case, message, drops", [
    ("malformed", r"bad\.xml:4: malformed XML: mismatched tag", "image"),
    ("missing_image", r"bad\.xml: image not found: <filename> 'ghost\.jpg'", "image"),
    ("outside", r"bad\.xml:\d+: object 'a' box \(10, 10, 99, 20\) lies outside the 64x48 image", "box"),
    ("inverted", r"bad\.xml:\d+: object 'a' box \(30, 10, 20, 20\): xmax < xmin or ymax < ymin", "box"),
    ("unknown_class", r"bad\.xml:\d+: unknown class 'zebra' \(data\.classes: a, b\)", "box"),
    ("not_a_number", r"bad\.xml:\d+: <xmin> is not a number: 'left'", "box"),
    ("nan", r"bad\.xml:\d+: <ymin> is not a number: 'nan'", "box"),
])
def test_bad_input_is_a_clear_error_naming_file_and_line(tmp_path, case, message, drops):
    write_pair(tmp_path, "good", [("a", (1, 1, 9, 9))])
    write_image(tmp_path / "bad.jpg")
    bad = tmp_path / "bad.xml"
    good_box = ("b", (2, 2, 20, 20), 0)  # a good box beside the bad one: kept when only the box is bad
    if case == "malformed":
        bad.write_text("<annotation>\n<filename>bad.jpg</filename>\n<object><name>a</name>\n</annotation>\n")
    elif case == "missing_image":
        raw_xml(bad, "ghost.jpg", [("a", (1, 1, 5, 5), 0)])
        (tmp_path / "bad.jpg").unlink()
    else:
        box = {"outside": (10, 10, 99, 20), "inverted": (30, 10, 20, 20), "unknown_class": (1, 1, 5, 5),
               "not_a_number": ("left", 1, 5, 5), "nan": (1, "nan", 5, 5)}[case]
        raw_xml(bad, "bad.jpg", [("zebra" if case == "unknown_class" else "a", box, 0), good_box])
    before = tree_digest(tmp_path)
    with pytest.raises(DataError, match=message) as err:
        load_dataset(tmp_path, classes=["a", "b"])
    assert len(err.value.problems) == 1
    assert "data.on_error: skip" in str(err.value)
    # skip leaves out the bad box (the image keeps its good boxes) or the bad image, and says so
    ds = load_dataset(tmp_path, classes=["a", "b"], on_error="skip")
    assert len(ds.problems) == 1 and "bad.xml" in str(ds.problems[0])
    if drops == "image":
        assert [r.xml_path for r in ds.records] == [str(tmp_path / "good.xml")]
        assert (ds.images_dropped, ds.boxes_dropped) == (1, 0)
    else:
        bad_record = next(r for r in ds.records if r.xml_path.endswith("bad.xml"))
        assert bad_record.boxes.tolist() == [[2, 2, 20, 20]] and bad_record.labels.tolist() == [1]
        assert (ds.images_dropped, ds.boxes_dropped) == (0, 1)
        assert "left out: 1 boxes" in ds.summary()
    assert tree_digest(tmp_path) == before  # the user's files are never modified


def test_all_problems_reported_at_once(tmp_path):
    raw_xml(tmp_path / "one.xml", "nope1.jpg", [])
    raw_xml(tmp_path / "two.xml", "nope2.jpg", [])
    with pytest.raises(DataError, match="3 problems") as err:  # both XML, and that nothing could be paired
        load_dataset(tmp_path)
    assert {p.file for p in err.value.problems} == {str(tmp_path), str(tmp_path / "one.xml"), str(tmp_path / "two.xml")}


def test_image_without_xml_is_reported_not_silently_dropped(tmp_path):
    write_pair(tmp_path, "a", [("a", (1, 1, 9, 9))])
    write_image(tmp_path / "unlabelled.jpg")
    ds = load_dataset(tmp_path)
    assert len(ds) == 1 and "unlabelled.jpg" in str(ds.warnings[0])


def test_file_list_and_missing_listed_image(tmp_path):
    write_pair(tmp_path / "d", "a", [("a", (1, 1, 9, 9))])
    write_pair(tmp_path / "d", "b", [("a", (2, 2, 9, 9))])
    lst = tmp_path / "train.txt"
    lst.write_text("d/a.jpg\n# comment\n\nd/b.jpg\n")
    assert len(load_dataset(lst)) == 2
    lst.write_text("d/a.jpg\nd/zzz.jpg\n")
    with pytest.raises(DataError, match=r"train\.txt:2: listed file .*zzz\.jpg does not exist"):
        load_dataset(lst)


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no LabelImg / Pascal VOC XML found: searched"):
        load_dataset(tmp_path)


def test_sample_loader_letterboxes_and_pads(tmp_path):
    write_pair(tmp_path, "a", [("a", (8, 4, 40, 44)), ("b", (0, 0, 10, 10))], w=64, h=48)
    ds = load_dataset(tmp_path)
    image, boxes, classes = SampleLoader(ds, input_size=32, max_boxes=4)(0)
    assert image.shape == (32, 32, 3) and image.dtype == np.uint8
    np.testing.assert_allclose(boxes[:2], [[4, 2, 20, 22], [0, 0, 5, 5]])  # scale 0.5
    assert (boxes[2:] == -1).all() and list(classes) == [0, 1, -1, -1]
    assert image[30, 5].tolist() == [114, 114, 114]  # padding below the 24 px high picture


def test_demo_data_loads(demo_data):
    ds = load_dataset(demo_data)
    assert ds.class_names == ["heart", "star"] and len(ds) == 48
    assert sum(len(r.boxes) for r in ds.records) > 48
