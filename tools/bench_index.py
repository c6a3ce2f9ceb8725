"""Benchmark: seconds to index a generated Pascal VOC devkit (find, parse, pair and check every file).

    python tools/bench_index.py [--images 5000] [--runs 5] [--dir DIR] [--pipeline]

Writes VOCdevkit/VOC2007 (JPEGImages/ with small JPEGs, Annotations/, ImageSets/Main/{train,val}.txt)
once into DIR (default: a temporary folder), then times `load_dataset` on the whole devkit and on its
`:train` split, a fresh process-free call each run. Prints the medians; targets on the 2-core
machine: <= 5 s for 5,000 images, <= 20 s for 20,000.
`--pipeline` then builds the training input pipeline on the `:train` split as `kerasdet train` does
(data.cache on, its default budget), runs one epoch of batches through it and prints the process's
peak memory (target: <= 4 GB for 20,000 images).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from kerasdet.data import load_dataset
from kerasdet.data.voc_xml import write_voc_xml


def make_devkit(root: Path, n: int, seed: int = 0) -> Path:
    year = root / "VOCdevkit" / "VOC2007"
    for sub in ("JPEGImages", "Annotations", "ImageSets/Main"):
        (year / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = [f"{i:06d}" for i in range(n)]
    for i in ids:
        w, h = int(rng.integers(96, 160)), int(rng.integers(72, 120))
        cv2.imwrite(str(year / "JPEGImages" / f"{i}.jpg"), rng.integers(0, 255, (h, w, 3), np.uint8))
        objects = []
        for _ in range(int(rng.integers(0, 4))):
            x1, y1 = rng.uniform(0, w / 2), rng.uniform(0, h / 2)
            objects.append((str(rng.choice(["cat", "dog", "bird"])), (x1, y1, x1 + w / 3, y1 + h / 3)))
        write_voc_xml(year / "Annotations" / f"{i}.xml", f"{i}.jpg", w, h, objects)
    cut = int(n * 0.8)
    (year / "ImageSets" / "Main" / "train.txt").write_text("".join(i + "\n" for i in ids[:cut]))
    (year / "ImageSets" / "Main" / "val.txt").write_text("".join(i + "\n" for i in ids[cut:]))
    return year


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", help="where to write the devkit (kept); default a temporary folder")
    parser.add_argument("--pipeline", action="store_true", help="also one epoch of the training pipeline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.dir or tmp)
        began = time.perf_counter()
        year = make_devkit(root, args.images)
        print(f"wrote {args.images} images + XML to {year} in {time.perf_counter() - began:.1f} s")
        for spec in (str(year.parent), f"{year}:train"):
            seconds = []
            for _ in range(args.runs):
                began = time.perf_counter()
                ds = load_dataset(spec)
                seconds.append(time.perf_counter() - began)
            print(f"{spec}: {len(ds)} images, {ds.boxes} boxes indexed in median {statistics.median(seconds):.2f} s "
                  f"(runs: {', '.join(f'{s:.2f}' for s in seconds)})")
        if args.pipeline:
            pipeline_epoch(ds)


def pipeline_epoch(ds, size: int = 320, batch: int = 16) -> None:
    from kerasdet.config import AugmentConfig, DataConfig
    from kerasdet.data.cache import ImageCache
    from kerasdet.data.pipeline import make_tf_dataset
    from kerasdet.data.samples import SampleLoader, box_slots
    began = time.perf_counter()
    cache = ImageCache(DataConfig().cache_gb, "train")
    loader = SampleLoader(ds, size, box_slots(ds, 32), AugmentConfig(), cache=cache, seed=0)
    images = sum(len(b[0]) for b in make_tf_dataset(loader, batch, shuffle=True, seed=0))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    print(f"training pipeline, one epoch of {images} images at {size}: {time.perf_counter() - began:.1f} s, "
          f"{len(loader.cache)} images cached ({loader.cache.used / 1e9:.2f} GB); peak memory of this process "
          f"{peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
