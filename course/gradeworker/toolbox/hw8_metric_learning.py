"""hw8's worker-side helper: a text file written in the worker's working folder (the CSV files the graders of
``CSVDataset`` hand to a student's class by path)."""
from __future__ import annotations

from pathlib import Path


def write_text(name: str, text: str) -> str:
    """Write ``text`` to ``name`` (a plain file name, in the working folder); returns the name."""
    if Path(name).name != name:
        raise ValueError(f"a plain file name is expected, not {name!r}")
    Path(name).write_text(text, encoding="utf-8")
    return name
