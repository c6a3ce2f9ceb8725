"""Using a model: tools/detect_cam.py, frame sources, `kerasdet detect` with CSV / LabelImg output."""
import importlib.util
import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kerasdet.cli import main as kerasdet_main
from kerasdet.data import load_dataset
from kerasdet.data.images import read_rgb
from kerasdet.data.formats.csv_table import read_csv_table
from kerasdet.data.split import group_key
from kerasdet.data.synthetic import make_demo_video
from kerasdet.infer import SourceError, detect, open_source, select_detections
from kerasdet.infer.detect import pixel_box
from kerasdet.infer.sources import READER_THREAD, BackgroundReader
from kerasdet.core.detections import Detections, box_iou_matrix
from kerasdet.models.tflite_detector import TFLiteDetector

TOOLS = Path(__file__).parent.parent / "tools"


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_video(path):
    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, bgr = capture.read()
        if not ok:
            return frames
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    # objects as large as in the tiny model's 128x96 training pictures
    truth = make_demo_video(path, frames=12, size=(128, 96), objects=1, seed=0, object_size=(0.3, 0.45))
    return path, truth


def test_detect_cam_headless_writes_the_annotated_video(exported, clip, tmp_path, capsys):
    path, truth = clip
    out = tmp_path / "annotated.mp4"
    rc = load_tool("detect_cam").main(["--model", str(exported["int8"]), "--source", str(path), "--headless",
                                       "--save", str(out), "--conf", "0.1", "--threads", "1"])
    assert rc == 0, capsys.readouterr().err
    assert "12 frames" in capsys.readouterr().out
    source_frames, annotated = read_video(path), read_video(out)
    assert len(annotated) == len(source_frames) == 12
    detector = TFLiteDetector(exported["int8"], num_threads=1)
    drawn_frames = found = 0
    for frame, drawn, objects in zip(source_frames, annotated, truth):
        d = select_detections(detector.detect(frame), conf=0.1)
        found += any(box_iou_matrix(d.boxes, np.array([t], np.float32)).max(initial=0) > 0.5 for _, t in objects)
        for x1, y1, x2, y2 in (pixel_box(b, 128, 96) for b in d.boxes):
            # the box's outline is drawn where the detector put it: strong change on the left edge
            edge = np.abs(drawn[y1 + 2:y2 - 2, x1].astype(int) - frame[y1 + 2:y2 - 2, x1]).mean()
            drawn_frames += edge > 40
    assert found >= 8, f"the tiny model found the object in only {found} of 12 frames"
    assert drawn_frames >= found
    # the status line (FPS, ms) is drawn on a black band in the top-left corner
    assert all(f[1:4, 1:60].mean() < 60 for f in annotated)


def test_detect_cam_bad_sources_are_one_clear_line(exported, tmp_path, capsys):
    tool = load_tool("detect_cam")
    (tmp_path / "notes.md").write_text("not a video")
    (tmp_path / "empty").mkdir()
    cases = {"99": "camera 99 cannot be opened", str(tmp_path / "notes.md"): "not a video or image",
             str(tmp_path / "empty"): "no images in this folder", str(tmp_path / "nope.mp4"): "no such file"}
    for source, message in cases.items():
        assert tool.main(["--model", str(exported["int8"]), "--source", source, "--headless"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("detect_cam: error:") and message in err[0], err


class _FastSource:
    live, fps = True, None

    def __init__(self, n):
        self.n = n

    def frames(self):
        for i in range(self.n):
            time.sleep(0.002)
            yield str(i), np.full((4, 4, 3), i, np.uint8)


def test_live_reader_hands_out_the_newest_frame_and_drops_the_rest():
    reader, seen = BackgroundReader(_FastSource(40), latest_only=True), []
    for name, _ in reader:
        seen.append(int(name))
        time.sleep(0.02)  # a detector slower than the camera
    assert seen == sorted(seen) and seen[-1] == 39  # in order, and the last frame is not lost
    assert len(seen) < 40 and reader.dropped == 40 - len(seen) > 0
    assert [int(n) for n, _ in BackgroundReader(_FastSource(40), latest_only=False)] == list(range(40))
    for name, _ in BackgroundReader(_FastSource(40), latest_only=False):
        break  # a consumer that stops early (q pressed) must not leave the reader thread behind
    assert not [t for t in threading.enumerate() if t.name == READER_THREAD and t.is_alive()]


def test_reader_passes_a_source_error_to_the_consumer(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(SourceError, match="broken.jpg"):
        list(BackgroundReader(open_source(folder), latest_only=False))


def test_select_detections_thresholds():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    d = Detections(boxes, np.array([0.5, 0.9, 0.8, 0.1], np.float32), np.array([0, 0, 1, 0], np.int32))
    kept = select_detections(d, conf=0.25)
    assert kept.scores.tolist() == pytest.approx([0.9, 0.8, 0.5])  # best first, low score gone
    stricter = select_detections(d, conf=0.25, iou=0.5)  # boxes 0 and 1 overlap (IoU 0.81), same class
    assert stricter.scores.tolist() == pytest.approx([0.9, 0.8]) and stricter.classes.tolist() == [0, 1]
    assert len(select_detections(d, conf=0.0, max_det=2).scores) == 2


def test_detect_csv_and_voc_round_trip_through_the_loader(exported, tiny_project, tmp_path, capsys):
    images = tmp_path / "new_photos"
    images.mkdir()
    for p in sorted((tiny_project / "data").glob("*.jpg"))[:10]:
        shutil.copy(p, images)
    # How sure the tiny model is varies with the machine's float rounding (CI once found nothing at
    # 0.2), so the threshold comes from its own scores: about half the images get boxes, half none.
    detector = TFLiteDetector(exported["int8"])
    top_scores = [detector.detect(read_rgb(p)).scores.max(initial=0) for p in sorted(images.iterdir())]
    conf = float(np.median(top_scores))
    results = detect(exported["int8"], images, csv_path=tmp_path / "d.csv", voc_dir=tmp_path / "pre",
                     images_dir=tmp_path / "drawn", conf=conf, progress=False)
    with_boxes = sum(len(r.detections.boxes) > 0 for r in results)
    assert len(results) == 10 and 0 < with_boxes < 10, (top_scores, conf)
    expected = {r.path.name: sorted(pixel_box(b, r.width, r.height) for b in r.detections.boxes)
                for r in results}
    names = detector.class_names
    # LabelImg XML written apart from the images: kerasdet's loader reads them back, boxes intact
    ds = load_dataset(tmp_path / "pre", names)
    assert len(ds.records) == 10  # images with no detection become negatives, not dropped
    for r in ds.records:
        assert sorted(tuple(map(int, b)) for b in r.boxes) == expected[Path(r.image_path).name]
    rows = read_csv_table(tmp_path / "d.csv", images)
    assert {i.image.name: sorted(tuple(map(int, b)) for _, b in i.objects) for i in rows} == \
        {k: v for k, v in expected.items() if v}
    assert len(list((tmp_path / "drawn").glob("*.jpg"))) == 10
    # a second --voc run must not overwrite labels the user may have corrected
    assert kerasdet_main(["detect", str(exported["int8"]), str(images), "--voc", str(tmp_path / "pre")]) == 2
    assert "already there" in capsys.readouterr().err
    assert kerasdet_main(["detect", str(exported["int8"]), str(images), "--csv", str(tmp_path / "e.csv")]) == 0
    assert "10 images" in capsys.readouterr().out


def test_extract_frames_names_frames_so_split_keeps_videos_whole(clip, tmp_path):
    tool = load_tool("extract_frames")
    assert tool.main([str(clip[0]), str(tmp_path / "frames"), "--every", "5"]) == 0
    frames = sorted(p.name for p in (tmp_path / "frames").glob("*.jpg"))
    assert frames == ["clip_f000000.jpg", "clip_f000005.jpg", "clip_f000010.jpg"]
    import re
    assert {group_key(f, re.compile(tool.GROUP_PATTERN)) for f in frames} == {"clip"}
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    assert tool.main([str(tmp_path / "bad.mp4"), str(tmp_path / "x")]) == 2
