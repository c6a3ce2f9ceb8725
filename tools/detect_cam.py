"""Real-time detection demo: webcam, video, image or folder -> boxes, class names, scores, FPS.

    python tools/detect_cam.py --model runs/demo/train/best_int8.tflite --source 0
    python tools/detect_cam.py --model best_int8.tflite --source clip.mp4 --headless --save out.mp4

The same as `kerasdet cam` (kerasdet/infer/realtime.py), kept as a script for those who start
from the repository. Capture runs in its own thread; with a camera the detector always takes the
newest frame, so a slow model drops frames instead of lagging behind. q or Esc quits. `--save`
writes the annotated stream (.mp4, .avi, or .gif). The window needs an OpenCV build with GUI
support (opencv-python); kerasdet installs the headless build, so on servers use --headless.
"""
from __future__ import annotations

import argparse
import sys

from kerasdet.cli import add_cam_arguments, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_cam_arguments(parser)
    return run(parser.parse_args(argv), "detect_cam")


if __name__ == "__main__":
    sys.exit(main())
