"""k-fold cross-validation of a training recipe: the same as `kerasdet kfold` (kerasdet/train/kfold.py),
kept as a script for those who start from the repository.

    python tools/kfold.py CONFIG DATA --folds 3 [--name RECIPE] [--classes a,b] [--set KEY=VALUE ...]
                          [--seed 0] [--group REGEX] [--fold I] [--out runs/kfold]
"""
from __future__ import annotations

import sys

from kerasdet.cli import main as kerasdet_main


def main(argv: list[str] | None = None) -> int:
    return kerasdet_main(["kfold", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
