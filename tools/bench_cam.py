"""Benchmark: end-to-end FPS of the real-time loop (tools/detect_cam.py --headless) on a 640x480 video.

    python tools/bench_cam.py --model RUN/best_int8.tflite [--threads 2] [--runs 5] [--frames 300]
                              [--video clip.mp4]

Capture (its own thread) + letterbox + inference + drawing + status line, every frame of the video
(none dropped: a file is not a camera), no window. Without --video a synthetic 640x480 clip is made.
Prints each run and the median; also the decode-only rate of the same video, for reference.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def decode_only_fps(video: Path) -> float:
    import cv2
    capture, frames, start = cv2.VideoCapture(str(video)), 0, time.perf_counter()
    while capture.read()[0]:
        frames += 1
    return frames / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a .tflite (or .keras) detector")
    parser.add_argument("--video", help="a video file (default: a synthetic 640x480 clip)")
    parser.add_argument("--frames", type=int, default=300, help="length of the synthetic clip")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from kerasdet.data.synthetic import make_demo_video
    from kerasdet.infer.realtime import run_realtime
    from kerasdet.infer.sources import open_source
    from kerasdet.runtime.load import load_predictor

    with tempfile.TemporaryDirectory() as tmp:
        video = Path(args.video) if args.video else Path(tmp) / "clip.mp4"
        if not args.video:
            make_demo_video(video, frames=args.frames, size=(640, 480))
        predictor = load_predictor(args.model, num_threads=args.threads)
        names = predictor.card.class_names
        run_realtime(predictor, names, open_source(video), show=False, max_frames=30)  # warm-up
        reports = []
        for i in range(args.runs):
            report = run_realtime(predictor, names, open_source(video), show=False)
            reports.append(report)
            print(f"run {i + 1}: {report}")
        fps = statistics.median(r.fps for r in reports)
        infer = statistics.median(statistics.median(r.inference_ms) for r in reports)
        print(f"\n{args.model}, {args.threads} threads, {reports[0].frames} frames of {video.name}:")
        print(f"  end-to-end median {fps:.1f} FPS ({1000 / fps:.2f} ms/frame), inference median {infer:.2f} ms")
        print(f"  decoding the video alone: {decode_only_fps(video):.0f} FPS")


if __name__ == "__main__":
    main()
