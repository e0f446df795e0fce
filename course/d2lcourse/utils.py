"""Small training utilities from d2l: a sample-weighted accumulator, a timer, a progress bar."""
from __future__ import annotations

import os
import time
from typing import Iterable, TypeVar

T = TypeVar("T")


class Accumulator:
    """Sums over n variables, e.g. (total loss, correct predictions, examples) over an epoch."""

    def __init__(self, n: int):
        self.data = [0.0] * n

    def add(self, *args: float) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


class Timer:
    """Record several running times (d2l's Timer)."""

    def __init__(self):
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        self.tik = time.perf_counter()

    def stop(self) -> float:
        self.times.append(time.perf_counter() - self.tik)
        return self.times[-1]

    def avg(self) -> float:
        return sum(self.times) / len(self.times)

    def sum(self) -> float:
        return sum(self.times)

    def cumsum(self) -> list[float]:
        out, total = [], 0.0
        for t in self.times:
            total += t
            out.append(total)
        return out


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None, leave: bool = False) -> Iterable[T]:
    """A tqdm progress bar in notebooks and terminals; silent when TQDM_DISABLE is set (grading)."""
    if os.environ.get("TQDM_DISABLE"):
        return iterable
    from tqdm.auto import tqdm
    return tqdm(iterable, desc=desc, total=total, leave=leave)
