"""COCO metrics through pycocotools: exact on perfect predictions, the library's own figure otherwise."""
from pathlib import Path

import numpy as np
import pytest

from kerasdet.core.detections import Detections
from kerasdet.core.records import ImageRecord
from kerasdet.eval.metrics import coco_evaluate, confusion_matrix, image_mistakes


def record(boxes, labels, difficult=None):
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    return ImageRecord("x.jpg", "x.xml", 200, 100, boxes, np.array(labels, np.int32),
                       np.array(difficult or [False] * len(labels), bool))


def as_detections(r, shift=0.0):
    return Detections(r.boxes + np.array([shift, 0, shift, 0], np.float32), np.ones(len(r.boxes)), r.labels)


def test_ground_truth_as_predictions_scores_one():
    records = [record([[10, 10, 60, 50], [100, 20, 180, 90]], [0, 1]), record([[5, 5, 40, 40]], [1])]
    m = coco_evaluate(records, [as_detections(r) for r in records], ["a", "b"])
    assert m["map"] == pytest.approx(1.0) and m["map50"] == pytest.approx(1.0)
    assert m["per_class"]["a"]["ap"] == pytest.approx(1.0) and m["per_class"]["b"]["boxes"] == 2


def test_shifted_box_matches_iou_thresholds():
    # one 100x40 box shifted by 25 px: IoU = 75*40 / (125*40) = 0.6 -> a hit at IoU 0.50 and 0.55,
    # a miss from 0.65 on (0.60 is a tie that COCOeval counts as a hit): AP = 3/10
    records = [record([[50, 30, 150, 70]], [0])]
    m = coco_evaluate(records, [as_detections(records[0], shift=25)], ["a"])
    assert m["map50"] == pytest.approx(1.0)
    assert m["map75"] == pytest.approx(0.0)
    assert m["map"] == pytest.approx(0.3, abs=1e-6)
    # a 100x40 box is "medium" (32^2 < area < 96^2): no small or large boxes -> None (JSON null), not 0.0
    assert m["map_medium"] == pytest.approx(0.3, abs=1e-6) and m["map_small"] is None and m["map_large"] is None


def test_difficult_boxes_are_neither_rewarded_nor_punished():
    r = record([[10, 10, 60, 50], [100, 20, 180, 90]], [0, 0], difficult=[False, True])
    found_both = coco_evaluate([r], [as_detections(r)], ["a"])
    found_easy = coco_evaluate([r], [Detections(r.boxes[:1], np.ones(1), r.labels[:1])], ["a"])
    assert found_both["map"] == pytest.approx(1.0) and found_easy["map"] == pytest.approx(1.0)


def test_evaluate_rejects_bad_model_files(tmp_path, demo_data):
    from kerasdet.eval.evaluate import evaluate
    with pytest.raises(FileNotFoundError, match="no such model file"):
        evaluate(tmp_path / "nothing.keras", demo_data)
    (tmp_path / "broken.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="broken.keras: not a kerasdet model file"):
        evaluate(tmp_path / "broken.keras", demo_data)
    with pytest.raises(FileExistsError, match="broken.keras is a file, not a folder"):
        evaluate(tmp_path / "nothing.keras", demo_data, plots=tmp_path / "broken.keras")


def test_confusion_matrix_counts_hits_confusions_misses_and_false_detections():
    r = record([[10, 10, 60, 50], [100, 20, 180, 90], [5, 60, 40, 95]], [0, 1, 1])
    d = Detections(np.array([[11, 10, 60, 50], [100, 22, 178, 90], [150, 0, 199, 10], [5, 60, 40, 95]], np.float32),
                   np.array([0.9, 0.8, 0.7, 0.1]), np.array([0, 0, 1, 1]))
    m = confusion_matrix([r], [d], n_classes=2, score_threshold=0.25)
    # rows predicted (a, b, background), columns true (a, b, background)
    assert m.tolist() == [[1, 1, 0],   # a found; b taken for a
                          [0, 0, 1],   # b detected where nothing is
                          [0, 1, 0]]   # the third box (its detection scores 0.1) missed


def test_a_second_reading_of_one_box_counts_for_map_but_not_as_a_mistake():
    """The model reports a box it hesitates about once per class: mAP credits the right reading, and the
    confusion matrix and mistakes judge what an application shows, the best one."""
    r = record([[10, 10, 60, 50], [100, 20, 180, 90]], [0, 1])
    both = Detections(np.array([[10, 10, 60, 50], [100, 20, 180, 90], [100, 20, 180, 90]], np.float32),
                      np.array([0.9, 0.8, 0.4]), np.array([0, 0, 1]))  # b read as a (0.8) and as b (0.4)
    best_only = Detections(both.boxes[:2], both.scores[:2], both.classes[:2])
    assert coco_evaluate([r], [both], ["a", "b"])["map50"] > coco_evaluate([r], [best_only], ["a", "b"])["map50"]
    assert confusion_matrix([r], [both], 2).tolist() == confusion_matrix([r], [best_only], 2).tolist() == [
        [1, 1, 0], [0, 0, 0], [0, 0, 0]]
    assert [(m.kind, m.true_class, m.predicted_class) for m in image_mistakes(r, both)] == [("wrong class", 1, 0)]


def test_pr_curves_are_the_librarys_precision(tmp_path):
    records = [record([[10, 10, 60, 50]], [0]), record([[10, 10, 60, 50]], [0])]
    dets = [Detections(records[0].boxes, np.array([0.9]), records[0].labels),
            Detections(np.array([[120, 10, 190, 90]], np.float32), np.array([0.8]), np.array([0]))]
    m = coco_evaluate(records, dets, ["a"])
    curve = np.array(m["_pr_curves_50"]["a"])
    # half the boxes found, by the best-scoring detection: precision 1 up to recall 0.5, 0 after
    assert curve[:51] == pytest.approx(1.0) and curve[51:] == pytest.approx(0.0)
    assert m["map50"] == pytest.approx(curve.mean(), abs=1e-6)
    from kerasdet.eval.plots import plot_pr_curves
    plot_pr_curves(m, tmp_path / "pr.png")
    assert (tmp_path / "pr.png").stat().st_size > 1000


def test_image_mistakes_are_the_confusion_matrix_off_its_diagonal():
    r = record([[10, 10, 60, 50], [100, 20, 180, 90], [5, 60, 40, 95]], [0, 1, 1])
    d = Detections(np.array([[11, 10, 60, 50], [100, 22, 178, 90], [150, 0, 199, 10], [5, 60, 40, 95]], np.float32),
                   np.array([0.9, 0.8, 0.7, 0.1]), np.array([0, 0, 1, 1]))
    found = image_mistakes(r, d, score_threshold=0.25)
    assert [(m.kind, m.true_class, m.predicted_class) for m in found] == [
        ("wrong class", 1, 0), ("missed", 1, None), ("false detection", None, 1)]
    assert found[0].score == pytest.approx(0.8) and 0.9 < found[0].iou < 1
    assert found[1].box == (5, 60, 40, 95) and found[2].box == (150, 0, 199, 10)
    assert image_mistakes(r, as_detections(r)) == []


def test_plots_show_the_worst_image_first_and_list_every_mistake(tmp_path):
    import csv

    import cv2
    from kerasdet.eval.plots import save_evaluation_plots
    records, colours = [], {"right.png": (255, 0, 0), "wrong.png": (0, 0, 255)}  # BGR: blue, red
    for name, colour in colours.items():
        cv2.imwrite(str(tmp_path / name), np.full((100, 200, 3), colour, np.uint8))
        records.append(ImageRecord(str(tmp_path / name), "", 200, 100, np.array([[20, 20, 80, 80]], np.float32),
                                   np.array([0], np.int32), np.array([False])))
    dets = [as_detections(records[0]),  # right; wrong: class b for a, and a detection on nothing
            Detections(np.array([[20, 20, 80, 80], [120, 10, 190, 90]], np.float32), np.array([0.9, 0.6]),
                       np.array([1, 0]))]
    metrics = coco_evaluate(records, dets, ["a", "b"])
    paths, mistakes = save_evaluation_plots(metrics, records, dets, ["a", "b"], tmp_path / "plots")
    rows = list(csv.DictReader(open(tmp_path / "plots" / "mistakes.csv")))
    assert [(Path(r["image"]).name, r["mistake"], r["true_class"], r["predicted_class"], r["score"]) for r in rows] == [
        ("wrong.png", "wrong class", "a", "b", "0.900"), ("wrong.png", "false detection", "", "a", "0.600")]
    assert mistakes.endswith("1 boxes given the wrong class, 0 boxes missed, 1 false detections, "
                                         "in 1 of 2 images")
    grid = cv2.imread(str(paths[2]))  # cells of 320: the first pair is the image with mistakes (red)
    assert tuple(grid[100, 40]) == (0, 0, 255) and tuple(grid[100, 680]) == (255, 0, 0)


def test_nothing_to_evaluate_is_an_error_and_a_class_without_boxes_has_no_ap():
    from kerasdet.eval.metrics import NothingToEvaluate
    only_difficult = record([[10, 10, 60, 50]], [0], difficult=[True])
    with pytest.raises(NothingToEvaluate, match="nothing to evaluate: 1 images with 0 boxes of the classes a, b"):
        coco_evaluate([only_difficult], [as_detections(only_difficult)], ["a", "b"])
    with pytest.raises(NothingToEvaluate):
        coco_evaluate([record(np.zeros((0, 4)), [])], [Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0))], ["a"])
    r = record([[10, 10, 60, 50]], [0])
    m = coco_evaluate([r], [as_detections(r)], ["a", "b"])
    assert m["per_class"]["a"]["ap50"] == pytest.approx(1.0) and m["per_class"]["b"] == {"ap": None, "ap50": None,
                                                                                          "boxes": 0}
    missed = coco_evaluate([r], [Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int32))], ["a", "b"])
    assert missed["map50"] == 0.0 and missed["per_class"]["b"]["ap"] is None  # boxes to find, none found: a true 0
