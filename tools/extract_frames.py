"""Frames from recorded videos, as JPEG files ready for LabelImg.

    python tools/extract_frames.py VIDEO [VIDEO ...] OUT [--every N | --fps F]

Frames are named `<video stem>_f<frame number>.jpg`, so every frame of one video shares a prefix and
`kerasdet split OUT --group '^(.*)_f\\d+'` keeps each video in one split (near-identical neighbouring
frames in both train and val would make validation scores meaningless).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
from tqdm import tqdm

from kerasdet.core.files import claim_folder, write_file

GROUP_PATTERN = r"^(.*)_f\d+"


def extract_frames(video: str | Path, out: str | Path, every: int | None = None, fps: float | None = None,
                   quality: int = 95) -> list[Path]:
    """Write every `every`-th frame (or about `fps` frames a second) of `video` into `out`."""
    video, out = Path(video), Path(out)
    capture = cv2.VideoCapture(str(video))
    if not video.is_file() or not capture.isOpened():
        raise ValueError(f"{video}: not a video this OpenCV build can read")
    source_fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    step = every or (max(1, round(source_fps / fps)) if fps else 1)
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    claim_folder(out, "extract_frames")  # new, empty, or made by kerasdet: never the folder of the videos
    written, index = [], 0
    with tqdm(total=total, desc=video.name, unit="frame") as bar:
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
    capture.release()
    if index == 0:
        raise ValueError(f"{video}: no frames could be decoded")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="+", metavar="VIDEO")
    parser.add_argument("out")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument("--every", type=int, help="keep every N-th frame")
    rate.add_argument("--fps", type=float, help="keep about F frames per second")
    args = parser.parse_args(argv)
    try:
        total = sum(len(extract_frames(v, args.out, args.every, args.fps)) for v in args.videos)
    except (ValueError, OSError) as err:
        print(f"extract_frames: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {total} frames to {args.out}; split keeping videos whole with:\n"
          f"  kerasdet split {args.out} --group '{GROUP_PATTERN}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
