"""`kerasdet convert` loses nothing it can keep: random datasets go VOC -> each format -> VOC and come
back exactly (LabelImg XML, CSV) or within the rounding README.md states (COCO, YOLO txt, Cloud
Annotations: each pixel coordinate within 1e-6 px, exactly when it has at most 6 decimals), with
`difficult` / `truncated` kept where the format has room for them; and the user's files never change."""
import hashlib
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from kerasdet.cli import main as kerasdet_main
from kerasdet.data.formats import convert
from kerasdet.data.formats.annotated import PIXEL_DECIMALS
from kerasdet.data.formats.voc import read_voc
from kerasdet.data.voc_xml import write_voc_xml

TOLERANCE = 10.0 ** -PIXEL_DECIMALS  # what README.md's convert paragraph promises for the fraction formats
FLAGS_KEPT = {"voc": True, "csv": False, "coco": True, "cloud": True, "yolo": False}
OUTPUTS = {"voc": "xml", "csv": "boxes.csv", "coco": "coco.json", "cloud": "_annotations.json", "yolo": "yolo"}
EXACT = ("voc", "csv")  # the formats that hold pixel coordinates as written

# names: letters beyond ASCII, XML's special characters, a space inside a class name
NAME_LETTERS = "abcXYZéüßøΩ日本語&'_-"


def digests(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) and the hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_sentence_naming(message: str, path: Path) -> bool:
    """One line, one sentence (no '. ' followed by a capital), naming `path`."""
    return "\n" not in message.strip() and not re.search(r"[.!?]\s+[A-Z]", message) and str(path) in message


# --- generated datasets -------------------------------------------------------------------------------

def coordinate(limit: int) -> st.SearchStrategy[float]:
    """Whole pixels, halves, thousandths and any float in [0, limit], the edges often."""
    return st.one_of(st.sampled_from([0.0, float(limit)]), st.integers(0, limit).map(float),
                     st.integers(0, 2 * limit).map(lambda k: k / 2),
                     st.integers(0, 1000 * limit).map(lambda k: k / 1000),
                     st.floats(0, limit, allow_nan=False, allow_infinity=False))


def span(limit: int) -> st.SearchStrategy[tuple[float, float]]:
    """Two corners at least 0.01 px apart (a box with area)."""
    return st.tuples(coordinate(limit), coordinate(limit)).filter(lambda p: abs(p[0] - p[1]) >= 0.01).map(sorted)


@st.composite
def datasets(draw):
    """[(file name, width, height, [(class, box, difficult, truncated)])]: 1-4 tiny images, some without
    boxes, unicode file and class names (distinct ignoring case, as the loader wants them)."""
    word = st.text(NAME_LETTERS, min_size=1, max_size=5)
    classes = draw(st.lists(st.builds(lambda a, b: f"{a} {b}" if b else a, word, st.one_of(st.just(""), word)),
                            min_size=1, max_size=3, unique_by=str.lower))
    images = []
    for i in range(draw(st.integers(1, 4))):
        width, height = draw(st.integers(1, 24)), draw(st.integers(1, 24))
        objects = []
        for _ in range(draw(st.integers(0, 3))):
            (x1, x2), (y1, y2) = draw(span(width)), draw(span(height))
            objects.append((draw(st.sampled_from(classes)), (x1, y1, x2, y2), draw(st.booleans()), draw(st.booleans())))
        images.append((f"{i}_{draw(word)}.png", width, height, objects))
    return images


def write_dataset(folder: Path, images) -> None:
    """PNG + LabelImg XML pairs, coordinates as given (the user's files)."""
    folder.mkdir()
    for name, width, height, objects in images:
        Image.new("RGB", (width, height), (40, 90, 200)).save(folder / name)
        write_voc_xml(folder / (Path(name).stem + ".xml"), name, width, height, objects, exact=True)


def read_back(folder: Path) -> dict:
    """{image name: (width, height, [(class, box, difficult, truncated)])} of a LabelImg folder."""
    items, _ = read_voc(folder)
    return {item.image.name: (item.width, item.height, [(o.name, o.box, o.difficult, o.truncated)
                                                       for o in item.labelled()]) for item in items}


def assert_same_box(got, want, exact: bool) -> None:
    for a, b in zip(got, want):
        if exact or round(b, PIXEL_DECIMALS) == b:  # up to 6 decimals: exactly, in every format
            assert a == b, (got, want)
        else:
            assert abs(a - b) <= TOLERANCE, (got, want)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(datasets())
# float arithmetic the readers must undo: 0.035 + (0.296 - 0.035) is 0.29600000000000004 (COCO's x + width),
# 0.007 / 3 * 3 is 0.006999999999999999 (Cloud's fractions); an image with boxes at both edges
@example([("0_a.png", 3, 2, [("a b", (0.007, 0.035, 3, 0.296), True, False)]), ("1_日本.png", 1, 1, [])])
def test_every_format_round_trips_through_labelimg_xml(images):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        write_dataset(src, images)
        before = digests(src)
        for fmt, name in OUTPUTS.items():
            out, back = Path(tmp) / fmt / name, Path(tmp) / fmt / "back"
            convert(src, out, to=fmt)
            # the CSV has one row per box: an image without boxes is not in it (the summary says so)
            want = {n: (w, h, objects) for n, w, h, objects in images if objects or fmt != "csv"}
            if not want:
                assert out.read_text().splitlines() == ["filename,width,height,class,xmin,ymin,xmax,ymax"]
                continue
            convert(out, back, images=src)
            got = read_back(back)
            assert sorted(got) == sorted(want), fmt
            for image, (width, height, objects) in want.items():
                assert got[image][:2] == (width, height)
                assert len(got[image][2]) == len(objects)
                for (name, box, difficult, truncated), (g_name, g_box, g_difficult, g_truncated) in \
                        zip(objects, got[image][2]):
                    assert g_name == name
                    assert_same_box(g_box, box, fmt in EXACT)
                    kept = FLAGS_KEPT[fmt]
                    assert (g_difficult, g_truncated) == ((difficult, truncated) if kept else (False, False)), fmt
        assert digests(src) == before


# --- the reported bugs, each on a folder of the user's ---------------------------------------------

USER_IMAGES = [("a.png", 40, 30, [("cat", (1.25, 2, 20.5, 29.75), True, False), ("dog", (0, 0, 40, 30), False, True)]),
               ("b.png", 40, 30, [("cat", (3, 4, 10.333, 11), True, True)]),
               ("c.png", 40, 30, [])]


@pytest.fixture
def user_voc(tmp_path) -> Path:
    """A LabelImg folder of the user's: fractional coordinates, difficult and truncated boxes, a negative."""
    write_dataset(tmp_path / "h7", USER_IMAGES)
    return tmp_path / "h7"


@pytest.fixture
def user_yolo(tmp_path, user_voc) -> Path:
    """A YOLO folder of the user's: labels, class names and images together."""
    convert(user_voc, tmp_path / "made", to="yolo")
    folder = tmp_path / "h8"
    folder.mkdir()
    for p in (tmp_path / "made").iterdir():
        if not p.name.startswith("."):
            (folder / p.name).write_bytes(p.read_bytes())
    for name, *_ in USER_IMAGES:
        (folder / name).write_bytes((user_voc / name).read_bytes())
    return folder


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = kerasdet_main(["convert", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_bug1_converting_a_folder_into_itself_is_refused(user_voc, user_yolo, capsys):
    for folder, extra in ((user_voc, ()), (user_yolo, ("--to", "yolo")), (user_yolo, ())):
        before = digests(folder)
        code, out, err = run_cli(capsys, folder, folder, *extra)
        assert code == 2 and out == ""
        message = err.removeprefix("kerasdet convert: error: ")
        assert one_sentence_naming(message, folder) and "is the folder being converted" in message, message
        assert digests(folder) == before


def test_bug1_a_folder_or_file_of_the_users_is_refused(user_voc, user_yolo, tmp_path, capsys):
    before = digests(user_voc), digests(user_yolo)
    code, _, err = run_cli(capsys, user_voc, user_yolo, "--to", "yolo")  # into another folder of the user's
    assert code == 2 and "already holds files kerasdet did not write" in err
    assert one_sentence_naming(err.removeprefix("kerasdet convert: error: "), user_yolo)
    code, _, err = run_cli(capsys, user_yolo, user_voc)
    assert code == 2 and one_sentence_naming(err.removeprefix("kerasdet convert: error: "), user_voc)
    for existing in (user_voc / "a.xml", user_voc / "a.png", user_yolo / "classes.txt"):  # existing files
        for out in ([existing], [existing, "--to", "coco"]):
            code, _, err = run_cli(capsys, user_voc, *out)
            assert code == 2 and one_sentence_naming(err.removeprefix("kerasdet convert: error: "), existing), err
    (tmp_path / "mine.csv").write_text("my notes\n")
    code, _, err = run_cli(capsys, user_voc, tmp_path / "mine.csv")
    assert code == 2 and "already exists: give a new name" in err
    assert (tmp_path / "mine.csv").read_text() == "my notes\n"
    assert (digests(user_voc), digests(user_yolo)) == before


def test_bug1_voc_to_voc_is_exact_and_a_rerun_replaces_only_its_own_files(user_voc, tmp_path, capsys):
    before = digests(user_voc)
    for _ in range(2):  # the second run may replace what the first wrote: that folder is kerasdet's
        assert run_cli(capsys, user_voc, tmp_path / "xml")[0] == 0
    assert read_back(tmp_path / "xml") == {n: (w, h, o) for n, w, h, o in USER_IMAGES}
    assert "<xmin>1.25</xmin>" in (tmp_path / "xml" / "a.xml").read_text()
    assert "<ymin>2</ymin>" in (tmp_path / "xml" / "a.xml").read_text()  # whole pixels stay whole
    assert digests(user_voc) == before


def test_bug2_flags_survive_where_the_format_has_room_and_the_summary_names_the_rest(user_voc, tmp_path, capsys):
    before = digests(user_voc)
    code, out, _ = run_cli(capsys, user_voc, tmp_path / "yolo", "--to", "yolo")
    assert code == 0 and out == (f"3 images, 3 boxes: voc {user_voc} -> yolo {tmp_path / 'yolo'}; YOLO txt has no "
                                 "field for difficult or truncated: 2 difficult and 2 truncated boxes written as "
                                 "ordinary boxes")
    for name in ("coco.json", "_annotations.json"):
        code, out, _ = run_cli(capsys, user_voc, tmp_path / name)
        assert code == 0 and "no field" not in out
        assert run_cli(capsys, tmp_path / name, tmp_path / f"{name}.back", "--images", user_voc)[0] == 0
        assert read_back(tmp_path / f"{name}.back") == {n: (w, h, o) for n, w, h, o in USER_IMAGES}
    assert '"difficult": 1' in (tmp_path / "coco.json").read_text()
    assert digests(user_voc) == before


def test_bug3_the_csv_names_the_images_it_cannot_hold(user_voc, tmp_path, capsys):
    before = digests(user_voc)
    code, out, _ = run_cli(capsys, user_voc, tmp_path / "boxes.csv")
    assert code == 0 and out.endswith("; 1 image has no boxes: the CSV format has one row per box, so it is not in it")
    assert "the CSV format has no field for difficult or truncated: 2 difficult and 2 truncated boxes" in out
    rows = (tmp_path / "boxes.csv").read_text().splitlines()
    assert rows[1] == "a.png,40,30,cat,1.25,2,20.5,29.75" and len(rows) == 4
    assert digests(user_voc) == before


def test_bug3_an_output_file_in_a_missing_folder_is_made(user_voc, tmp_path, capsys):
    before = digests(user_voc)
    for name in ("new/sub/coco.json", "new/sub/_annotations.json", "new/sub/boxes.csv", "new/sub/lm.pbtxt",
                 "new/sub/classes.txt"):
        code, out, err = run_cli(capsys, user_voc, tmp_path / name)
        assert code == 0 and err == "" and (tmp_path / name).is_file(), err
    assert (tmp_path / "new/sub/classes.txt").read_text() == "cat\ndog\n"
    assert not list((tmp_path / "new/sub").glob("*.tmp*"))  # written through temporary names, none left
    assert digests(user_voc) == before
