"""The picture of the web page in the docs (docs/guide/web_page.png): the page `kerasdet export
--format web` writes, taken by headless Chromium at a phone's width, twice side by side: on the
camera (Chromium's fake camera playing the frames) and on a picked image.

    python tools/web_screenshot.py runs/hands_nano/best_int8.tflite --data splits/hands/val.txt \
        --out docs/guide/web_page.png [--overwrite]

Frames: --frames consecutive images of --data (webcam frames play as a camera), else the demo video
(hearts and stars) at --size. The picked image is the middle frame, picked twice (the first detection
on an image of a new size sets MediaPipe up: its ms is not the steady one). Needs chromium, node and
`cd tests/web && npm ci` (tools/web_browser.py).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from bench_web import frames_of  # tools/bench_web.py
from web_browser import drive, serve, web_site, write_y4m  # tools/web_browser.py

PHONE = (430, 760)  # CSS pixels of a phone's screen, portrait


def shots(model: Path, frames: list[np.ndarray], camera_frames: int) -> list[np.ndarray]:
    """[the page on the camera, the page on the middle frame picked as an image], BGR."""
    height, width = frames[0].shape[:2]
    frames = [cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames]
    pictures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        web_site(model, tmp / "site")
        video = write_y4m(tmp / "camera.y4m", frames, fps=10)
        picture = tmp / "picture.png"
        cv2.imwrite(str(picture), cv2.cvtColor(frames[len(frames) // 2], cv2.COLOR_RGB2BGR))
        with serve(tmp / "site") as url:
            for job in ({"video": str(video), "cameraFrames": camera_frames}, {"upload": [str(picture)] * 2}):
                shot = tmp / "shot.png"
                answer = drive({"url": url, "width": PHONE[0], "height": PHONE[1], "screenshot": str(shot), **job})
                if not answer["ready"] or answer["error"]:
                    raise SystemExit(f"the page could not run {model}: {answer['error']}")
                pictures.append(cv2.imread(str(shot)))
    return pictures


def side_by_side(pictures: list[np.ndarray], gap: int = 16, margin: int = 8) -> np.ndarray:
    """The pictures in a row, the page's empty bottom cut off (rows all of its background colour)."""
    used = [np.flatnonzero(np.abs(p.astype(int) - p[-1, 0]).max(axis=(1, 2)) > 0) for p in pictures]
    height = min(max(p.shape[0] for p in pictures), max(u[-1] for u in used) + margin)
    pictures = [p[:height] for p in pictures]
    out = np.full((height, sum(p.shape[1] for p in pictures) + gap * (len(pictures) - 1), 3), 255, np.uint8)
    x = 0
    for p in pictures:
        out[:p.shape[0], x:x + p.shape[1]] = p
        x += p.shape[1] + gap
    return out


def small_png(picture: np.ndarray, path: Path) -> None:
    """A PNG of 256 colours: a third of the bytes, for a picture the README carries in git."""
    from PIL import Image
    image = Image.fromarray(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB))
    image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="an exported .tflite (or a .keras: exported to int8 first)")
    parser.add_argument("--data", help="frames from this LabelImg source (default: the demo video)")
    parser.add_argument("--frames", type=int, default=30, help="frames the camera plays (default 30)")
    parser.add_argument("--size", default="640x480", help="the demo video's WxH (default 640x480)")
    parser.add_argument("--camera-frames", type=int, default=25, help="frames detected before the shot")
    parser.add_argument("--out", type=Path, default=Path("docs/guide/web_page.png"))
    parser.add_argument("--overwrite", action="store_true", help="replace --out when it is there")
    args = parser.parse_args()

    from kerasdet.core.files import write_file
    size = tuple(int(n) for n in args.size.lower().split("x"))
    picture = side_by_side(shots(args.model, frames_of(args.data, args.frames, size), args.camera_frames))
    write_file(args.out, lambda tmp: small_png(picture, tmp), replace=args.overwrite)
    print(f"wrote {args.out} ({picture.shape[1]}x{picture.shape[0]}, {args.out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
