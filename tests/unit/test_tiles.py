"""Tiled (sliced) inference (runtime/tiles.py): the grid covers the frame, and an object a tile seam cuts is
found once, at its place. The model is a stand-in that "detects" bright squares by thresholding what it
sees at its input size (connected components), so the tests check the tiling and the merge, not training."""
import importlib
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kerasdet.cli import main as kerasdet_main
from kerasdet.core.detections import Detections
from kerasdet.core.letterbox import letterbox
from kerasdet.core.postprocess import NMS_SETTINGS
from kerasdet.data.voc_xml import write_voc_xml
from kerasdet.runtime.tiles import Tiled, merge_tile_detections, tile_grid

INPUT = 320  # the stand-in model's input side
FRAME_HW = (720, 1280)


class SquareFinder:
    """A predictor's interface (`card`, `detect`, `predict`): bright squares found in the letterboxed image,
    as a model would see them; under 4x4 pixels at its input a square is missed, as a stride-8 head misses it."""

    def __init__(self, min_side: int = 4):
        self.min_side, self.calls = min_side, 0
        self.class_names = ["square"]
        self.card = SimpleNamespace(class_names=self.class_names, input_size=INPUT, nms=dict(NMS_SETTINGS))
        self.input_size = INPUT

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        seen, scale = letterbox(image, INPUT)
        n, _, stats, _ = cv2.connectedComponentsWithStats((seen[..., 0] > 160).astype(np.uint8))
        x, y, w, h = (stats[1:, k] for k in range(4))
        big = (w >= self.min_side) & (h >= self.min_side)
        boxes = np.stack([x, y, x + w, y + h], 1)[big] / scale
        hi, wi = image.shape[:2]
        boxes = np.clip(boxes, 0, [wi, hi, wi, hi]).astype(np.float32)
        return Detections(boxes, np.full(len(boxes), 0.9, np.float32), np.zeros(len(boxes), np.int32))

    def predict(self, images, batch_size=1):
        return [self.detect(im) for im in images]


def frame_with(squares, hw=FRAME_HW):
    frame = np.full((*hw, 3), 40, np.uint8)
    for x0, y0, x1, y1 in squares:
        frame[y0:y1, x0:x1] = 230
    return frame


# 320 tiles overlapping by 0.2 on 1280x720: columns start at 0, 256, 512, 768, 960; rows at 0, 256, 400
SEAM = (310, 100, 330, 120)  # across x=320, where the first column ends (whole in the second)
CORNER = (566, 310, 586, 330)  # across x=576 and y=320: the end of a column and of a row
SMALL = [(40, 40, 56, 56), (1200, 650, 1216, 666), (700, 500, 716, 516)]  # 16 px: 4 px once 1280 is shrunk to 320


def boxes_of(d: Detections) -> list:
    return sorted(np.round(d.boxes).astype(int).tolist())


@pytest.mark.parametrize("full_frame", [True, False])
def test_a_square_cut_by_a_tile_seam_is_found_once_at_its_place(full_frame):
    squares = [SEAM, CORNER, *SMALL]
    d = Tiled(SquareFinder(), (INPUT, INPUT), 0.2, full_frame=full_frame).detect(frame_with(squares))
    assert boxes_of(d) == sorted(map(list, squares))
    assert d.boxes.dtype == np.float32 and d.classes.tolist() == [0] * len(squares)


def test_tiles_find_the_small_squares_the_whole_frame_misses():
    finder = SquareFinder()
    frame = frame_with([(40, 40, 52, 52), (900, 600, 912, 612)])  # 12 px: 3 px at the input, missed
    assert len(finder.detect(frame).boxes) == 0
    tiled = Tiled(finder, (INPUT, INPUT), 0.2)
    assert boxes_of(tiled.detect(frame)) == [[40, 40, 52, 52], [900, 600, 912, 612]]
    assert finder.calls == 1 + 15 + 1  # the untiled call, 5 x 3 tiles, the whole frame


def test_an_object_larger_than_the_overlap_is_one_box_with_or_without_the_whole_frame():
    big = (200, 60, 420, 300)  # cut in both of the first two columns (its width > their 64 px overlap)
    for full_frame in (True, False):
        d = Tiled(SquareFinder(), (INPUT, INPUT), 0.2, full_frame=full_frame).detect(frame_with([big]))
        assert boxes_of(d) == [list(big)]


def test_a_frame_no_larger_than_a_tile_is_one_pass():
    finder = SquareFinder()
    frame = frame_with([(10, 10, 40, 40)], hw=(240, 320))
    assert boxes_of(Tiled(finder, (INPUT, INPUT)).detect(frame)) == [[10, 10, 40, 40]] and finder.calls == 1


def test_merge_keeps_two_objects_of_one_tile_and_two_classes_apart():
    tile_a, tile_b = (0, 0, 100, 100), (80, 0, 180, 100)
    one_tile = Detections(np.array([[10, 10, 50, 50], [30, 30, 70, 70]], np.float32), np.array([0.9, 0.8]),
                          np.array([0, 0]))
    other_class = Detections(np.array([[-60, 10, -20, 50]], np.float32), np.array([0.7]), np.array([1]))
    d = merge_tile_detections([one_tile, other_class], [tile_a, tile_b], (100, 180))
    assert boxes_of(d) == [[10, 10, 50, 50], [20, 10, 60, 50], [30, 30, 70, 70]]
    assert d.scores.tolist() == pytest.approx([0.9, 0.8, 0.7])  # best first


def test_merge_takes_the_whole_box_over_a_cut_one_even_when_the_cut_one_scores_higher():
    tile_a, tile_b = (0, 0, 100, 100), (80, 0, 180, 100)
    cut = Detections(np.array([[85, 20, 100, 40]], np.float32), np.array([0.95]), np.array([0]))
    whole = Detections(np.array([[5, 20, 30, 40]], np.float32), np.array([0.6]), np.array([0]))  # 85..110
    d = merge_tile_detections([cut, whole], [tile_a, tile_b], (100, 180))
    assert boxes_of(d) == [[85, 20, 110, 40]] and d.scores.tolist() == pytest.approx([0.95])


def test_merge_of_nothing_is_empty():
    empty = Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))
    d = merge_tile_detections([empty, empty], [(0, 0, 10, 10), (5, 0, 15, 10)], (10, 15))
    assert d.boxes.shape == (0, 4) and len(d.scores) == len(d.classes) == 0


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 4000), st.integers(1, 4000), st.integers(32, 1000), st.integers(32, 1000),
       st.floats(0, 0.75))
def test_the_grid_covers_the_frame_with_equal_tiles_inside_it(height, width, tile_h, tile_w, overlap):
    grid = tile_grid((height, width), (tile_h, tile_w), overlap)
    assert len(set(grid)) == len(grid)
    for x0, y0, x1, y1 in grid:
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert (x1 - x0, y1 - y0) == (min(tile_w, width), min(tile_h, height))  # shifted inward, never padded
    for side, tile, spans in ((width, tile_w, {(g[0], g[2]) for g in grid}),
                              (height, tile_h, {(g[1], g[3]) for g in grid})):
        spans = sorted(spans)
        assert spans[0][0] == 0 and spans[-1][1] == side  # from edge to edge ...
        step = max(1, round(tile * (1 - overlap)))
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert 0 < b0 - a0 <= step and b0 <= a1  # ... without a gap, neighbours at most a step apart
    assert len(grid) == len({(g[0], g[2]) for g in grid}) * len({(g[1], g[3]) for g in grid})


@pytest.mark.parametrize("tile, overlap, says", [((320, 320), 1.0, "--tile-overlap"),
                                                 ((320, 320), -0.1, "--tile-overlap"),
                                                 ((0, 320), 0.2, "--tile WIDTHxHEIGHT")])
def test_a_tile_that_cannot_work_is_one_sentence(tile, overlap, says):
    with pytest.raises(ValueError, match=says):
        Tiled(SquareFinder(), tile, overlap)


def test_detect_and_evaluate_take_tile(tmp_path, monkeypatch, capsys):
    """`--tile` on detect and evaluate reaches the predictor (the stand-in, patched where each verb loads it):
    evaluated untiled the small squares are missed, tiled they are all found."""
    detect_module, evaluate_module = (importlib.import_module(f"kerasdet.{m}") for m in ("infer.detect", "eval.evaluate"))
    monkeypatch.setattr(detect_module, "load_predictor", lambda *a, **k: SquareFinder())
    monkeypatch.setattr(evaluate_module, "load_predictor", lambda *a, **k: SquareFinder())
    data = tmp_path / "frames"
    data.mkdir()
    squares = [(40, 40, 52, 52), SEAM, (900, 600, 912, 612)]
    for k in range(2):
        cv2.imwrite(str(data / f"f{k}.png"), frame_with(squares))
        write_voc_xml(data / f"f{k}.xml", f"f{k}.png", 1280, 720, [("square", b) for b in squares])
    model = tmp_path / "m.tflite"
    assert kerasdet_main(["detect", str(model), str(data), "--tile", "320x320", "--csv", str(tmp_path / "d.csv")]) == 0
    assert "2 images, 6 detections" in capsys.readouterr().out
    scores = {}
    for tile in ([], ["--tile", "320x320", "--tile-overlap", "0.25"]):
        assert kerasdet_main(["evaluate", str(model), str(data), "--json", *tile]) == 0
        scores[bool(tile)] = float(capsys.readouterr().out.split('"map50": ')[1].split(",")[0])
    assert scores[True] > 0.99 > 0.5 > scores[False]


def test_cam_takes_tile(tmp_path, monkeypatch, capsys):
    import kerasdet.runtime.load as load_module
    finder = SquareFinder()
    monkeypatch.setattr(load_module, "load_predictor", lambda *a, **k: finder)
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), frame_with([(40, 40, 52, 52), SEAM]))
    args = ["cam", str(tmp_path / "m.tflite"), str(image), "--headless", "--tile", "320x320", "--tile-overlap", "0.3"]
    assert kerasdet_main(args) == 0
    assert finder.calls == 6 * 3 + 1 and "1 frames" in capsys.readouterr().out  # 320 at 0.3: 6 columns, 3 rows
