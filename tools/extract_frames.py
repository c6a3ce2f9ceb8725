"""Frames from recorded videos, as JPEG files ready for LabelImg: the same as `kerasdet frames`
(kerasdet/data/frames.py), kept as a script for those who start from the repository.

    python tools/extract_frames.py VIDEO [VIDEO ...] OUT [--every N | --fps F]
"""
from __future__ import annotations

import sys

from kerasdet.cli import main as kerasdet_main
from kerasdet.data.frames import GROUP_PATTERN, extract_frames  # noqa: F401 (the script's names, as before)


def main(argv: list[str] | None = None) -> int:
    return kerasdet_main(["frames", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
