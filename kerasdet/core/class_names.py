"""Class names as text: one name per line (classes.txt in a run folder, labels.txt in a .tflite)."""
from __future__ import annotations

def class_names_to_text(names: list[str]) -> str:
    return "".join(name + "\n" for name in names)


def class_names_from_text(text: str) -> list[str]:
    return text.split("\n")[:-1]


def class_name(class_names: list[str], index: int) -> str:
    """The name of a class index, or the index itself when the names do not cover it."""
    return class_names[index] if 0 <= index < len(class_names) else str(index)
