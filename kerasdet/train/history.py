"""Per-epoch history of a run: metrics.csv, TensorBoard scalars and results.png."""
from __future__ import annotations

import math
import time

import pandas as pd
import tensorflow as tf

from .run_folder import RunFolder

NOT_PLOTTED = ("epoch", "seconds", "val_seconds")


class RunHistory:
    """`log` writes the CSV and TensorBoard every epoch and redraws results.png at most every
    `plot_every_s` seconds (matplotlib takes about a second); `plot` draws it now."""

    def __init__(self, run: RunFolder, plot_every_s: float = 30.0):
        self.run = run
        self.csv = run / run.METRICS
        self.rows: list[dict] = pd.read_csv(self.csv).to_dict("records") if self.csv.exists() else []
        self.writer = tf.summary.create_file_writer(str(run / run.TENSORBOARD))
        run.record(run.TENSORBOARD)
        self.plot_path = run / run.PLOT
        self.plot_every_s, self._plotted = plot_every_s, -math.inf

    def log(self, row: dict) -> None:
        self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]  # resume rewrites
        self.run.write(self.run.METRICS, lambda p: pd.DataFrame(self.rows).to_csv(p, index=False))
        with self.writer.as_default(step=int(row["epoch"])):
            for key, value in row.items():
                if key != "epoch" and value == value:  # skip NaN (epochs without evaluation)
                    tf.summary.scalar(key, value)
        self.writer.flush()
        if time.monotonic() - self._plotted >= self.plot_every_s:
            self.plot()

    def plot(self) -> None:
        self._plotted = time.monotonic()
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        df = pd.DataFrame(self.rows)
        keys = [k for k in df.columns if k not in NOT_PLOTTED]  # loss terms, metrics, lr: as logged
        fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3))
        for ax, key in zip(axes, keys):
            series = df[["epoch", key]].dropna()
            ax.plot(series.epoch, series[key], marker="o", markersize=3)
            ax.set_title(key)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
        fig.tight_layout()
        self.run.write(self.run.PLOT, lambda p: fig.savefig(p, dpi=90))
        plt.close(fig)
