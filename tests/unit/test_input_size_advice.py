"""Input-size advice (issue 42): `kerasdet stats` reports the boxes' sizes as the model sees them at
model.input_size, and training starts with one sentence when many would be under what a stride-8 head
localises well. Records are made in memory (no image is read), so each test is quick."""
import json

import numpy as np
import pytest

from kerasdet.cli import main as kerasdet_main
from kerasdet.core.input_size import InputSize
from kerasdet.core.records import ImageRecord
from kerasdet.data.dataset import DetectionDataset
from kerasdet.data.stats import seen_sides, seen_size_stats
from kerasdet.train.recipe import SMALL_SHARE, small_object_advice

from conftest import write_pair


def dataset(boxes_by_image, size=(1280, 720), classes=("car", "person")) -> DetectionDataset:
    """Images of `size` (width, height), each with its [(class index, (x0, y0, x1, y1)), ...]."""
    records = [ImageRecord(f"im{k}.jpg", f"im{k}.xml", *size,
                           np.array([b for _, b in boxes], np.float32).reshape(-1, 4),
                           np.array([c for c, _ in boxes], np.int32), np.zeros(len(boxes), bool))
               for k, boxes in enumerate(boxes_by_image)]
    return DetectionDataset("mem", list(classes), records)


def test_sides_are_measured_after_the_letterbox_scale():
    ds = dataset([[(0, (0, 0, 40, 100)), (1, (10, 10, 110, 30))]])  # 1280x720 into 320x320: scale 1/4
    sides, labels = seen_sides(ds, (320, 320))
    assert sides.tolist() == [10.0, 5.0] and labels.tolist() == [0, 1]
    assert seen_sides(ds, (240, 320))[0].tolist() == [10.0, 5.0]  # 320x240: still the width decides
    assert seen_sides(ds, (360, 640))[0].tolist() == [20.0, 10.0]  # 640x360: scale 1/2
    portrait = dataset([[(0, (0, 0, 40, 100))]], size=(720, 1280))
    assert seen_sides(portrait, (320, 320))[0].tolist() == [10.0]  # its height 1280 -> 320


def test_stats_of_the_sizes_overall_and_per_class():
    ds = dataset([[(0, (0, 0, 80, 80))] * 10 + [(1, (0, 0, 16, 40))] * 10])
    seen = seen_size_stats(ds, (320, 320))
    assert seen["input_size"] == "320x320" and (seen["min"], seen["median"]) == (4.0, 12.0)
    assert seen["per_class"] == {"car": {"min": 20.0, "p5": 20.0, "median": 20.0, "boxes": 10},
                                 "person": {"min": 4.0, "p5": 4.0, "median": 4.0, "boxes": 10}}
    assert seen_size_stats(dataset([[]]), (320, 320)) == {}


def test_training_warns_when_a_sizable_share_is_under_eight_pixels_at_the_input():
    small_people = [(0, (0, 0, 200, 200))] * 8 + [(1, (0, 0, 20, 48))] * 2  # 20 px -> 5 px at 320
    ds = dataset([small_people] * 5)
    advice = small_object_advice(ds, InputSize.of(320))
    assert advice.count(". ") == 0 and advice.endswith(".")  # one sentence
    assert "20% of the training boxes are under 8 px at the 320x320 input" in advice
    assert "class person has a median of 5 px" in advice
    # the larger input brings the smallest SMALL_SHARE (5 px) to 8: 320 * 8 / 5 = 512
    assert "model.input_size to about 512x512 (512 in the config)" in advice and "--tile 320x320" in advice
    assert small_object_advice(ds, InputSize.of(512)) == ""  # 8 px at 512: enough
    assert small_object_advice(ds, InputSize.of([320, 192])).startswith("20% ")  # 1280x720 in 320x192: 1/4 too


@pytest.mark.parametrize("small, warned", [(0, False), (1, False), (2, True)])
def test_a_few_small_boxes_are_no_reason_to_warn(small, warned):
    """Under SMALL_SHARE of the boxes (here 10 boxes, a share of 0.1) stays quiet."""
    assert SMALL_SHARE == 0.1
    boxes = [(0, (0, 0, 200, 200))] * (20 - small) + [(1, (0, 0, 20, 48))] * small
    assert bool(small_object_advice(dataset([boxes]), InputSize.of(320))) == (small / 20 >= SMALL_SHARE) == warned


def test_no_box_no_advice():
    assert small_object_advice(dataset([[]]), InputSize.of(320)) == ""


def test_stats_reports_the_sizes_at_the_input(tmp_path, capsys):
    write_pair(tmp_path, "a", [("car", (0, 0, 640, 360)), ("person", (10, 10, 26, 50))], w=1280, h=720)
    assert kerasdet_main(["stats", str(tmp_path)]) == 0  # the default model.input_size, 320
    assert ("box shorter side at the 320x320 input (model.input_size): min 4, 5th percentile 8.3, median 47 px; "
            "smallest class person (median 4 px)") in capsys.readouterr().out
    assert kerasdet_main(["stats", str(tmp_path), "--input-size", "640x360", "--json"]) == 0
    seen = json.loads(capsys.readouterr().out)["box_side_at_input_px"]
    assert seen["input_size"] == "640x360" and seen["per_class"]["person"]["median"] == 8.0
    with pytest.raises(SystemExit):  # argparse's own exit 2, with the sentence
        kerasdet_main(["stats", str(tmp_path), "--input-size", "640x"])
    assert "write WIDTHxHEIGHT, e.g. 320x240, or one side for a square" in capsys.readouterr().err


def test_training_says_it_at_the_start(tmp_path, monkeypatch, capsys):
    """The sentence comes before the model is built (setup is stopped here: no training needed to see it)."""
    import importlib

    from kerasdet.config import Config
    fit_module = importlib.import_module("kerasdet.train.fit")  # the module: kerasdet.train.fit is the function

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    for k in range(3):
        write_pair(tmp_path / "data", f"f{k}", [("car", (0, 0, 400, 300)), ("person", (10, 10, 26, 50))],
                   w=1280, h=720)
    monkeypatch.setattr(fit_module, "setup", stop)
    cfg = Config()
    cfg.data.train, cfg.model.weights = str(tmp_path / "data"), "none"
    with pytest.raises(Stop):
        fit_module.fit(cfg, out=tmp_path / "run")
    assert "50% of the training boxes are under 8 px at the 320x320 input" in capsys.readouterr().out


def test_auto_input_size_grows_for_small_objects_up_to_640():
    from kerasdet.config import load_config
    from kerasdet.train.recipe import auto_input_size, sized_schedule
    large = dataset([[(0, (0, 0, 200, 200))] * 10] * 3)
    assert auto_input_size(large)[0] == InputSize.of(320)
    small_people = dataset([[(0, (0, 0, 200, 200))] * 8 + [(1, (0, 0, 20, 48))] * 2] * 5)  # 5 px at 320
    assert auto_input_size(small_people)[0] == InputSize.of(512)  # 8 px at 512, as the advice says
    tiny_people = dataset([[(0, (0, 0, 200, 200))] * 8 + [(1, (0, 0, 8, 48))] * 2] * 5)  # 2 px at 320: 1280 wanted
    size, why = auto_input_size(tiny_people)
    assert size == InputSize.of(640) and "1280x1280 would bring them there, capped at 640" in why

    cfg, plan = sized_schedule(load_config(None, ["model.input_size=auto"], check_paths=False), small_people)
    assert cfg.model.input_size == 512 and "model.input_size auto: 512x512 (10% or more of the boxes" in plan
    cfg, plan = sized_schedule(load_config(None, ["model.input_size=[320, 192]"], check_paths=False), small_people)
    assert cfg.model.input_size == [320, 192] and "input_size" not in plan  # a size written is kept
