"""Problems found in a user's data, each naming the file (and line) and what is wrong."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataProblem:
    file: str
    message: str
    line: int | None = None
    needs_decision: bool = True  # False: nothing the user could decide (a box of no area): left out by default

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class DataError(ValueError):
    """Raised for bad input data; `problems` lists every problem found, not only the first."""

    def __init__(self, problems: list[DataProblem], hint: str = ""):
        self.problems = list(problems)
        shown = "\n  ".join(str(p) for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} in the data"
        listed = f"{count}:\n  {shown}{more}" if self.problems else ""
        super().__init__("\n".join(part for part in (listed, hint) if part))
