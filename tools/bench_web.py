"""Benchmark: per-frame time of exported models in the browser (the page `kerasdet export --format web`
writes, MediaPipe Tasks Vision on WebAssembly SIMD in Debian's headless Chromium) beside kerasdet's
TFLiteDetector (LiteRT, XNNPACK) on the same frames, in one run.

    python tools/bench_web.py nano=runs/nano/best_int8.tflite base=runs/base/best_int8.tflite \
        [--data splits/hands/val.txt --frames 40] [--passes 5] [--threads 1 2]

Frames: --frames images of --data, decoded once here (EXIF applied), else demo video frames at
--size; each runtime gets the same RGB arrays, each at its own resolution (MediaPipe stretches a
frame to the model input, TFLiteDetector letterboxes it: the resize is in both timings). The page
times `detect` on a decoded image (performance.now(), 0.1 ms resolution), TFLiteDetector `detect`
(time.perf_counter). Per pass the median over frames; printed, the median of the passes (the page's
first pass, its set-up, is not timed) and the passes themselves. Needs chromium, node and
`cd tests/web && npm ci` (tools/web_browser.py).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from web_browser import run_images, video_frames  # noqa: E402  (tools/web_browser.py)


def frames_of(data: str | None, count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """`count` RGB frames: images of `data`, else the demo video's at `size` (width, height)."""
    if data:
        from kerasdet.data import load_dataset
        from kerasdet.data.images import read_rgb
        records = load_dataset(data, on_error="skip").records[:count]
        return [read_rgb(r.image_path, r.apply_exif) for r in records]
    from kerasdet.data.synthetic import make_demo_video
    with tempfile.TemporaryDirectory() as tmp:
        make_demo_video(Path(tmp) / "clip.mp4", frames=count, size=size)
        return video_frames(Path(tmp) / "clip.mp4")


def tflite_passes(model: Path, frames: list[np.ndarray], threads: int, passes: int) -> list[float]:
    """TFLiteDetector's median ms per pass over `frames` (a warm-up pass first)."""
    from kerasdet.runtime.tflite_detector import TFLiteDetector
    detector = TFLiteDetector(model, num_threads=threads)
    medians = []
    for n in range(passes + 1):
        ms = []
        for frame in frames:
            start = time.perf_counter()
            detector.detect(frame)
            ms.append((time.perf_counter() - start) * 1e3)
        if n:
            medians.append(statistics.median(ms))
    return medians


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="NAME=FILE.tflite (an int8 export), or FILE.tflite")
    parser.add_argument("--data", help="frames from this LabelImg source (default: the demo video)")
    parser.add_argument("--frames", type=int, default=30, help="frames timed per pass (default 30)")
    parser.add_argument("--size", default="640x480", help="the demo video's WxH (default 640x480)")
    parser.add_argument("--passes", type=int, default=5, help="timed passes, each runtime (default 5)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="TFLiteDetector's LiteRT threads")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    size = tuple(int(n) for n in args.size.lower().split("x"))
    frames = frames_of(args.data, args.frames, size)
    shapes = sorted({f"{f.shape[1]}x{f.shape[0]}" for f in frames})
    print(f"{len(frames)} frames ({', '.join(shapes)}) from {args.data or 'the demo video'}; {cpu_name()}, "
          f"{os.cpu_count()} cores", flush=True)
    results = {"cpu": cpu_name(), "cores": os.cpu_count(), "frames": len(frames), "frame_shapes": shapes,
               "data": args.data, "passes": args.passes, "models": {}}
    print(f"{'model':<12} {'runtime':<34} {'ms/frame':>9}  passes")
    for spec in args.models:
        name, _, path = spec.rpartition("=")
        path = Path(path)
        name = name or path.stem
        rows = {}
        web = run_images(path, frames, repeat=args.passes + 1)  # pass 1: set-up, not timed
        rows["web (Chromium, WASM SIMD)"] = [statistics.median(p) for p in web["passes"][1:]]
        for threads in args.threads:
            rows[f"TFLiteDetector ({threads} thr)"] = tflite_passes(path, frames, threads, args.passes)
        results["models"][name] = {"file": str(path), **{k: {"ms_median": statistics.median(v), "ms_passes": v}
                                                         for k, v in rows.items()}}
        for runtime, passes in rows.items():
            print(f"{name:<12} {runtime:<34} {statistics.median(passes):9.2f}  "
                  f"{' '.join(f'{p:.2f}' for p in passes)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
