"""Shared by the benchmarks: the median wall time of a call, after warm-up, and of a .tflite invoke."""
from __future__ import annotations

import statistics
import time

import numpy as np


def median_ms(fn, runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def invoke_ms(interpreter, runs: int) -> float:
    """`Interpreter.invoke` alone (the network with decoding and NMS, no Python around it) on a
    random uint8 image of the file's input shape."""
    (tensor,) = interpreter.get_input_details()
    interpreter.set_tensor(tensor["index"], np.random.default_rng(0).integers(0, 255, tensor["shape"], np.uint8))
    return median_ms(interpreter.invoke, runs, warmup=1)
