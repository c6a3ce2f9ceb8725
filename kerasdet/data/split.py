"""`kerasdet split`: train/val/test file lists, optionally keeping groups of images together."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np

from ..core.files import claim_folder, write_text
from .dataset import load_dataset
from .discover import FORMAT_NAMES, annotation_format, source_path


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
    targets = {"train": 1 - val - test, "val": val, "test": test}
    groups = _groups(source, group, seed)
    splits = _assign(groups, targets)
    for name, paths in splits.items():
        if targets[name] > 0 and not paths:
            raise ValueError(f"{source} has only {_counted(groups)}: too few for a {name} split of {targets[name]:g}: "
                             f"label more photos, or give --{name} 0" + (" (--val 0: training then has no "
                             "validation to choose its best epoch by)" if name == "val" else ""))
    claim_folder(out, "kerasdet split")
    for name, paths in splits.items():
        if targets[name] > 0:
            _write_list(Path(out) / f"{name}.txt", paths)
    return splits


def _counted(groups: list[list[str]]) -> str:
    images = sum(len(g) for g in groups)
    return f"{images} image{'s' * (images != 1)}" + (f" in {len(groups)} groups" if len(groups) != images else "")


def kfold_dataset(source: str | Path, out: str | Path, folds: int, group: str | None = None,
                  seed: int = 0) -> list[dict[str, list[str]]]:
    """k-fold cross-validation lists: OUT/fold<i>/train.txt and val.txt for i = 1..folds, each image in
    exactly one val.txt (groups kept whole as in split_dataset). For small datasets, where one
    validation split of 30 photos is too noisy to compare recipes on."""
    if folds < 2:
        raise ValueError(f"--folds {folds}: k-fold needs at least 2 folds")
    groups = _groups(source, group, seed)
    if len(groups) < folds:
        raise ValueError(f"{source} has only {_counted(groups)}: too few for {folds} folds (each fold validates on "
                         f"at least one): give --folds {len(groups)} or less" if len(groups) >= 2 else
                         f"{source} has only {_counted(groups)}: too few for k-fold; label more photos")
    parts = _assign(groups, {f"part{i}": 1 / folds for i in range(folds)})
    claim_folder(out, "kerasdet split")
    result = []
    for i in range(folds):
        fold = {"train": [p for j in range(folds) if j != i for p in parts[f"part{j}"]], "val": parts[f"part{i}"]}
        for name, paths in fold.items():
            _write_list(Path(out) / f"fold{i + 1}" / f"{name}.txt", paths)
        result.append(fold)
    return result


def _groups(source: str | Path, group: str | None, seed: int) -> list[list[str]]:
    """The images of `source` in groups that stay together, shuffled by `seed`, largest first."""
    pattern = re.compile(group) if group else None
    if pattern is not None and pattern.groups < 1:
        raise ValueError(f"--group {group!r} needs a capturing group, for example '^(.+)_pic'")
    ds = load_dataset(source, on_error="skip")  # a bad box stays listed: `train` reports it again
    _check_listable(source, ds)
    if ds.images_dropped or ds.boxes_dropped:
        print(f"{source}: {ds.summary()} (`kerasdet stats {source}` lists each problem)", file=sys.stderr)
    groups: dict[str, list[str]] = {}
    for r in ds.records:
        groups.setdefault(group_key(r.image_path, pattern), []).append(r.image_path)
    rng = np.random.default_rng(seed)
    keys = list(groups)
    rng.shuffle(keys)
    keys.sort(key=lambda k: -len(groups[k]))  # stable sort: shuffled order among equal sizes
    return [groups[k] for k in keys]


def _check_listable(source: str | Path, ds) -> None:
    """A split is a list of images, and a listed image is read with the LabelImg XML beside it or in a folder
    beside its folder: a source in another format (COCO JSON, YOLO txt, ...) cannot be listed so. Refused
    with the commands that convert it to XML in a folder beside its images, where the lists find it."""
    fmt = annotation_format(source)
    if fmt is None:
        return
    folders = sorted({Path(r.image_path).parent for r in ds.records}) or [source_path(source).parent]
    common = Path(os.path.commonpath([str(f) for f in folders]))
    xml = common.parent / f"{common.name}_xml" if folders == [common] else common / "xml"
    raise ValueError(f"{source} is {FORMAT_NAMES[fmt]}, and `kerasdet split` writes lists of images that `train` "
                     "pairs with LabelImg XML (beside each image, or in a folder beside its folder): convert it "
                     f"first, then split the XML: `kerasdet convert {source} {xml}` and `kerasdet split {xml}` (or "
                     f"train on {source} whole, without a split)")


def _assign(groups: list[list[str]], targets: dict[str, float]) -> dict[str, list[str]]:
    """Each group, in order, to the split furthest below its target share of the images."""
    splits: dict[str, list[str]] = {name: [] for name in targets}
    total = sum(len(g) for g in groups)
    for paths in groups:
        deficit = {name: targets[name] * total - len(splits[name]) for name in targets if targets[name] > 0}
        splits[max(deficit, key=deficit.get)].extend(paths)
    return splits


def _write_list(path: Path, paths: list[str]) -> None:
    """Image paths relative to the list's folder, sorted, one a line."""
    claim_folder(path.parent, "kerasdet split")  # OUT, or a fold's folder in it (listed in OUT's manifest)
    write_text(path, "".join(os.path.relpath(p, path.parent) + "\n" for p in sorted(paths)))
