"""torch's seeding, shared by the grader (its own inputs) and the worker (the student's stream)."""
from __future__ import annotations

import torch


def seed_torch(seed: int) -> None:
    """What ``torch.manual_seed`` does; on the CPU alone without the lazy CUDA seeding it queues, whose stack
    capture costs milliseconds per test."""
    if torch.cuda.is_initialized():
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)
