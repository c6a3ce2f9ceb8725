"""`kerasdet demo`: the whole job on synthetic data the project makes itself."""
from __future__ import annotations

import json
from pathlib import Path

from .config import load_config
from .data.preview import preview_augmentations
from .data.split import split_dataset
from .data.stats import dataset_stats, format_stats, plot_stats
from .data.synthetic import make_demo_dataset

DEMO_CONFIG = Path(__file__).parent / "demo.yaml"  # configs/demo.yaml is the same file for users


def run_demo(out: str | Path = "runs/demo", n: int = 300, epochs: int | None = None) -> dict:
    out = Path(out)
    data = make_demo_dataset(out / "data", n=n, seed=0)
    print(f"[1] synthetic LabelImg data: {n} images + XML in {data}")
    splits = split_dataset(data, out / "splits", val=0.2, test=0.0, group=r"^(scene\d+)_", seed=0)
    print(f"[2] split by scene: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
    stats = dataset_stats(data)
    plot_stats(stats, out / "stats.png")
    print("[3] dataset stats (plots in " + str(out / "stats.png") + ")\n" + format_stats(stats))
    overrides = [f"data.train={(out / 'splits' / 'train.txt').resolve()}",
                 f"data.val={(out / 'splits' / 'val.txt').resolve()}"]
    if epochs is not None:
        overrides.append(f"train.epochs={epochs}")
    cfg = load_config(DEMO_CONFIG, overrides)
    cfg.save(out / "config.yaml")
    preview = preview_augmentations(cfg, out / "preview.png")
    print(f"[4] augmented training batch as the model sees it: {preview}")
    summary = {"data": str(data), "config": str(out / "config.yaml"), "stats_plot": str(out / "stats.png"),
               "preview": str(preview)}
    (out / "demo_summary.json").write_text(json.dumps(summary, indent=2))
    print(f"done: everything is in {out}/")
    return summary



