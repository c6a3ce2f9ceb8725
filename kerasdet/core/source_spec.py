"""A data source as users write it: a path, or `FOLDER:SPLIT` (`VOCdevkit/VOC2007:trainval`)."""
from __future__ import annotations

import re
from pathlib import Path


def split_source(spec: str | Path) -> tuple[Path, str | None]:
    """'DIR:SPLIT' -> (DIR, SPLIT) when DIR is a folder, SPLIT a plain name and 'DIR:SPLIT' itself no file;
    anything else -> (Path(spec), None). A Windows drive ('C:\\data') is never taken for a split."""
    spec = str(spec)
    head, sep, tail = spec.rpartition(":")
    if sep and head and re.fullmatch(r"[\w.-]+", tail) and not Path(spec).exists() and Path(head).is_dir():
        return Path(head), tail
    return Path(spec), None


def join_source(path: str | Path, split: str | None) -> str:
    return f"{path}:{split}" if split else str(path)
