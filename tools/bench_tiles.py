"""Benchmark: tiled inference (`--tile`, kerasdet/runtime/tiles.py) against the whole frame, ms per frame.

    python tools/bench_tiles.py MODEL.tflite [--frame 1280x720] [--tile 320x320] [--overlap 0.2] [--threads 2]

Any kerasdet .tflite will do (speed does not depend on training; tests/conftest.py's `untrained` fixture
shows how to make one). Each round times `detect` on one frame --runs times (median) untiled, tiled with
the whole-frame pass (the default), and tiled without it; rounds interleave the three, so a slow minute
of the host touches all alike. The frame is noise, in which a trained model finds little; so the merge
is timed alone too, at its worst: every window reporting MAX_DETECTIONS boxes. Printed: the median of
the rounds, the ratio to untiled, the windows run, and that merge time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kerasdet.cli import _width_x_height  # noqa: E402
from kerasdet.core.detections import Detections  # noqa: E402
from kerasdet.core.postprocess import MAX_DETECTIONS  # noqa: E402
from kerasdet.runtime import tiles  # noqa: E402
from kerasdet.runtime.load import load_predictor  # noqa: E402
from timing import median_ms  # noqa: E402  (tools/timing.py)


def merge_ms(tiled: tiles.Tiled, frame_hw: tuple[int, int], per_window: int, runs: int) -> float:
    """ms of `merge_tile_detections` alone, each window reporting `per_window` random boxes of 4 classes
    (MAX_DETECTIONS: the most a kerasdet model reports, as on a crowded frame or at a low threshold)."""
    rng = np.random.default_rng(0)
    windows = tiled.windows(frame_hw)
    found = []
    for x0, y0, x1, y1 in windows:
        corner = rng.uniform(0, 1, (per_window, 2)) * [x1 - x0, y1 - y0]
        size = rng.uniform(4, 40, (per_window, 2))
        boxes = np.concatenate([corner, np.minimum(corner + size, [x1 - x0, y1 - y0])], 1).astype(np.float32)
        found.append(Detections(boxes, rng.uniform(0, 1, per_window).astype(np.float32),
                                rng.integers(0, 4, per_window).astype(np.int32)))
    return median_ms(lambda: tiles.merge_tile_detections(found, windows, frame_hw, tiled.max_det), runs, warmup=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a kerasdet .tflite file")
    parser.add_argument("--frame", type=_width_x_height, default=(720, 1280), metavar="WxH")
    parser.add_argument("--tile", type=_width_x_height, default=None, metavar="WxH",
                        help="default: the model's input size")
    parser.add_argument("--overlap", type=float, default=tiles.TILE_OVERLAP)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="detect calls per variant and round")
    args = parser.parse_args()
    if not args.model.is_file() or args.model.suffix != ".tflite":
        parser.error(f"{args.model}: give a .tflite file kerasdet exported")
    predictor = load_predictor(args.model, num_threads=args.threads)
    tile = args.tile or predictor.input_shape  # (height, width) of the model's input
    frame = np.random.default_rng(0).integers(0, 255, (*args.frame, 3), np.uint8)
    variants = {"whole frame": predictor,
                "tiles + whole frame": tiles.Tiled(predictor, tile, args.overlap),
                "tiles only": tiles.Tiled(predictor, tile, args.overlap, full_frame=False)}
    times = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, p in variants.items():
            times[name].append(median_ms(lambda: p.detect(frame), args.runs, warmup=1))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"{args.model}: {args.frame[1]}x{args.frame[0]} frame, tiles {tile[1]}x{tile[0]} overlap {args.overlap:g}, "
          f"{args.threads} threads; {cpu}, {os.cpu_count()} cores; median of {args.rounds} interleaved rounds of "
          f"{args.runs} frames ({time.strftime('%Y-%m-%d')})")
    first = statistics.median(times["whole frame"])
    print(f"{'':<20} {'windows':>7} {'ms/frame':>9} {'ratio':>6}")
    for name, p in variants.items():
        ms = statistics.median(times[name])
        windows = len(p.windows(args.frame)) if isinstance(p, tiles.Tiled) else 1
        print(f"{name:<20} {windows:>7} {ms:9.1f} {ms / first:6.2f}")
    tiled = variants["tiles + whole frame"]
    print(f"merging alone, {MAX_DETECTIONS} random boxes of 4 classes per window (the most a model reports), "
          f"best {tiled.max_det} kept: {merge_ms(tiled, args.frame, MAX_DETECTIONS, args.runs):.1f} ms")


if __name__ == "__main__":
    main()
