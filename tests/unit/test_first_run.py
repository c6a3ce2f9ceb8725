"""The first run trains (issue 42): a problem with no decision behind it (a box of no area, one wholly
outside its image) is listed and left out by default; what needs a decision still stops with the list."""
import pytest

from kerasdet.cli import main as kerasdet_main
from kerasdet.config import Config
from kerasdet.data import DataError, load_dataset
from kerasdet.train.fit import _load_data
from kerasdet.train.run_folder import RunFolder

from conftest import tree_digest, write_pair


def good_set(root, n=6):
    for k in range(n):
        write_pair(root, f"good{k}", [("cat", (4, 4, 30, 30)), ("dog", (34, 10, 60, 40))])


@pytest.mark.parametrize("box, says", [((40, 20, 50, 20), "ymin == ymax, a box of no area"),
                                       ((12, 5, 12, 30), "xmin == xmax"),
                                       ((70, 10, 90, 20), "lies wholly outside the 64x48 image"),
                                       ((64, 10, 80, 20), "lies wholly outside")])  # touching the edge: nothing inside
def test_a_box_with_nothing_inside_is_listed_and_left_out_by_default(tmp_path, box, says):
    good_set(tmp_path)
    write_pair(tmp_path, "stray", [("cat", (4, 4, 30, 30)), ("cat", box)])
    before = tree_digest(tmp_path)
    ds = load_dataset(tmp_path)  # on_error="raise", the default
    assert len(ds) == 7 and ds.boxes == 13 and (ds.images_dropped, ds.boxes_dropped) == (0, 1)
    (problem,) = ds.problems
    assert problem.file.endswith("stray.xml") and problem.line and says in problem.message
    assert not problem.needs_decision
    assert f"stray.xml:{problem.line}: object 'cat'" in ds.problem_lines()[0]
    assert tree_digest(tmp_path) == before


@pytest.mark.parametrize("make, says", [
    (lambda root: write_pair(root, "typo", [("cta", (4, 4, 30, 30))]), "unknown class 'cta'"),
    (lambda root: write_pair(root, "swapped", [("cat", (30, 4, 4, 30))]), "corners swapped"),
    (lambda root: write_pair(root, "past", [("cat", (40, 4, 90, 30))]), "lies outside the 64x48 image"),
])
def test_what_needs_a_decision_still_stops_listing_every_problem(tmp_path, make, says):
    good_set(tmp_path)
    make(tmp_path)
    write_pair(tmp_path, "stray", [("cat", (40, 20, 50, 20))])
    with pytest.raises(DataError, match="data.on_error: skip") as err:
        load_dataset(tmp_path, classes=["cat", "dog"])
    first, second = err.value.problems  # the one to decide listed first, the stray click too
    assert says in first.message and first.needs_decision and not second.needs_decision
    ds = load_dataset(tmp_path, classes=["cat", "dog"], on_error="skip")
    assert len(ds.problems) == 2 and ds.boxes_dropped == 2


def test_a_case_variant_of_a_class_still_stops(tmp_path):
    good_set(tmp_path)
    write_pair(tmp_path, "case", [("Cat", (4, 4, 30, 30))])
    with pytest.raises(DataError, match="only in letter case"):
        load_dataset(tmp_path)


def test_training_starts_with_a_stray_click_listed(tmp_path, capsys):
    good_set(tmp_path / "data")
    write_pair(tmp_path / "data", "stray", [("cat", (4, 4, 30, 30)), ("dog", (40, 20, 50, 20))])
    cfg = Config()
    cfg.data.train = str(tmp_path / "data")
    run = RunFolder(tmp_path / "run").create()
    train_ds, _ = _load_data(cfg, run)
    out = capsys.readouterr().out
    assert "7 images, 13 boxes; left out: 1 boxes with problems" in out
    assert "stray.xml:" in out and "a box of no area" in out  # printed with file and line, not only in data.json
    assert "stray.xml" in (run / run.DATA).read_text()


def test_max_left_out_still_guards_what_is_left_out_by_default(tmp_path):
    """data.max_left_out keeps its meaning: a split losing a larger share of its boxes stops, now also for
    boxes left out without a decision (a broken export of all-empty boxes must not train quietly)."""
    write_pair(tmp_path / "data", "good", [("cat", (4, 4, 30, 30))])
    for k in range(3):
        write_pair(tmp_path / "data", f"broken{k}", [("cat", (4, 4, 4, 30))])
    cfg = Config()
    cfg.data.train = str(tmp_path / "data")
    with pytest.raises(DataError, match=r"lost 75% of the boxes .* data.max_left_out 0.25"):
        _load_data(cfg, RunFolder(tmp_path / "run").create())


def test_convert_still_writes_every_box_or_stops(tmp_path):
    good_set(tmp_path / "data")
    write_pair(tmp_path / "data", "stray", [("cat", (40, 20, 50, 20))])
    assert kerasdet_main(["convert", str(tmp_path / "data"), str(tmp_path / "labels.csv")]) == 2
    assert not (tmp_path / "labels.csv").exists()
