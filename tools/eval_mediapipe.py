"""MediaPipe Tasks' ObjectDetector vs kerasdet's TFLiteDetector on the same exported .tflite: the
same images, the same COCO evaluator, latency side by side.

    python tools/eval_mediapipe.py runs/mine/best_int8.tflite splits/mine/val.txt [--repeat 3] [--json out.json]
    python tools/eval_mediapipe.py runs/mine/best_int8.tflite splits/mine/val.txt --runtime web
    python tools/eval_mediapipe.py runs/mine/best_int8.tflite splits/mine/val.txt --frame-scale 2

`--frame-scale S`: each image first made a frame of S times the model's input (tools/resize_parity.py's
frame_at), as a camera of that resolution gives it, so each runtime shrinks it its own way; boxes
are mapped back to the image's pixels before scoring.

`--runtime web`: MediaPipe Tasks Vision for the web instead of MediaPipe in Python: the page
`kerasdet export --format web` writes, in Debian's headless Chromium (WebAssembly SIMD, the page's
image path), through tools/web_browser.py (needs chromium, node and `cd tests/web && npm ci`).

MediaPipe is not a kerasdet dependency: it pins its own OpenCV (opencv-contrib-python, which
clashes with kerasdet's opencv-python-headless). This tool runs it in a venv of its own, through
tools/mediapipe_worker.py: `--mediapipe-python PY` (or $KERASDET_MEDIAPIPE_PYTHON), else this
interpreter when it can import mediapipe, else `.venv-mediapipe/` at the project root, created on
first use (pip install mediapipe==MEDIAPIPE_VERSION, a few minutes). Images are decoded once
here (EXIF applied) and handed to both runtimes as RGB arrays, so only the runtimes differ:
MediaPipe stretches each frame to the model input, kerasdet letterboxes into it (the same when
the frame has the input's shape; images of other shapes are counted). Latency: `detect` on a decoded image, median over images
of each pass, then median of the passes; MediaPipe picks its own thread count (the machine's
cores are printed), TFLiteDetector uses --threads.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from kerasdet.core.postprocess import CONF  # noqa: E402 (light: no TensorFlow)

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("mediapipe_worker.py")
MEDIAPIPE_VERSION = "1.2.2"  # checked 2026-11-23: imports beside NumPy 2 on Python 3.11
MEDIAPIPE_VENV = ROOT / ".venv-mediapipe"
AGREEMENT_SCORE = CONF  # detections compared box by box: those a user would draw


def mediapipe_python(given: str | None) -> str:
    if given:
        return given
    try:
        import mediapipe  # noqa: F401 (only whether it imports)
        return sys.executable
    except ImportError:
        pass
    return venv_python(MEDIAPIPE_VENV, [f"mediapipe=={MEDIAPIPE_VERSION}"])


def venv_python(venv: Path, requirements: list[str]) -> str:
    """The Python of `venv`, created on first use with `requirements` installed (a few minutes)."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with {' '.join(requirements)} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    return str(python)


def run_mediapipe(python: str, model: Path, images: list[np.ndarray], class_names: list[str],
                  repeat: int) -> tuple[list, list[float]]:
    """(Detections per image, median ms of each pass) from MediaPipe's ObjectDetector."""
    passes = []
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "images.npz", *images)
        for _ in range(repeat):  # a process per pass: MediaPipe's start-up is not timed
            out = Path(tmp) / "out.json"
            done = subprocess.run([python, str(WORKER), str(model), str(Path(tmp) / "images.npz"), str(out)],
                                  capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"MediaPipe failed on {model}:\n{done.stderr[-3000:]}")
            result = json.loads(out.read_text())
            passes.append(statistics.median(result["ms"]))
    return to_detections(result["detections"], model, class_names), passes


def run_web(model: Path, images: list[np.ndarray], class_names: list[str], repeat: int) -> tuple[list, list[float]]:
    """(Detections per image, median ms of each pass) from the exported web page in headless Chromium: one
    page for every pass, its first pass (start-up, the first detection's set-up) not timed."""
    sys.path.insert(0, str(Path(__file__).parent))  # tools/, also when a test loads this file by its path
    from web_browser import run_images
    result = run_images(model, images, repeat=repeat + 1)
    return to_detections(result["detections"], model, class_names), [statistics.median(p) for p in result["passes"][1:]]


def to_detections(per_image: list, model: Path, class_names: list[str]) -> list:
    """mediapipe_worker.py's rows as Detections; the class by its name (MediaPipe leaves the index empty)."""
    from kerasdet.core.detections import Detections
    index = {name: i for i, name in enumerate(class_names)}
    detections = []
    for rows in per_image:
        unknown = {r[6] for r in rows} - set(index)
        if unknown:
            raise SystemExit(f"MediaPipe named classes {sorted(unknown)} that {model} does not have: {class_names}")
        detections.append(Detections(np.array([r[:4] for r in rows], np.float32).reshape(-1, 4),
                                     np.array([r[4] for r in rows], np.float32),
                                     np.array([index[r[6]] for r in rows], np.int32)))
    return detections


def run_kerasdet(model: Path, images: list[np.ndarray], threads: int, repeat: int) -> tuple[list, list[float]]:
    from kerasdet.runtime.tflite_detector import TFLiteDetector
    detector = TFLiteDetector(model, num_threads=threads)
    for image in images[:3]:
        detector.detect(image)  # warm-up
    passes = []
    for _ in range(repeat):
        detections, ms = [], []
        for image in images:
            start = time.perf_counter()
            detections.append(detector.detect(image))
            ms.append((time.perf_counter() - start) * 1e3)
        passes.append(statistics.median(ms))
    return detections, passes


def in_source_pixels(detections: list, frames: list[np.ndarray], sources: list[np.ndarray]) -> list:
    """Detections on `frames` mapped to the pixels of the `sources` they were made from."""
    from kerasdet.core.detections import Detections
    return [Detections(d.boxes * (s.shape[1] / f.shape[1]), d.scores, d.classes)
            for d, f, s in zip(detections, frames, sources)]


def agreement(a: list, b: list) -> dict:
    """Of `a`'s detections scoring >= AGREEMENT_SCORE, how many `b` has (same class, best IoU), and their IoU."""
    from kerasdet.core.detections import box_iou_matrix
    ious, missing = [], 0
    for x, y in zip(a, b):
        keep = x.scores >= AGREEMENT_SCORE
        for box, cls in zip(x.boxes[keep], x.classes[keep]):
            same = y.boxes[y.classes == cls]
            best = float(box_iou_matrix(box[None], same).max()) if len(same) else 0.0
            if best >= 0.5:
                ious.append(best)
            else:
                missing += 1
    return {"matched": len(ious), "missing": missing, "iou_mean": float(np.mean(ious)) if ious else None,
            "iou_min": float(np.min(ious)) if ious else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="an exported .tflite (kerasdet export)")
    parser.add_argument("data", help="a LabelImg data source (folder, list, FOLDER:SPLIT)")
    parser.add_argument("--runtime", choices=("python", "web"), default="python",
                        help="MediaPipe in Python, or the web page in headless Chromium (see above)")
    parser.add_argument("--mediapipe-python", help="a Python that imports mediapipe (default: see above)")
    parser.add_argument("--threads", type=int, default=2, help="TFLiteDetector's LiteRT threads")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the images, each runtime")
    parser.add_argument("--frame-scale", type=float, metavar="S",
                        help="hand the runtimes frames of S x the model's input (see above)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()

    from kerasdet.core.card import read_card
    from kerasdet.data import load_dataset
    from kerasdet.data.images import read_rgb
    from kerasdet.eval.metrics import coco_evaluate
    from kerasdet.runtime.tflite_detector import TFLiteDetector

    python = (mediapipe_python(args.mediapipe_python or os.environ.get("KERASDET_MEDIAPIPE_PYTHON"))
              if args.runtime == "python" else None)
    names = read_card(args.model).class_names
    records = load_dataset(args.data, names, on_error="skip").records
    images = [read_rgb(r.image_path, r.apply_exif) for r in records]
    height, width = TFLiteDetector(args.model).input_shape
    sources = images
    if args.frame_scale:
        from resize_parity import frame_at  # tools/
        images = [frame_at(im, (height, width), args.frame_scale) for im in images]
    other = sum(abs(im.shape[1] / im.shape[0] - width / height) > 0.01 for im in images)
    print(f"{args.model}: input {width}x{height}; {len(images)} images of {args.data}, {other} of another shape "
          f"(MediaPipe stretches those, kerasdet letterboxes them); {os.cpu_count()} cores", flush=True)

    kerasdet_dets, kerasdet_ms = run_kerasdet(args.model, images, args.threads, args.repeat)
    if args.runtime == "web":
        mediapipe_dets, mediapipe_ms = run_web(args.model, images, names, args.repeat)
    else:
        mediapipe_dets, mediapipe_ms = run_mediapipe(python, args.model, images, names, args.repeat)
    _, kerasdet_ms_after = run_kerasdet(args.model, images, args.threads, args.repeat)  # both sides of MediaPipe
    kerasdet_dets, mediapipe_dets = (in_source_pixels(d, images, sources) for d in (kerasdet_dets, mediapipe_dets))
    results = {"model": str(args.model), "data": str(args.data), "runtime": args.runtime, "images": len(images),
               "frame_scale": args.frame_scale, "frame_size": list(images[0].shape[1::-1]) if images else None,
               "images_of_another_shape": int(other), "cores": os.cpu_count()}
    for name, dets, ms in (("kerasdet", kerasdet_dets, kerasdet_ms + kerasdet_ms_after),
                           ("mediapipe", mediapipe_dets, mediapipe_ms)):
        m = coco_evaluate(records, dets, names)
        results[name] = {"map50": m["map50"], "map": m["map"], "ms_median": statistics.median(ms),
                         "ms_passes": [round(x, 2) for x in ms]}
    results["mediapipe_finds_kerasdet"] = agreement(kerasdet_dets, mediapipe_dets)
    results["kerasdet_finds_mediapipe"] = agreement(mediapipe_dets, kerasdet_dets)

    print(f"{'runtime':<28} {'mAP@0.5':>8} {'mAP@.5:.95':>11} {'ms/image':>9}")
    mediapipe = "MediaPipe web (Chromium)" if args.runtime == "web" else "MediaPipe ObjectDetector"
    for name, label in (("kerasdet", f"kerasdet TFLiteDetector ({args.threads} thr)"), ("mediapipe", mediapipe)):
        r = results[name]
        print(f"{label:<28} {r['map50']:8.3f} {r['map']:11.3f} {r['ms_median']:9.2f}")
    for key, text in (("mediapipe_finds_kerasdet", "kerasdet's detections >= {s} found by MediaPipe"),
                      ("kerasdet_finds_mediapipe", "MediaPipe's detections >= {s} found by kerasdet")):
        a = results[key]
        iou = f", IoU mean {a['iou_mean']:.3f} min {a['iou_min']:.3f}" if a["matched"] else ""
        print(f"{text.format(s=AGREEMENT_SCORE)}: {a['matched']} of {a['matched'] + a['missing']}{iou}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
