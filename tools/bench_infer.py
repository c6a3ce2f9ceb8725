"""Benchmark: single-image latency of a trained detector, Keras vs TFLite fp32 / fp16 / int8.

    python tools/bench_infer.py RUN_DIR/best.keras [--runs 50] [--threads 1 2] [--calib DATA]

Exports the three .tflite formats beside the checkpoint if they are missing, then times one
uint8 image of each file's input shape end to end inside each model (decoding and NMS included; letterboxing is
not, it is the same for all): median of --runs after warm-up, for each thread count, all in one
process so the ratios are side by side. Also prints file sizes. `--builtin-kernels` adds each file
run by LiteRT's built-in kernels instead of XNNPACK (the default delegate), to see whether another
kernel library runs int8 faster on this CPU.
"""
from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from timing import median_ms  # noqa: E402  (tools/timing.py)


def exported(model_path: Path, formats: tuple[str, ...], calib: str | None = None) -> dict[str, Path]:
    """MODEL_<fmt>.tflite beside the checkpoint for each format, exported when missing."""
    from kerasdet.tflite.convert import export
    files = {}
    for fmt in formats:
        path = model_path.with_name(f"{model_path.stem}_{fmt}.tflite")
        files[fmt] = path if path.exists() else export(model_path, fmt, calib, path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a .keras checkpoint in a run folder")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--calib", help="int8 calibration images (default: the run's training data)")
    parser.add_argument("--builtin-kernels", action="store_true",
                        help="also time each file without XNNPACK (OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)")
    args = parser.parse_args()

    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from kerasdet.core.input_size import InputSize
    from kerasdet.models.load import load_model
    from kerasdet.tflite.serving import serving_function

    model_path = Path(args.model)
    files = exported(model_path, ("fp32", "fp16", "int8"), args.calib)
    model, card = load_model(model_path)
    model_h, model_w = InputSize.of(card.input_size).hw
    image = np.random.default_rng(0).integers(0, 255, (1, model_h, model_w, 3), dtype=np.uint8)
    print(f"{model_path} at {model_w}x{model_h} (a file: its input inside that), batch 1, {os.cpu_count()} cores; "
          f"median of {args.runs} runs")
    print(f"{'model':<22} {'threads':>7} {'ms':>8} {'FPS':>7} {'MB':>7}")
    serve = serving_function(model, card)  # the same graph that is converted, run by TensorFlow
    tensor = tf.constant(image)
    ms = median_ms(lambda: serve(tensor), args.runs, warmup=5)
    print(f"{'keras (tf.function)':<22} {'all':>7} {ms:8.2f} {1000 / ms:7.1f} {model_path.stat().st_size / 1e6:7.2f}")
    kernels = {"": OpResolverType.AUTO}  # XNNPACK, as deployed
    if args.builtin_kernels:
        kernels[", builtin"] = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    for threads, (fmt, path), (suffix, resolver) in itertools.product(args.threads, files.items(), kernels.items()):
        interpreter = Interpreter(model_path=str(path), num_threads=threads, experimental_op_resolver_type=resolver)
        interpreter.allocate_tensors()
        (tensor,) = interpreter.get_input_details()
        _, height, width, _ = tensor["shape"]

        def run():
            interpreter.set_tensor(tensor["index"], image[:, :height, :width])
            interpreter.invoke()

        ms = median_ms(run, args.runs, warmup=5)
        print(f"{'tflite ' + fmt + suffix:<22} {threads:>7} {ms:8.2f} {1000 / ms:7.1f} {path.stat().st_size / 1e6:7.2f}")


if __name__ == "__main__":
    main()
