"""Shared by the benchmarks: the median wall time of a call, after warm-up."""
from __future__ import annotations

import statistics
import time


def median_ms(fn, runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
