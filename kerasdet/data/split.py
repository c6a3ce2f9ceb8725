"""`kerasdet split`: train/val/test file lists, optionally keeping groups of images together."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np

from .dataset import load_dataset


def group_key(image_path: str, pattern: re.Pattern | None) -> str:
    """The regex's first group on the file name; an image it does not match is its own group."""
    name = Path(image_path).name
    if pattern is None:
        return name
    match = pattern.search(name)
    return match.group(1) if match and match.groups() else name


def split_dataset(source: str | Path, out: str | Path, val: float = 0.15, test: float = 0.15,
                  group: str | None = None, seed: int = 0) -> dict[str, list[str]]:
    """Write train.txt, val.txt, test.txt (image paths relative to `out`; none for a zero fraction).

    Whole groups are assigned, largest first, to the split furthest below its target share, so
    the image fractions come close to the request while no group is ever split.
    """
    if not 0 <= val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise ValueError(f"--val {val} and --test {test} must be fractions that sum to less than 1")
    pattern = re.compile(group) if group else None
    if pattern is not None and pattern.groups < 1:
        raise ValueError(f"--group {group!r} needs a capturing group, for example '^(.+)_pic'")
    ds = load_dataset(source, on_error="skip")  # a bad box stays listed: `train` reports it again
    if ds.images_dropped or ds.boxes_dropped:
        print(f"{source}: {ds.summary()} (`kerasdet stats {source}` lists each problem)", file=sys.stderr)
    groups: dict[str, list[str]] = {}
    for r in ds.records:
        groups.setdefault(group_key(r.image_path, pattern), []).append(r.image_path)
    rng = np.random.default_rng(seed)
    keys = list(groups)
    rng.shuffle(keys)
    keys.sort(key=lambda k: -len(groups[k]))  # stable sort: shuffled order among equal sizes
    targets = {"train": 1 - val - test, "val": val, "test": test}
    splits: dict[str, list[str]] = {name: [] for name in targets}
    total = len(ds.records)
    for key in keys:
        deficit = {name: targets[name] * total - len(splits[name]) for name in targets if targets[name] > 0}
        splits[max(deficit, key=deficit.get)].extend(groups[key])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, paths in splits.items():
        if targets[name] == 0:
            continue
        lines = [os.path.relpath(p, out) for p in sorted(paths)]
        (out / f"{name}.txt").write_text("".join(line + "\n" for line in lines))
    return splits
