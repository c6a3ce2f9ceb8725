"""Real-time detection demo: webcam, video, image or folder -> boxes, class names, scores, FPS.

    python tools/detect_cam.py runs/demo/train/best_int8.tflite 0
    python tools/detect_cam.py best_int8.tflite clip.mp4 --headless --save out.mp4

The same as `kerasdet cam MODEL SOURCE` (kerasdet/infer/realtime.py; the arguments are those of
`kerasdet detect`, declared once in kerasdet/cli.py), kept as a script for those who start from the
repository. Capture runs in its own thread; with a camera the detector always takes the newest
frame, so a slow model drops frames instead of lagging behind. q or Esc quits. `--save` writes the
annotated stream (.mp4, .avi, or .gif). The window needs an OpenCV build with GUI support
(opencv-python); kerasdet installs the headless build, so on servers use --headless.
"""
from __future__ import annotations

import sys

from kerasdet.cli import CAM_USAGE, Parser, add_cam_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="detect_cam.py", description=__doc__.splitlines()[0], usage=CAM_USAGE)
    add_cam_arguments(parser)
    return run(parser.parse_args(argv), "detect_cam")


if __name__ == "__main__":
    sys.exit(main())
