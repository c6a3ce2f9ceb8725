"""Benchmark: .tflite files timed side by side, `Interpreter.invoke` only, with XNNPACK as deployed.

    python tools/bench_tflite.py A.tflite B.tflite ... [--threads 2 1] [--rounds 7] [--runs 20]

For exports of one model against each other: int8 against fp32, or `kerasdet export --keep-float`
variants. Every round invokes each file --runs times (median) on a random uint8 image of its
input shape; rounds interleave the files, so a slow minute of the host touches all alike. Printed:
the median of the rounds for each file and thread count, its ratio to the first file, and the
file's size. (tools/frontier.py times checkpoints' int8 and fp32 files the same way, with mAP;
tools/profile_tflite.py splits a file's time op by op.)
"""
from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from timing import invoke_ms  # noqa: E402  (tools/timing.py)


def side_by_side(files: list[Path], threads: int, rounds: int, runs: int) -> list[list[float]]:
    """Per file, the ms of each round."""
    from ai_edge_litert.interpreter import Interpreter
    interpreters = [Interpreter(model_path=str(path), num_threads=threads) for path in files]
    for interpreter in interpreters:
        interpreter.allocate_tensors()
    times = [[] for _ in files]
    for _ in range(rounds):
        for interpreter, per_file in zip(interpreters, times):
            per_file.append(invoke_ms(interpreter, runs))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path, help=".tflite files; ratios are to the first")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=20, help="invokes per file and round")
    args = parser.parse_args()
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    width = max(len(str(f)) for f in args.files)
    print(f"{os.cpu_count()} cores; median of {args.rounds} interleaved rounds of {args.runs} invokes")
    print(f"{'file':<{width}} {'threads':>7} {'ms':>8} {'ratio':>6} {'MB':>6}")
    for threads in args.threads:
        times = side_by_side(args.files, threads, args.rounds, args.runs)
        first = statistics.median(times[0])
        for path, per_file in zip(args.files, times):
            ms = statistics.median(per_file)
            print(f"{str(path):<{width}} {threads:>7} {ms:8.2f} {ms / first:6.2f} {path.stat().st_size / 1e6:6.2f}")


if __name__ == "__main__":
    main()
