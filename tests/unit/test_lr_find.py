"""The learning-rate range test: its maths, and `kerasdet lr-find` on the tiny project."""
import csv

import numpy as np
import pytest

from kerasdet.cli import main
from kerasdet.train.lr_find import CSV, DIVERGED, PLOT, diverged, smooth, suggest
from kerasdet.train.schedule import ExponentialRamp, ramp_rate

from conftest import tiny_config


def test_the_ramp_is_exponential_from_start_to_end_and_the_schedule_follows_it():
    rates = [ramp_rate(step, 5, 1e-4, 1.0) for step in range(5)]
    np.testing.assert_allclose(rates, [1e-4, 1e-3, 1e-2, 1e-1, 1.0], rtol=1e-9)
    schedule = ExponentialRamp(1e-4, 1.0, 5)
    np.testing.assert_allclose([float(schedule(step)) for step in range(5)], rates, rtol=1e-5)


def test_smoothing_is_unbiased_and_the_suggestion_is_a_tenth_of_the_minimum():
    np.testing.assert_allclose(smooth([2.0, 2.0, 2.0]), [2.0, 2.0, 2.0])  # no pull towards 0 at the start
    rates = np.logspace(-5, 0, 51)
    loss = 1 + (np.log10(rates) + 2) ** 2  # lowest at 1e-2
    assert suggest(rates, loss) == pytest.approx(1e-3)
    assert not diverged(loss[:40])
    assert diverged(np.append(loss[:40], DIVERGED * 1.01))
    assert diverged(np.append(loss[:40], np.nan))


def test_cli_lr_find_writes_the_curve_and_suggests_a_rate(tiny_project, tmp_path, capsys):
    out = tmp_path / "lr"
    main(["lr-find", str(tiny_config(tiny_project, 1)), "--steps", "8", "--start", "1e-4", "--end", "1e3",
          "--out", str(out)])
    printed = capsys.readouterr().out
    assert "suggested train.learning_rate:" in printed and str(out / PLOT) in printed
    assert (out / PLOT).stat().st_size > 10_000
    rows = list(csv.DictReader((out / CSV).open()))
    rates = [float(r["lr"]) for r in rows]
    assert rates[0] == pytest.approx(1e-4) and np.all(np.diff(rates) > 0) and len(rows) <= 8
    assert all(np.isfinite(float(r["loss"])) or i == len(rows) - 1 for i, r in enumerate(rows))
    suggested = float(printed.split("suggested train.learning_rate: ")[1].split()[0])
    assert 1e-5 <= suggested <= rates[-1] / 10


def test_lr_find_ramps_at_the_size_training_starts_at(tiny_project, tmp_path):
    from kerasdet.config import load_config
    from kerasdet.core.input_size import InputSize
    from kerasdet.train.lr_find import lr_find

    cfg = load_config(tiny_config(tiny_project, 3, progressive_epochs=2))
    result = lr_find(cfg, steps=3, out=tmp_path / "lr", quiet=True)
    assert cfg.model.input_size == 96 and result.input_size == InputSize(64, 64) and len(result.losses) == 3
