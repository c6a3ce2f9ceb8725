import json
import re
from pathlib import Path

import numpy as np
import pytest

from kerasdet.cli import main
from kerasdet.data import load_dataset
from kerasdet.data.split import group_key, split_dataset

from conftest import tree_digest, write_pair


def grouped_folder(tmp_path):
    """Recording sessions of different lengths, as in webcam datasets: '<session>_pic<n>.jpg'."""
    sizes = {"1528664299.56": 14, "2": 30, "3_1528499009.07": 6, "15": 5, "26": 8, "46": 4, "55": 9}
    for session, count in sizes.items():
        for i in range(count):
            write_pair(tmp_path, f"{session}_pic{i:05d}", [("a", (1, 1, 9, 9))], w=16, h=16)
    return sizes


def test_group_split_never_splits_a_group(tmp_path):
    data = tmp_path / "data"
    sizes = grouped_folder(data)
    before = tree_digest(data)
    pattern = r"^(.*)_pic\d+"
    splits = split_dataset(data, tmp_path / "lists", val=0.2, test=0.2, group=pattern, seed=5)
    owner = {}
    for name, paths in splits.items():
        for p in paths:
            key = group_key(p, re.compile(pattern))
            assert owner.setdefault(key, name) == name, f"group {key} in {owner[key]} and {name}"
    assert set(owner) == set(sizes)
    assert sum(map(len, splits.values())) == sum(sizes.values())
    assert all(len(v) > 0 for v in splits.values())
    # the lists load back as datasets with the same images
    for name in splits:
        ds = load_dataset(tmp_path / "lists" / f"{name}.txt")
        assert sorted(r.image_path for r in ds.records) == sorted(str(Path(p).resolve()) for p in splits[name])
    assert tree_digest(data) == before  # files are listed, not moved


def test_split_without_group_is_close_to_fractions_and_seeded(tmp_path):
    for i in range(100):
        write_pair(tmp_path / "d", f"im{i:03d}", [("a", (1, 1, 9, 9))], w=16, h=16)
    a = split_dataset(tmp_path / "d", tmp_path / "a", val=0.15, test=0.15, seed=1)
    b = split_dataset(tmp_path / "d", tmp_path / "b", val=0.15, test=0.15, seed=1)
    c = split_dataset(tmp_path / "d", tmp_path / "c", val=0.15, test=0.15, seed=2)
    assert [len(a[k]) for k in ("train", "val", "test")] == [70, 15, 15]
    assert a == b and a["val"] != c["val"]


def test_kfold_lists_each_image_in_one_val_and_keeps_groups(tmp_path, capsys):
    data = tmp_path / "data"
    grouped_folder(data)
    assert main(["split", str(data), "--folds", "3", "--group", r"^(.*)_pic\d+", "--out", str(tmp_path / "cv")]) == 0
    assert [line.split(":")[0] for line in capsys.readouterr().out.splitlines()] == ["fold1", "fold2", "fold3"]
    everything = sorted(r.image_path for r in load_dataset(data).records)
    vals = []
    for i in (1, 2, 3):
        train, val = (sorted(r.image_path for r in load_dataset(tmp_path / "cv" / f"fold{i}" / f"{name}.txt").records)
                      for name in ("train", "val"))
        assert sorted(train + val) == everything and not set(train) & set(val)
        sessions = {group_key(p, re.compile(r"^(.*)_pic\d+")) for p in val}
        assert not any(group_key(p, re.compile(r"^(.*)_pic\d+")) in sessions for p in train)  # groups stay whole
        vals += val
    assert sorted(vals) == everything  # each image validated once
    assert main(["split", str(data), "--folds", "1"]) == 2


def test_split_rejects_bad_arguments(tmp_path):
    write_pair(tmp_path, "x", [])
    with pytest.raises(ValueError, match="capturing group"):
        split_dataset(tmp_path, tmp_path / "o", group="pic")
    with pytest.raises(ValueError, match="sum to less than 1"):
        split_dataset(tmp_path, tmp_path / "o", val=0.6, test=0.5)


def test_stats_json(tmp_path, capsys):
    write_pair(tmp_path, "a", [("cat", (1, 1, 9, 9)), ("dog", (2, 2, 12, 8))])
    write_pair(tmp_path, "b", [])
    (tmp_path / "broken.xml").write_text("<annotation><object>")
    assert main(["stats", str(tmp_path), "--json", "--plot", str(tmp_path / "s.png")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == 2 and out["boxes"] == 2 and out["classes"] == {"cat": 1, "dog": 1}
    assert out["images_without_boxes"] == 1
    assert len(out["problems"]) == 1 and "broken.xml:1: malformed XML" in out["problems"][0]
    assert (tmp_path / "s.png").stat().st_size > 10_000


def test_cli_reports_data_errors_in_one_line_with_exit_code(tmp_path, capsys):
    assert main(["split", str(tmp_path / "missing")]) == 2
    assert "missing: no such file or folder" in capsys.readouterr().err


def test_cli_demo_data_split_preview(tmp_path, capsys):
    assert main(["demo-data", str(tmp_path / "d"), "--n", "20"]) == 0
    assert main(["split", str(tmp_path / "d"), "--out", str(tmp_path / "s"), "--group", r"^(scene\d+)_"]) == 0
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data:\n  train: s/train.txt\nmodel:\n  input_size: 96\n")
    assert main(["preview", str(cfg), "--out", str(tmp_path / "p.png"), "--n", "4"]) == 0
    import cv2
    grid = cv2.imread(str(tmp_path / "p.png"))
    assert grid.shape == (96, 4 * 96, 3)


def test_tf_pipeline_batches_with_a_bounded_cache_and_shards(demo_data, capsys):
    from kerasdet.config import AugmentConfig
    from kerasdet.data.cache import ImageCache
    from kerasdet.data.pipeline import make_tf_dataset
    from kerasdet.data.samples import SampleLoader
    ds = load_dataset(demo_data)
    one_image = SampleLoader(ds, 64, 8).image(ds.records[0], 0).nbytes  # demo images are all one size
    cache = ImageCache(budget_gb=10.5 * one_image / 1e9, name="train")
    loader = SampleLoader(ds, 64, 8, AugmentConfig(), cache=cache, seed=0)
    batches = list(make_tf_dataset(loader, 16, shuffle=True, seed=0, drop_remainder=True))
    assert len(batches) == 3
    assert len(cache) == 10 and cache.used <= cache.budget  # the rest is decoded each time, and said so
    assert "train: the image cache is full" in capsys.readouterr().out
    # one input pipeline of two (a machine of two): every other sample, decoded there only
    halves = [sum(len(b[0]) for b in make_tf_dataset(loader, 4, shard=(2, k))) for k in (0, 1)]
    assert halves == [len(ds) // 2] * 2
    images, targets = batches[0]
    assert images.shape == (16, 64, 64, 3) and images.dtype.name == "uint8"
    assert targets["boxes"].shape == (16, 8, 4) and targets["classes"].shape == (16, 8)
    classes = targets["classes"].numpy()
    valid = classes >= 0
    assert valid.any() and set(np.unique(classes[valid])) <= {0.0, 1.0}
    boxes = targets["boxes"].numpy()[valid]
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes >= 0).all() and (boxes <= 64).all()
    assert (targets["boxes"].numpy()[~valid] == -1).all()


def test_stats_into_a_closed_pipe_ends_quietly(demo_data):
    """`kerasdet stats DATA | head -1`: the reader leaves early; no error line, exit 0."""
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "kerasdet", "stats", str(demo_data)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # closed before anything is written: every write meets a broken pipe
    err = proc.stderr.read()
    assert proc.wait() == 0 and "Broken pipe" not in err and "BrokenPipeError" not in err, err
