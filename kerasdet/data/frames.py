"""`kerasdet frames VIDEO... OUT`: frames from recorded videos, as JPEG files ready for LabelImg.

Frames are named `<video stem>_f<frame number>.jpg`, so every frame of one video shares a prefix and
`kerasdet split OUT --group '^(.*)_f\\d+'` keeps each video in one split (near-identical neighbouring
frames in both train and val would make validation scores meaningless).
"""
from __future__ import annotations

from pathlib import Path

import cv2
from tqdm import tqdm

from ..core.files import claim_folder, write_file

GROUP_PATTERN = r"^(.*)_f\d+"  # `kerasdet split --group`: the frames of one video stay together
MADE_BY = "kerasdet frames"


def _open(video: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(video))
    if not video.is_file() or not capture.isOpened():
        capture.release()
        raise ValueError(f"{video}: not a video this OpenCV build can read" if video.exists() else
                         f"{video}: no such file")
    return capture


def _step(source_fps: float, every: int | None, fps: float | None) -> int:
    if every is not None and every < 1:
        raise ValueError(f"--every {every}: keep every N-th frame, N at least 1")
    if fps is not None and fps <= 0:
        raise ValueError(f"--fps {fps:g}: frames per second to keep, more than 0")
    return every or (max(1, round(source_fps / fps)) if fps else 1)


def extract_frames(video: str | Path, out: str | Path, every: int | None = None, fps: float | None = None,
                   quality: int = 95, progress: bool = True) -> list[Path]:
    """Write every `every`-th frame (or about `fps` frames a second; neither: every frame) of `video`
    into `out`, a new folder or one kerasdet made (never the folder of the videos)."""
    video, out = Path(video), Path(out)
    capture = _open(video)
    try:
        step = _step(capture.get(cv2.CAP_PROP_FPS) or 30.0, every, fps)
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        claim_folder(out, MADE_BY)
        written, index = [], 0
        with tqdm(total=total, desc=video.name, unit="frame", disable=not progress) as bar:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                if index % step == 0:
                    path = out / f"{video.stem}_f{index:06d}.jpg"
                    written.append(write_file(path, lambda tmp, f=frame: cv2.imwrite(str(tmp), f, [
                        cv2.IMWRITE_JPEG_QUALITY, quality])))
                index += 1
                bar.update()
    finally:
        capture.release()
    if index == 0:
        raise ValueError(f"{video}: no frames could be decoded")
    return written


def extract_videos(videos: list[str | Path], out: str | Path, every: int | None = None, fps: float | None = None,
                   progress: bool = True) -> list[Path]:
    """`extract_frames` of each video into one folder; every video and the rate are checked before the
    first frame is written."""
    if not videos:
        raise ValueError("give at least one VIDEO before OUT")
    stems: dict[str, Path] = {}
    for video in map(Path, videos):
        _open(video).release()
        if stems.setdefault(video.stem, video) != video:
            raise ValueError(f"{stems[video.stem]} and {video} would both write {video.stem}_f*.jpg: rename one "
                             "of them, or extract them into different folders")
    _step(30.0, every, fps)
    return [p for video in videos for p in extract_frames(video, out, every, fps, progress=progress)]
