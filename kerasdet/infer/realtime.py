"""The real-time loop behind tools/detect_cam.py: frames -> detector -> boxes, FPS -> window / file."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..core.draw import draw_boxes, draw_caption
from ..core.files import check_new, write_file
from ..core.postprocess import CONF, NMS_IOU
from ..runtime.select import select_detections
from .sources import BackgroundReader

WINDOW = "kerasdet (q or Esc quits)"
QUIT_KEYS = (ord("q"), ord("Q"), 27)


@dataclass
class RealtimeReport:
    frames: int = 0
    dropped: int = 0  # live sources only: frames the detector was too slow to take
    seconds: float = 0.0
    inference_ms: list[float] = field(default_factory=list)
    ended_early: str | None = None  # a video file that stopped before its announced end, and where

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        median = float(np.median(self.inference_ms)) if self.inference_ms else 0.0
        return (f"{self.frames} frames in {self.seconds:.1f} s: {self.fps:.1f} FPS end to end, "
                f"inference median {median:.1f} ms, {self.dropped} camera frames dropped")


class SmoothedFps:
    """Exponential moving average of the frame rate, steady enough to read on screen."""

    def __init__(self, weight: float = 0.1):
        self.weight, self.value, self._last = weight, 0.0, None

    def tick(self) -> float:
        now = time.perf_counter()
        if self._last is not None and now > self._last:
            fps = 1.0 / (now - self._last)
            self.value = fps if self.value == 0 else (1 - self.weight) * self.value + self.weight * fps
        self._last = now
        return self.value


def draw_status(image: np.ndarray, fps: float, inference_ms: float) -> None:
    text = f"{fps:5.1f} FPS  {inference_ms:5.1f} ms"
    scale = 0.6 * min(max(image.shape[1] / 640, 0.5), 1.5)  # readable on small and large frames
    draw_caption(image, text, scale)


def open_window() -> None:
    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
    except cv2.error:
        raise RuntimeError("this OpenCV build has no windows (kerasdet installs opencv-python-headless): "
                           "use --headless --save out.mp4, or replace it with opencv-python") from None


class AnnotatedWriter:
    """`.mp4` / `.avi` through OpenCV, `.gif` (for READMEs) through Pillow at the end."""

    def __init__(self, path: str | Path, fps: float):
        self.path, self.fps = Path(path), fps
        if self.path.suffix.lower() not in (".mp4", ".avi", ".gif"):
            raise ValueError(f"--save {self.path}: use .mp4, .avi or .gif")
        check_new(self.path)  # before the first frame: never a file of the user's
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # the video grows under this name and takes its own at close (a kill leaves no partial file under it)
        self._recording = self.path.with_name(f"{self.path.stem}.recording{self.path.suffix}")
        self._video, self._gif_frames = None, []

    def write(self, rgb: np.ndarray) -> None:
        if self.path.suffix.lower() == ".gif":
            self._gif_frames.append(rgb)
            return
        if self._video is None:
            fourcc = cv2.VideoWriter_fourcc(*("MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"))
            self._video = cv2.VideoWriter(str(self._recording), fourcc, self.fps, (rgb.shape[1], rgb.shape[0]))
            if not self._video.isOpened():
                raise OSError(f"{self.path}: cannot write a video here")
        self._video.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        if self._video is not None:
            self._video.release()
            write_file(self.path, lambda tmp: self._recording.replace(tmp))
        if self._gif_frames:
            from PIL import Image
            # one 32-colour palette per frame, no dithering: a few hundred kB instead of megabytes
            frames = [Image.fromarray(f).quantize(32, dither=Image.Dither.NONE) for f in self._gif_frames]
            write_file(self.path, lambda tmp: frames[0].save(tmp, save_all=True, append_images=frames[1:], loop=0,
                                                             duration=int(1000 / self.fps), optimize=True))


def run_realtime(predictor, class_names: list[str], source, conf: float = CONF, iou: float = NMS_IOU,
                 max_det: int | None = None, save: str | Path | None = None, show: bool = True,
                 max_frames: int | None = None, one_label: bool = True,
                 on_frame: Callable[[int, str, np.ndarray], None] | None = None) -> RealtimeReport:
    """Detect on every frame the source delivers (the newest one, for a camera) until it ends, `q`/Esc,
    or `max_frames`. `on_frame(index, name, detections)` sees each frame's detections."""
    if show:
        open_window()
    report, meter = RealtimeReport(), SmoothedFps()
    writer = AnnotatedWriter(save, source.fps or 30.0) if save else None
    reader = BackgroundReader(source, latest_only=source.live)
    start = time.perf_counter()
    try:
        for name, frame in reader:
            t0 = time.perf_counter()
            detections = select_detections(predictor.detect(frame), conf, iou, max_det, one_label)
            report.inference_ms.append((time.perf_counter() - t0) * 1000)
            drawn = draw_boxes(frame, detections.boxes, detections.classes, class_names, detections.scores)
            draw_status(drawn, meter.tick(), report.inference_ms[-1])
            if writer:
                writer.write(drawn)
            if on_frame:
                on_frame(report.frames, name, detections)
            report.frames += 1
            if show:
                cv2.imshow(WINDOW, cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
                # a video or camera runs on; single images wait for a key
                if (cv2.waitKey(1 if source.fps or source.live else 0) & 0xFF) in QUIT_KEYS:
                    break
            if max_frames and report.frames >= max_frames:
                break
    finally:
        report.seconds = time.perf_counter() - start
        report.dropped = reader.dropped
        report.ended_early = getattr(source, "ended_early", None)
        reader.close()
        if writer:
            writer.close()
        if show:
            cv2.destroyAllWindows()
    return report
