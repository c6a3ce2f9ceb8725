"""Using a model, without a trained one: frame sources, the reader thread, thresholds,
tools/detect_cam.py's errors and tools/extract_frames.py."""
import re
import threading
import time

import numpy as np
import pytest

from conftest import load_tool
from kerasdet.core.detections import Detections
from kerasdet.data.split import group_key
from kerasdet.infer import SourceError, open_source, select_detections
from kerasdet.infer.sources import READER_THREAD, BackgroundReader


@pytest.mark.parametrize("prog", ["detect_cam", "kerasdet cam"])  # the script is the installed command
def test_camera_demo_bad_sources_are_one_clear_line(untrained_tflite, tmp_path, capsys, prog):
    from kerasdet.cli import main as kerasdet_main
    run = load_tool("detect_cam").main if prog == "detect_cam" else lambda argv: kerasdet_main(["cam", *argv])
    (tmp_path / "notes.md").write_text("not a video")
    (tmp_path / "empty").mkdir()
    cases = {"99": "camera 99 cannot be opened", str(tmp_path / "notes.md"): "not a video or image",
             str(tmp_path / "empty"): "no images in this folder", str(tmp_path / "nope.mp4"): "no such file"}
    for source, message in cases.items():
        assert run(["--model", str(untrained_tflite["int8"]), "--source", source, "--headless"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"{prog}: error:") and message in err[0], err


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
    kept = select_detections(d, conf=0.25, one_label=False)
    assert kept.scores.tolist() == pytest.approx([0.9, 0.8, 0.5])  # best first, low score gone
    stricter = select_detections(d, conf=0.25, iou=0.5, one_label=False)  # boxes 0 and 1 overlap (IoU 0.81), same class
    assert stricter.scores.tolist() == pytest.approx([0.9, 0.8]) and stricter.classes.tolist() == [0, 1]
    assert len(select_detections(d, conf=0.0, max_det=2, one_label=False).scores) == 2


def test_select_detections_shows_one_label_per_object_unless_asked_for_all():
    # the model's two readings of one hand (the same box as class 1 and class 2), and another hand
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [20, 0, 30, 10]], np.float32)
    d = Detections(boxes, np.array([0.4, 0.7, 0.3], np.float32), np.array([1, 2, 1], np.int32))
    shown = select_detections(d, conf=0.25)
    assert shown.classes.tolist() == [2, 1] and shown.scores.tolist() == pytest.approx([0.7, 0.3])
    assert select_detections(d, conf=0.25, one_label=False).classes.tolist() == [2, 1, 1]


def test_extract_frames_names_frames_so_split_keeps_videos_whole(clip, tmp_path):
    tool = load_tool("extract_frames")
    assert tool.main([str(clip[0]), str(tmp_path / "frames"), "--every", "5"]) == 0
    frames = sorted(p.name for p in (tmp_path / "frames").glob("*.jpg"))
    assert frames == ["clip_f000000.jpg", "clip_f000005.jpg", "clip_f000010.jpg"]
    assert {group_key(f, re.compile(tool.GROUP_PATTERN)) for f in frames} == {"clip"}
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    assert tool.main([str(tmp_path / "bad.mp4"), str(tmp_path / "x")]) == 2


def _avi(path, frames=150):
    import cv2
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (48, 64, 3), np.uint8))
    writer.release()


@pytest.mark.parametrize("damage", ["cut", "garbled"])
def test_a_video_that_ends_early_says_so(untrained_tflite, tmp_path, capsys, damage):
    from kerasdet.cli import main as kerasdet_main
    video = tmp_path / "clip.avi"
    _avi(video)
    data = bytearray(video.read_bytes())
    if damage == "cut":
        data = data[:len(data) // 2]
    else:
        data[len(data) // 3:len(data) // 3 + 20000] = bytes(20000)
    video.write_bytes(bytes(data))
    source = open_source(video)
    read = sum(1 for _ in source.frames())
    assert read < 150 and source.ended_early.endswith(f"ended after {read} of the 150 frames its header "
                                                      "announces (the file is cut short or damaged)")
    assert kerasdet_main(["cam", "--model", str(untrained_tflite["int8"]), "--source", str(video), "--headless"]) == 2
    captured = capsys.readouterr()
    assert f"{read} frames in" in captured.out and "clip.avi: the video ended after" in captured.err
    _avi(video)  # the whole file: no warning
    source = open_source(video)
    assert sum(1 for _ in source.frames()) == 150 and source.ended_early is None
