"""Several students' trainings on one GPU at once: which GPU a pool slot uses, and its share of the memory.

hw7 trains one small model per student: a small CNN on 28x28 images uses a few percent of a modern GPU,
so one submission per GPU leaves it mostly idle (500 students x a 120 s budget = 17 GPU-hours). With
``autograder batch --gpu-slots N`` the pool runs N slots per visible GPU: slot k uses GPU
``k // N`` (its ``CUDA_VISIBLE_DEVICES`` names that one card alone) and its workers cap their CUDA memory
at 1/N of the card (``torch.cuda.set_per_process_memory_fraction``, applied in the worker before any
student code runs: a submission that allocates more gets an out-of-memory error of its own, and the other
slots on that card keep theirs). Each slot keeps its own sandboxed workers, uid and cgroup as on the CPU.
The plan is plain arithmetic on the slot number, so it is tested on the CPU; what it buys is measured by
``benchmarks/gpu_check.py`` on a GPU machine (docs/capacity.md).
"""
from __future__ import annotations

import os

SLOTS_ENV = "AUTOGRADER_GPU_SLOTS"  # set by the driver for its pool processes: slots per GPU
FRACTION_ENV = "AUTOGRADER_GPU_MEMORY_FRACTION"  # set per slot, passed to the worker (launcher.PASSED_ENV)


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as CUDA_VISIBLE_DEVICES names them (or 0..n-1 as torch counts them)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [v.strip() for v in visible.split(",") if v.strip() and v.strip() != "-1"]
    import torch
    return [str(i) for i in range(torch.cuda.device_count())]


def plan(slot: int, gpus: list[str], per_gpu: int) -> dict[str, str]:
    """The environment of pool slot ``slot`` when ``per_gpu`` slots share each of ``gpus``."""
    if per_gpu < 1:
        raise ValueError(f"--gpu-slots must be at least 1, not {per_gpu}")
    if not gpus:
        return {}
    card = gpus[(slot // per_gpu) % len(gpus)]
    return {"CUDA_VISIBLE_DEVICES": card, FRACTION_ENV: f"{1.0 / per_gpu:.6f}"}


def slots_for(per_gpu: int, gpus: list[str] | None = None) -> int:
    """How many pool slots ``--gpu-slots per_gpu`` makes: per_gpu on each visible GPU."""
    gpus = visible_gpus() if gpus is None else gpus
    return max(1, per_gpu * len(gpus))


def apply_in_pool_process(slot: int) -> None:
    """In a pool process, once: take this slot's GPU and memory share when the driver asked for GPU slots."""
    per_gpu = os.environ.get(SLOTS_ENV)
    if per_gpu:
        os.environ.update(plan(slot, visible_gpus(), int(per_gpu)))


def slot_environment(job: object) -> tuple[dict, dict]:
    """A pool task that reports the GPU environment its slot got (for tests and ``--dry-run``-like checks)."""
    return {"CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
            FRACTION_ENV: os.environ.get(FRACTION_ENV), "pid": os.getpid()}, {}
