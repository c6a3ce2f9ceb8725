"""The speed / accuracy frontier: trained models of each preset, scored from their int8 files and
timed side by side, with MediaPipe Hands' latency measured in the same run; the README's table and
plot.

    python tools/frontier.py splits/hands/val.txt nano=runs/hands-nano1/best.keras \\
        small=runs/hands-small1/best.keras base=runs/hands1/best.keras \\
        [--mediapipe-hands-python PY] [--rounds 5] [--threads 2] [--out docs/frontier]

For each model: the fp32 and int8 .tflite beside the checkpoint (exported when missing, int8
calibrated on the training data its card names), COCO mAP of the int8 file on DATA, file size,
`Interpreter.invoke` of int8 and fp32 (the network with decoding and NMS, no Python), and end to
end `TFLiteDetector.detect` of the int8 file on DATA's decoded images (letterbox included). The
timings interleave: every round runs every model once, and MediaPipe Hands (palm detection +
hand landmarks, the models inside its wheel) on the same images, in `static_image_mode` (palm
detection on every frame, as kerasdet detects) and in video mode (hands tracked between the
frames, taken in DATA's order: consecutive frames of each recording for hands' lists), each in a
worker process (tools/mediapipe_hands_worker.py, in a venv of its own: `--mediapipe-hands-python`,
$KERASDET_MEDIAPIPE_HANDS_PYTHON, or `.venv-mediapipe-hands/`, created on first use). Medians of
the rounds. MediaPipe Hands cannot count fingers, so its accuracy is not measured here: the plot
shows the figures the project brief gives for it (MEDIAPIPE_HANDS_GIVEN).

Writes OUT.json, OUT.md (the table) and OUT.png (mAP@[.5:.95] and mAP@0.5 against end-to-end ms).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from bench_infer import exported  # noqa: E402  (tools/)
from eval_mediapipe import venv_python  # noqa: E402
from timing import invoke_ms  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("mediapipe_hands_worker.py")
MEDIAPIPE_HANDS_VERSION = "0.10.14"  # the last wheels with mp.solutions.hands' models inside; needs NumPy 1
MEDIAPIPE_HANDS_VENV = ROOT / ".venv-mediapipe-hands"
MEDIAPIPE_HANDS_GIVEN = {"map50": 0.94, "map": 0.70, "ms": 22.0}  # the project brief's figures, 2 cores
INVOKE_RUNS = 30  # invokes per model and round


def hands_python(given: str | None) -> str:
    return given or venv_python(MEDIAPIPE_HANDS_VENV, [f"mediapipe=={MEDIAPIPE_HANDS_VERSION}", "numpy<2"])


def network_shape(card, file_shape: tuple[int, int]) -> str:
    """' (network 320x256)' where the file pads its input to another shape inside, else ''."""
    from kerasdet.core.input_size import InputSize
    size = InputSize.of(card.input_size)
    return "" if size.hw == tuple(file_shape) else f" (network {size})"


def detect_ms(detector, images) -> float:
    times = []
    for image in images:
        start = time.perf_counter()
        detector.detect(image)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def hands_ms(python: str, images_npz: Path, track: bool) -> float:
    """One pass of MediaPipe Hands over the images (a fresh process: its start-up is not timed)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        done = subprocess.run([python, str(WORKER), str(images_npz), str(out)] + (["--track"] if track else []),
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"MediaPipe Hands failed:\n{done.stderr[-3000:]}")
        return statistics.median(json.loads(out.read_text())["ms"][-1])


def plot(rows: list[dict], hands: dict | None, path: Path, threads: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "map", "mAP@[.5:.95]"), (axes[1], "map50", "mAP@0.5")):
        ms = [r["detect_ms"] for r in rows]
        ax.plot(ms, [r[key] for r in rows], "o-", label="kerasdet int8 presets")
        for r in rows:
            ax.annotate(f"{r['name']} ({r['mb']:.1f} MB)", (r["detect_ms"], r[key]), textcoords="offset points",
                        xytext=(5, -12))
        if hands:
            ax.plot([hands["ms"]], [MEDIAPIPE_HANDS_GIVEN[key]], "s", color="tab:red",
                    label="MediaPipe Hands, every frame (ms measured here, mAP as given)")
            ax.plot([hands["track_ms"]], [MEDIAPIPE_HANDS_GIVEN[key]], "s", mfc="none", color="tab:red",
                    label="MediaPipe Hands, tracking")
        ax.set_xlabel(f"ms per frame, end to end ({threads} thread{'s' if threads > 1 else ''})")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    # below the plots: inside, it covered a preset's label wherever the curve passed
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def table(rows: list[dict], hands: dict | None) -> str:
    """The README's table; without `hands` (--no-mediapipe) its MediaPipe column and rows are left out."""
    header = ("| preset | input | params | int8 MB | mAP@0.5 | mAP@[.5:.95] | invoke int8 ms | invoke fp32 ms | "
              "int8 / fp32 | end-to-end ms | int8 vs base |" + (" vs MediaPipe Hands (every frame / tracking) |" if hands else ""))
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    base = next((r for r in rows if r["name"] == "base"), None)
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['input']} | {r['params'] / 1e6:.2f} M | {r['mb']:.2f} | {r['map50']:.3f} | "
            f"{r['map']:.3f} | {r['invoke_int8_ms']:.2f} | {r['invoke_fp32_ms']:.2f} | "
            f"{r['invoke_int8_ms'] / r['invoke_fp32_ms']:.2f} | {r['detect_ms']:.2f} | "
            + (f"{r['invoke_int8_ms'] / base['invoke_int8_ms']:.2f}x |" if base else "- |")
            + (f" {hands['ms'] / r['detect_ms']:.1f}x / {hands['track_ms'] / r['detect_ms']:.1f}x faster |"
               if hands else ""))
    for mode, key in (("every frame", "ms"), ("tracking", "track_ms")) if hands else ():
        lines.append(f"| MediaPipe Hands, {mode} | 2 models | | | {MEDIAPIPE_HANDS_GIVEN['map50']} (given) | "
                     f"{MEDIAPIPE_HANDS_GIVEN['map']} (given) | | | | {hands[key]:.2f} | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="held-out LabelImg data (folder, list, FOLDER:SPLIT)")
    parser.add_argument("models", nargs="+", metavar="NAME=CHECKPOINT", help="e.g. nano=runs/hands-nano1/best.keras")
    parser.add_argument("--mediapipe-hands-python", help="a Python that imports mediapipe 0.10 (default: see above)")
    parser.add_argument("--no-mediapipe", action="store_true", help="leave MediaPipe Hands out")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "frontier")
    args = parser.parse_args()

    from ai_edge_litert.interpreter import Interpreter

    from kerasdet.core.card import read_card
    from kerasdet.data import load_dataset
    from kerasdet.data.images import read_rgb
    from kerasdet.eval.evaluate import evaluate
    from kerasdet.models.detector import count_params
    from kerasdet.models.load import load_model
    from kerasdet.runtime.tflite_detector import TFLiteDetector

    models = dict(item.split("=", 1) for item in args.models)
    rows, runners = [], []
    for name, checkpoint in models.items():
        files = exported(Path(checkpoint), ("fp32", "int8"))
        card = read_card(files["int8"])
        metrics = evaluate(files["int8"], args.data)
        keras_model, _ = load_model(checkpoint)
        height, width = TFLiteDetector(files["int8"]).input_shape
        rows.append({"name": name, "checkpoint": str(checkpoint),
                     "input": f"{width}x{height}" + network_shape(card, (height, width)),
                     "alpha": card.alpha, "params": count_params(keras_model), "map50": metrics["map50"],
                     "map": metrics["map"], "mb": files["int8"].stat().st_size / 1e6})
        interpreters = {}
        for fmt, path in files.items():
            interpreters[fmt] = Interpreter(model_path=str(path), num_threads=args.threads)
            interpreters[fmt].allocate_tensors()
        runners.append((interpreters, TFLiteDetector(files["int8"], num_threads=args.threads)))
        print(f"{name}: {files['int8']}: mAP@0.5 {metrics['map50']:.3f}, mAP@[.5:.95] {metrics['map']:.3f}", flush=True)

    records = load_dataset(args.data, card.class_names, on_error="skip").records
    images = [read_rgb(r.image_path, r.apply_exif) for r in records]
    python = None if args.no_mediapipe else hands_python(
        args.mediapipe_hands_python or os.environ.get("KERASDET_MEDIAPIPE_HANDS_PYTHON"))
    timings = {key: [[] for _ in rows] for key in ("invoke_int8_ms", "invoke_fp32_ms", "detect_ms")}
    hands_rounds = {"ms": [], "track_ms": []}
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "images.npz"
        np.savez(npz, *images)
        for round_ in range(args.rounds):
            for i, (interpreters, detector) in enumerate(runners):
                timings["invoke_int8_ms"][i].append(invoke_ms(interpreters["int8"], INVOKE_RUNS))
                timings["invoke_fp32_ms"][i].append(invoke_ms(interpreters["fp32"], INVOKE_RUNS))
                timings["detect_ms"][i].append(detect_ms(detector, images))
            if python:
                hands_rounds["ms"].append(hands_ms(python, npz, track=False))
                hands_rounds["track_ms"].append(hands_ms(python, npz, track=True))
            print(f"round {round_ + 1}/{args.rounds}: " + ", ".join(
                f"{r['name']} {timings['detect_ms'][i][-1]:.2f} ms" for i, r in enumerate(rows))
                + (f", MediaPipe Hands {hands_rounds['ms'][-1]:.2f} ms (tracking {hands_rounds['track_ms'][-1]:.2f})"
                   if python else ""), flush=True)
    for key, per_model in timings.items():
        for row, values in zip(rows, per_model):
            row[key] = statistics.median(values)
            row[key + "_rounds"] = [round(v, 3) for v in values]
    hands = None  # --no-mediapipe: a hand detector has no place beside other data's models
    if python:
        hands = {}
        for key, values in hands_rounds.items():
            hands[key] = statistics.median(values)
            hands[key + "_rounds"] = [round(v, 2) for v in values]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = table(rows, hands)
    print(text)
    args.out.with_suffix(".md").write_text(text + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(
        {"data": args.data, "images": len(images), "threads": args.threads, "rounds": args.rounds,
         "cores": os.cpu_count(), "models": rows, "mediapipe_hands": hands}, indent=1))
    plot(rows, hands, args.out.with_suffix(".png"), args.threads)
    print(f"wrote {args.out.with_suffix('.md')}, .json, .png")


if __name__ == "__main__":
    main()
