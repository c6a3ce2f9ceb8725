"""Real-time detection demo: webcam, video, image or folder -> boxes, class names, scores, FPS.

    python tools/detect_cam.py --model runs/demo/train/best_int8.tflite --source 0
    python tools/detect_cam.py --model best_int8.tflite --source clip.mp4 --headless --save out.mp4

Capture runs in its own thread; with a camera the detector always takes the newest frame, so a
slow model drops frames instead of lagging behind. q or Esc quits. `--save` writes the annotated
stream (.mp4, .avi, or .gif). The window needs an OpenCV build with GUI support (opencv-python);
kerasdet installs the headless build, so on servers use --headless.
"""
from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # a missing camera is our one error line, not OpenCV's three

DEFAULT_MODEL = "runs/demo/train/best_int8.tflite"  # what `kerasdet demo` leaves behind


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f".tflite (default {DEFAULT_MODEL}) or .keras")
    parser.add_argument("--source", default="0", help="camera index, video file, image, folder or .txt list")
    parser.add_argument("--conf", type=float, default=0.25, help="lowest score drawn")
    parser.add_argument("--iou", type=float, default=0.6, help="NMS IoU (the model's own NMS is at 0.6; "
                        "lower is stricter)")
    parser.add_argument("--max-det", type=int, default=100)
    parser.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1), help="LiteRT threads")
    parser.add_argument("--save", help="write the annotated stream to .mp4, .avi or .gif")
    parser.add_argument("--headless", action="store_true", help="no window (servers, tests)")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.model == DEFAULT_MODEL and not os.path.exists(DEFAULT_MODEL):
        print(f"detect_cam: error: {DEFAULT_MODEL} does not exist yet: run `kerasdet demo` first, "
              "or pass --model YOUR_MODEL.tflite", file=sys.stderr)
        return 2
    from kerasdet.infer.realtime import run_realtime
    from kerasdet.infer.sources import SourceError, open_source
    from kerasdet.models.load import load_predictor

    try:
        predictor, class_names = load_predictor(args.model, num_threads=args.threads)
        source = open_source(args.source)
        report = run_realtime(predictor, class_names, source, args.conf, args.iou, args.max_det,
                              save=args.save, show=not args.headless, max_frames=args.max_frames)
    except (SourceError, ValueError, OSError, RuntimeError) as err:
        print(f"detect_cam: error: {err}", file=sys.stderr)
        return 2
    print(report)
    if args.save:
        print(f"annotated stream: {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
