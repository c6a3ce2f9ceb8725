"""The web page (`kerasdet export --format web`) in a real headless Chromium, with the chain's tiny
trained model: on images its detections are TFLiteDetector's, and on Chromium's fake camera (a .y4m
of the demo video) it processes frames and finds the hearts and stars. The site, the bundle and
the page loading untrained models: tests/unit/test_web_export.py. Without Chromium, Node.js or
tests/web/node_modules these skip here and fail on CI (CI=true), which installs them (.ci/run)."""
import json
import os

import cv2
import numpy as np
import pytest

from conftest import load_tool
from kerasdet.core.detections import box_iou_matrix
from kerasdet.core.postprocess import CONF
from kerasdet.runtime.tflite_detector import TFLiteDetector

web = load_tool("web_browser")
COMPARED_ABOVE = 0.05  # near the model's own cut (0.001) and at ties either runtime may keep a box


@pytest.fixture(autouse=True)
def need_browser():
    why = web.missing()
    if why and os.environ.get("CI") == "true":
        pytest.fail(f"{why}: CI installs them (.ci/run)")
    if why:
        pytest.skip(why)


def mediapipe_box(box: np.ndarray) -> np.ndarray:
    """A box as MediaPipe reports it: origin and size each truncated to whole pixels."""
    x0, y0 = np.floor(box[:2])
    w, h = np.floor(box[2:] - box[:2])
    return np.array([x0, y0, x0 + w, y0 + h])


def test_image_detections_match_tflite_detector(exported, tiny_project):
    """The same int8 file on the same pixels (validation pictures shrunk to the model's input shape here,
    so neither runtime resizes): the same boxes, classes and scores, each runtime's found in the other's."""
    model = exported["int8"]
    detector = TFLiteDetector(model, num_threads=1)
    height, width = detector.input_shape
    paths = sorted((tiny_project / "data").glob("*.jpg"))[:6]
    images = [cv2.resize(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB), (width, height),
                         interpolation=cv2.INTER_AREA) for p in paths]
    page = web.run_images(model, images)
    compared, box_diff, truncated_diff, score_diff = 0, 0.0, 0.0, 0.0
    for image, rows in zip(images, page["detections"]):
        ref = detector.detect(image)
        theirs = [(box, float(score), int(cls)) for box, score, cls in zip(ref.boxes, ref.scores, ref.classes)]
        mine = [(np.array(r[:4], np.float32), r[4], r[5]) for r in rows]
        for a, b, a_is_ref in ((theirs, mine, True), (mine, theirs, False)):
            for box, score, cls in a:
                if score < COMPARED_ABOVE:
                    continue
                same = sorted((np.abs(box - other).max(), abs(score - s), other) for other, s, c in b if c == cls)
                assert same, f"class {cls} box {box} score {score:.3f}: found by one runtime only"
                boxes, scores, other = same[0]
                ref_box, web_box = (box, other) if a_is_ref else (other, box)
                compared += 1
                box_diff, score_diff = max(box_diff, boxes), max(score_diff, scores)
                truncated_diff = max(truncated_diff, np.abs(mediapipe_box(ref_box) - web_box).max())
    print(f"\nweb vs TFLiteDetector, {len(images)} images {width}x{height}: {compared} detections >= "
          f"{COMPARED_ABOVE} compared both ways; max box diff {box_diff:.2f} px ({truncated_diff:.2f} px after "
          f"MediaPipe's truncation to whole pixels), max score diff {score_diff:.4f}; page ms {page['ms']}")
    assert compared >= 6, "too few detections to compare: the tiny model found almost nothing"
    assert truncated_diff <= 1 and box_diff < 2 and score_diff <= 0.01


def test_camera_mode_processes_frames_and_finds_the_demo_shapes(exported, clip, tmp_path):
    """Chromium's fake camera plays the demo clip (a .y4m, looped); the page at its defaults (kerasdet's
    display threshold CONF from config.json) detects on each new frame. The shot: tmp_path/camera.png."""
    path, truth = clip
    frames = web.video_frames(path)
    video = web.write_y4m(tmp_path / "clip.y4m", frames, fps=10)
    web.web_site(exported["int8"], tmp_path / "site")
    with web.serve(tmp_path / "site") as url:
        answer = web.drive({"url": url, "video": str(video), "cameraFrames": 20, "screenshot":
                            str(tmp_path / "camera.png")}, timeout_s=90)
    assert answer["ready"] and answer["error"] is None, answer["console"]
    seen = answer["camera"]
    assert len(seen) >= 15 and [s["frame"] for s in seen] == sorted({s["frame"] for s in seen}), seen
    classes = json.loads((tmp_path / "site" / "config.json").read_text())["classes"]
    truth_boxes = {name: np.array([box for objects in truth for c, box in objects if c == name], np.float32)
                   for name in classes}
    found = 0
    for frame in seen:
        for d in frame["detections"]:
            assert d["className"] in classes and d["score"] >= CONF - 1e-6
        found += any(box_iou_matrix(np.array([d["box"]], np.float32), truth_boxes[d["className"]]).max() > 0.5
                     for d in frame["detections"])
    assert found >= len(seen) // 2, f"the demo shapes found in {found} of {len(seen)} camera frames"
    ms = [s["ms"] for s in seen]
    print(f"\ncamera: {len(seen)} frames {frames[0].shape[1]}x{frames[0].shape[0]}, shapes found in {found}; "
          f"ms/frame median {np.median(ms):.1f}, fps {seen[-1]['fps']:.1f}")
    shot = cv2.imread(answer["screenshot"])
    assert shot is not None and shot.std() > 10
