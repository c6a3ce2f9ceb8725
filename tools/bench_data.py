"""Benchmark: images/s of the full training input pipeline (decode + augment + letterbox + batch).

    python tools/bench_data.py [DATA] [--size 320] [--batch 16] [--batches 40] [--runs 5]

Default DATA is ../shared/datasets/hands (beside the project). Prints the median of several runs;
target: >= 300 images/s on the 2-core machine, so data loading never limits training.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from kerasdet.config import AugmentConfig, DataConfig  # noqa: E402
from kerasdet.data import load_dataset  # noqa: E402
from kerasdet.data.cache import ImageCache  # noqa: E402
from kerasdet.data.pipeline import make_tf_dataset  # noqa: E402
from kerasdet.data.samples import SampleLoader  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "hands"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cache", action="store_true", help="keep decoded images in memory")
    args = parser.parse_args()

    ds = load_dataset(args.data)
    cache = ImageCache(DataConfig().cache_gb) if args.cache else None
    loader = SampleLoader(ds, args.size, 32, AugmentConfig(), cache=cache, seed=0)
    pipeline = make_tf_dataset(loader, args.batch, shuffle=True, seed=0, drop_remainder=True).repeat()
    batches = iter(pipeline)
    for _ in range(5):  # warm-up: thread pools, autotune, (cache)
        next(batches)
    rates = []
    for run in range(args.runs):
        start = time.perf_counter()
        for _ in range(args.batches):
            next(batches)
        rate = args.batches * args.batch / (time.perf_counter() - start)
        rates.append(rate)
        print(f"run {run + 1}: {rate:.0f} images/s")
    print(f"{Path(args.data).name}: {len(ds)} images, input {args.size}, batch {args.batch}, "
          f"{os.cpu_count()} cores, cache={args.cache}: median {statistics.median(rates):.0f} images/s")


if __name__ == "__main__":
    main()
