"""`kerasdet demo`: the whole job on synthetic data the project makes itself."""
from __future__ import annotations

import json
from pathlib import Path

from .config import load_config
from .core.files import claim_folder, write_text
from .data.preview import preview_augmentations
from .data.split import split_dataset
from .data.stats import dataset_stats, format_stats, plot_stats
from .data.synthetic import make_demo_dataset, make_demo_video

DEMO_CONFIG = Path(__file__).parent / "demo.yaml"  # configs/demo.yaml is the same file for users


def run_demo(out: str | Path = "runs/demo", n: int = 300, epochs: int | None = None) -> dict:
    out = claim_folder(out, "kerasdet demo")  # a second demo replaces the first one's files, nothing else
    data = make_demo_dataset(out / "data", n=n, seed=0)
    print(f"[1] synthetic LabelImg data: {n} images + XML in {data}")
    splits = split_dataset(data, out / "splits", val=0.2, test=0.0, group=r"^(scene\d+)_", seed=0)
    print("[2] split by scene: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
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
    from .train import RunFolder, fit  # TensorFlow loads here, after the quick data steps
    print(f"[5] training {cfg.model.arch} on {cfg.model.backbone} (alpha {cfg.model.alpha}, "
          f"input {cfg.model.input_size}, from scratch) for {cfg.train.epochs} epochs")
    result = fit(cfg, out=out / "train", exist_ok=True)  # the demo's own folder: a second demo starts over
    best = result.best_metrics
    print(f"[6] validation, best epoch {result.best_epoch}: mAP@0.5 {best['map50']:.3f}, "
          f"mAP@[.5:.95] {best['map']:.3f}\n{best['summary']}")
    from .eval.evaluate import evaluate
    from .tflite.convert import export
    int8 = export(result.run_dir / RunFolder.BEST, "int8")
    int8_metrics = evaluate(int8, cfg.data.val, plots=out / "plots")
    print(f"[7] int8 TFLite model (uint8 image in, NMS inside): {int8}\n    validation from the int8 file: "
          f"mAP@0.5 {int8_metrics['map50']:.3f}, mAP@[.5:.95] {int8_metrics['map']:.3f} "
          f"(float: {best['map50']:.3f}, {best['map']:.3f})\n    {int8_metrics.mistakes}\n    its PR "
          f"curves, confusion matrix, truth | prediction pictures (worst first) and mistakes: "
          f"{', '.join(int8_metrics.plots)}")
    video = out / "demo_video.mp4"
    make_demo_video(video, frames=150)
    print(f"[8] a synthetic video to try the real-time demo on:\n    kerasdet cam {int8} "
          f"{video} --headless --save {out / 'demo_annotated.mp4'}\n    (or 0 instead of the video for a webcam, "
          f"with an OpenCV build that has windows)")
    summary = {"data": str(data), "config": str(out / "config.yaml"), "stats_plot": str(out / "stats.png"),
               "preview": str(preview), "run_dir": str(result.run_dir), "map50": best["map50"],
               "map": best["map"], "plots": int8_metrics.plots, "int8_model": str(int8),
               "int8_map50": int8_metrics["map50"], "int8_map": int8_metrics["map"], "video": str(video)}
    write_text(out / "demo_summary.json", json.dumps(summary, indent=2))
    print(f"done: everything is in {out}/")
    return summary
