"""TF Object Detection API `label_map.pbtxt`: `item { id: 1 name: 'cat' }`, ids from 1 (0 is background).

A tiny reader for the only message this file holds; it needs no protobuf schema from the old API.
"""
from __future__ import annotations

import re
from pathlib import Path

from ...core.files import write_text
from ..errors import DataError, DataProblem

_ITEM = re.compile(r"item\s*\{(.*?)\}", re.S)
_FIELD = re.compile(r"(\w+)\s*:\s*(\"[^\"]*\"|'[^']*'|[^\s}]+)")


def read_label_map(path: str | Path) -> list[str]:
    """Class names in id order; ids must be 1..N without gaps, as kerasdet's class indices are."""
    path = Path(path)
    text = path.read_text()
    entries, problems = {}, []
    for match in _ITEM.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        fields = {k: v.strip("'\"") for k, v in _FIELD.findall(match.group(1))}
        name = fields.get("name") or fields.get("display_name")
        if not name or not fields.get("id", "").isdigit():
            problems.append(DataProblem(str(path), f"item without a numeric id and a name: {fields}", line))
            continue
        entries[int(fields["id"])] = name
    if not entries and not problems:
        problems.append(DataProblem(str(path), "no `item { id: N name: '...' }` entries"))
    if entries and sorted(entries) != list(range(1, len(entries) + 1)):
        problems.append(DataProblem(str(path), f"ids {sorted(entries)} are not 1..{len(entries)}"))
    if problems:
        raise DataError(problems)
    return [entries[i] for i in sorted(entries)]


def write_label_map(class_names: list[str], path: str | Path) -> Path:
    """Through core/files.py: a file of the user's is refused, not replaced."""
    return write_text(path, "".join(f"item {{\n  id: {i}\n  name: {_quoted(name)}\n}}\n"
                                    for i, name in enumerate(class_names, 1)))


def _quoted(name: str) -> str:
    """'cat', or "cat's toy": a name holding a single quote is written in double quotes, read back whole."""
    return f'"{name}"' if "'" in name else f"'{name}'"
