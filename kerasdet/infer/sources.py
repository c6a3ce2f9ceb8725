"""Where frames come from: a camera, a video file, an image, a folder or list of images.

Every source yields (name, RGB uint8 frame). `BackgroundReader` reads in its own thread so decoding
overlaps inference; for a live camera it keeps only the newest frame, so a slow model drops frames
instead of falling further and further behind the camera.
"""
from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..data.discover import find_images
from ..data.errors import DataError
from ..data.images import IMAGE_SUFFIXES, read_rgb


class SourceError(ValueError):
    """A source that cannot be read: one line naming it and why."""


class VideoSource:
    def __init__(self, spec: int | Path):
        self.live = isinstance(spec, int)
        self.name = f"camera {spec}" if self.live else str(spec)
        self._capture = cv2.VideoCapture(spec if self.live else str(spec))
        ok, self._first = self._capture.read() if self._capture.isOpened() else (False, None)
        if not ok:
            self._capture.release()
            raise SourceError(f"camera {spec} cannot be opened (is it connected and free?)" if self.live
                              else f"{spec}: not a video or image this OpenCV build can read")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else None
        self.expected_frames = 0 if self.live else int(max(self._capture.get(cv2.CAP_PROP_FRAME_COUNT), 0))
        self.ended_early: str | None = None  # set when a file stops before the frames its header announces
        self._stem = "camera" if self.live else Path(spec).stem

    def frames(self) -> Iterator[tuple[str, np.ndarray]]:
        index, bgr = 0, self._first
        try:
            while bgr is not None:
                yield f"{self._stem}_f{index:06d}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                ok, bgr = self._capture.read()
                bgr, index = (bgr if ok else None), index + 1
            if index < self.expected_frames - 1:  # containers may count one frame more than they hold
                self.ended_early = (f"{self.name}: the video ended after {index} of the {self.expected_frames} "
                                    "frames its header announces (the file is cut short or damaged)")
        finally:
            self._capture.release()


class ImageSource:
    live, fps = False, None

    def __init__(self, paths: list[Path], name: str):
        self.paths, self.name = paths, name

    def frames(self) -> Iterator[tuple[str, np.ndarray]]:
        for path in self.paths:
            try:
                yield str(path), read_rgb(path)
            except OSError as err:
                raise SourceError(str(err)) from None


def image_paths(spec: str | Path) -> list[Path]:
    """The images of an image file, a folder (recursively), a .txt list, or any LabelImg data source."""
    try:
        return find_images(spec)
    except DataError as err:
        raise SourceError("; ".join(str(p) for p in err.problems[:5])) from None


def open_source(spec: str | int | Path):
    """A camera index ("0"), a video file, an image, a folder of images, or a .txt list of images."""
    if isinstance(spec, int) or str(spec).isdigit():
        return VideoSource(int(spec))
    path = Path(spec)
    if path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES + (".txt",):
        return VideoSource(path)
    return ImageSource(image_paths(path), str(path))


READER_THREAD = "kerasdet-frame-reader"


class BackgroundReader:
    """Iterate a source's frames, read ahead in a thread. `latest_only`: hand out only the newest
    frame and count the ones skipped (`dropped`); otherwise every frame, in order."""

    _END = object()

    def __init__(self, source, latest_only: bool, read_ahead: int = 4):
        self.dropped = 0
        self._queue: queue.Queue = queue.Queue(maxsize=1 if latest_only else read_ahead)
        self._latest_only = latest_only
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, args=(source,), daemon=True, name=READER_THREAD)
        self._thread.start()

    def _put(self, item) -> None:
        while not self._stop.is_set():
            if self._latest_only and item is not self._END:
                try:  # replace an unclaimed older frame with this one
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _read(self, source) -> None:
        try:
            for frame in source.frames():
                if self._stop.is_set():
                    return
                self._put(frame)
        except BaseException as err:  # handed to the consumer, raised there
            self._error = err
        self._put(self._END)

    def __iter__(self):
        try:
            while True:
                item = self._queue.get()
                if item is self._END:
                    if self._error is not None:
                        raise self._error
                    return
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
