"""Forbidden ATen operators caught at PyTorch's dispatcher, on every thread, whatever the route.

Every way of reaching an operator (``torch.softmax``, a Tensor method, ``functools.partial``, ``map``,
``operator.methodcaller``, a thread started while the notebook loaded, TorchScript's interpreter,
``torch.ops.aten._softmax.default._op``, a graph compiled with an eager backend) ends with the
dispatcher calling the operator's backend kernel. For each forbidden operator, ``install`` registers
in front of that kernel (``torch.library``, namespace ``aten``, one backend key at a time) a kernel of
its own that notes the call while a monitored call is running, then hands over to the original kernel
(``torch.library.get_kernel``, PyTorch 2.9 and later). Operators that only decompose into others
(``CompositeImplicitAutograd``: ``softmax.int``, ``linalg_pinv``) are caught through what they
decompose into; a kernel of their own would change how autograd sees them.

The state lives only in closure cells of the two functions ``install`` returns, which the worker keeps
to itself: no module attribute and no object in the student's namespace leads to it.
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Callable, Iterable

import torch

from .cache import read_json, write_json

# Where a forbidden operator's real work can happen; keys an operator has no kernel for are skipped.
BACKEND_KEYS = ("CPU", "CUDA", "SparseCPU", "SparseCUDA", "SparseCsrCPU", "SparseCsrCUDA", "NestedTensorCPU",
                "NestedTensorCUDA", "QuantizedCPU", "QuantizedCUDA")
_ALIASES = {"F.": "torch.nn.functional.", "nn.": "torch.nn.", "Tensor.": "torch.Tensor."}


def op_base(name: str) -> str:
    """``aten::_log_softmax.default`` -> ``log_softmax``; ``linalg_lstsq`` -> ``lstsq``; ``relu_`` -> ``relu``."""
    base = name.split("::")[-1].split(".")[0].strip("_")
    for prefix in ("linalg_", "special_"):
        base = base.removeprefix(prefix)
    return base


def aten_packets() -> list[str]:
    """The names of all ATen operators (``_softmax``, ``linalg_lstsq``, ...), without overloads."""
    names = {n[len("aten::"):].split(".")[0] for n in torch._C._dispatch_get_all_op_names() if n.startswith("aten::")}
    return sorted(names)


def operators_of(name: str, packets: list[str], by_base: dict[str, list[str]]) -> list[str]:
    """The ATen operators a forbidden name stands for.

    ``torch.ops.aten.<glob>`` names operators directly; any other lower-case ``torch`` name (``F.softmax``,
    ``Tensor.logsumexp``, ``torch.special.softmax``, ``torch.relu_``) stands for every operator with the
    same base name (``softmax``, ``_softmax``, ``special_softmax``). Classes, NumPy and SciPy stand for none.
    """
    full = name
    for short, long in _ALIASES.items():
        if name.startswith(short):
            full = long + name[len(short):]
    if full.startswith("torch.ops.aten."):
        pattern = full[len("torch.ops.aten."):]
        return [p for p in packets if fnmatch.fnmatchcase(p, pattern) and "backward" not in p]
    last = full.rsplit(".", 1)[-1]
    if full.startswith("torch.") and last.lstrip("_")[:1].islower() and "*" not in last:
        return by_base.get(op_base(last), [])
    return []


_INDEX: list = []  # [(packets, by_base)] once built: the fork server builds it, every worker inherits it


def operator_index(cache: Path | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """All ATen operator names, and them by base name; built once per process, before any student code (the
    fork server calls this, so a worker's ``install`` only looks names up). With ``cache`` (a folder of
    ``gradeworker.cache``), the names are read from the file kept there for this very torch build (~2 ms
    instead of ~25), or listed and written there for the next fresh grading."""
    if not _INDEX:
        packets = _cached_packets(cache) if cache is not None else None
        if packets is None:
            packets = aten_packets()
            if cache is not None:
                write_json(cache / _CACHE_FILE, {"torch": torch_build(), "packets": packets})
        by_base: dict[str, list[str]] = {}
        for packet in packets:
            by_base.setdefault(op_base(packet), []).append(packet)
        _INDEX.append((packets, by_base))
    return _INDEX[0]


_CACHE_FILE = "aten-operators.json"


def torch_build() -> dict:
    """What identifies the installed torch: its version, its commit, and the size and time of the compiled
    library that registers the ATen operators (a rebuilt or reinstalled wheel of the same version differs)."""
    folder = os.path.dirname(torch.__file__)
    library = os.path.join(folder, "lib", "libtorch_cpu.so")
    info = os.stat(library if os.path.exists(library) else torch._C.__file__)
    return {"version": torch.__version__, "git": getattr(torch.version, "git_version", ""),
            "library": [info.st_size, info.st_mtime_ns]}


def _cached_packets(cache: Path) -> list[str] | None:
    """The operator names kept for this torch build, or None (no file, another build, not a sorted list of
    names, or without the operators every build has): then they are listed again."""
    kept = read_json(cache / _CACHE_FILE)
    if not isinstance(kept, dict) or kept.get("torch") != torch_build():
        return None
    packets = kept.get("packets")
    if not isinstance(packets, list) or not all(isinstance(p, str) for p in packets):
        return None
    if packets != sorted(set(packets)) or not {"add", "mm", "_softmax", "linalg_lstsq"} <= set(packets):
        return None
    return packets


def operators_behind(names: Iterable[str]) -> dict[str, list[str]]:
    """name -> the ATen operators it stands for (see ``operators_of``)."""
    packets, by_base = operator_index()
    return {name: operators_of(name, packets, by_base) for name in names}


def install(names: Iterable[str]) -> tuple[Callable[[Iterable[str]], None], Callable[[], list[str]]]:
    """Register the check for every ATen operator behind ``names``; return ``(arm, disarm)``.

    ``arm(task_names)`` starts noting calls of the operators behind ``task_names`` (on every thread);
    ``disarm()`` stops and returns what was noted, each as ``torch.ops.aten.<op> (the operator behind
    <name>)``, in the order first seen. Until the first ``arm``, and after each ``disarm``, the kernels
    only pass calls through.
    """
    from torch.library import Library, get_kernel

    per_name = operators_behind(names)
    behind = sorted({packet for packets in per_name.values() for packet in packets})
    lib = Library("aten", "IMPL")
    watch: list = [None]  # None, or {operator: label} for the running call's task
    found: list[str] = []

    def kernel_for(call: Callable, packet: str) -> Callable:
        def kernel(keyset, *args, **kwargs):
            labels = watch[0]
            if labels is not None and packet in labels:
                found.append(labels[packet])
            return call(keyset, *args, **kwargs)
        return kernel

    def dense_kernel_for(op: Callable, packet: str) -> Callable:
        """For MKL-DNN tensors, whose kernel ``get_kernel`` cannot hand over: the same operator on dense
        copies (through the checked CPU kernel), the results made MKL-DNN tensors again."""
        def kernel(keyset, *args, **kwargs):
            labels = watch[0]
            if labels is not None and packet in labels:
                found.append(labels[packet])
            out = op._op(*[a.to_dense() if isinstance(a, torch.Tensor) and a.is_mkldnn else a for a in args], **kwargs)
            if isinstance(out, torch.Tensor):
                return out.to_mkldnn()
            return type(out)(o.to_mkldnn() if isinstance(o, torch.Tensor) else o for o in out)
        return kernel

    has_kernel = torch._C._dispatch_has_kernel_for_dispatch_key
    has_computed = torch._C._dispatch_has_computed_kernel_for_dispatch_key
    for packet in behind:
        ops = getattr(torch.ops.aten, packet)
        for overload in ops.overloads():
            op = getattr(ops, overload)
            qualified = op.name()
            try:
                if has_kernel(qualified, "CompositeImplicitAutograd"):
                    continue  # it decomposes: its parts are caught, and its autograd must stay as it is
            except RuntimeError:
                continue  # an overload TorchScript knows but the dispatcher does not (aten::tanh.int)
            for key in BACKEND_KEYS:
                if not has_computed(qualified, key):
                    continue
                try:
                    original = get_kernel(op, key)
                    lib.impl(op, kernel_for(original.call_boxed, packet), key, with_keyset=True)
                except (RuntimeError, NotImplementedError, ValueError):
                    continue  # no real kernel there (a fallback that only raises)
            if has_computed(qualified, "MkldnnCPU") and not op._schema.is_mutable and all(
                    isinstance(r.type, torch.TensorType) for r in op._schema.returns):
                try:
                    lib.impl(op, dense_kernel_for(op, packet), "MkldnnCPU", with_keyset=True)
                except (RuntimeError, NotImplementedError, ValueError):
                    pass

    def arm(task_names: Iterable[str]) -> None:
        wanted = list(task_names)  # in the task's order: the first name of an operator labels it
        labels: dict[str, str] = {}
        for name in wanted:
            for packet in per_name.get(name, ()):
                labels.setdefault(packet, f"torch.ops.aten.{packet} (the operator behind {name})")
        found.clear()
        watch[0] = labels or None

    def disarm() -> list[str]:
        watch[0] = None
        lib  # noqa: B018  (kept alive by this closure: dropping the Library would remove the kernels)
        return list(dict.fromkeys(found))

    return arm, disarm
