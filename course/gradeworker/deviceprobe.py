"""Device faithfulness without a GPU: call a student function again with its tensors on ``meta``.

The contract says every function returns its results on its inputs' device. On a CPU-only grader a
function that builds ``torch.zeros(shape)`` or ``torch.rand(X.shape)`` without ``device=`` computes
the right values, and fails only on the GPU runner. PyTorch's ``meta`` device stands in for the GPU:
its tensors have shapes, dtypes and a device but no data, so each operator runs at almost no cost, and
a CPU tensor meeting a meta one raises PyTorch's "not on the expected device" error, as it would meet a
CUDA one. So the same call, with every input tensor (and a module's parameters and buffers, an
optimizer's parameters) on ``meta``, shows a CPU tensor: in the output, in what the call left in its
module or optimizer, or in that error.

What ``meta`` cannot show, and is left to the GPU runner: data-dependent code (``.item()``, NumPy, a
training loop: reported "unsupported", never a failure), an in-place ``x.add_(cpu_tensor)`` (meta's
in-place kernels let it through; CUDA does not), and a value written into a CPU tensor (``Y[i, j] = ...``:
meta has no data to copy, the same error as ``.tolist()``). PyTorch's ``FakeTensorMode`` simulates CUDA
more faithfully, but it imports ``torch._dynamo`` (1-10 s per fresh worker): not worth it on every grading.

This module runs in the worker and only reports what happened, as plain data; the grader decides what
it means (``autograder.compare.device_probe_failure``). The student's own objects are never changed:
inputs are copied to ``meta``, and a module or an optimizer is deep-copied first.
"""
from __future__ import annotations

import collections
import copy
from typing import Any, Callable

import torch

PROBE_DEVICE = "meta"  # the GPU's stand-in: nothing here needs a GPU
MAX_TENSORS = 10_000  # an input or output holding more tensors than this is not walked (reported unsupported)


class Unsupported(Exception):
    """The call cannot be repeated on the probe device as it was made (an iterator, an optimizer...).
    ``per_call``: because of this call's arguments (a closure, say), so the function's next call may be."""

    def __init__(self, why: str, per_call: bool = False):
        super().__init__(why)
        self.per_call = per_call


def _to_probe(value: Any, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise Unsupported("too many values to move")
    if isinstance(value, torch.Tensor):
        return _tensor_to_probe(value)
    if isinstance(value, torch.nn.Module):
        return copy.deepcopy(value).to(PROBE_DEVICE)
    if isinstance(value, (list, tuple)):
        moved = [_to_probe(v, budget) for v in value]
        return moved if isinstance(value, list) else tuple(moved)
    if isinstance(value, dict):
        return {k: _to_probe(v, budget) for k, v in value.items()}
    if isinstance(value, torch.device):  # the grading device (model.to(device), train(..., device)): the GPU's
        return torch.device(PROBE_DEVICE) if value.type == "cpu" else value
    if value is None or isinstance(value, (bool, int, float, complex, str, torch.dtype)):
        return value
    raise Unsupported(f"an argument of type {type(value).__name__}", per_call=True)


def _tensor_to_probe(t: torch.Tensor) -> torch.Tensor:
    if t.device.type == PROBE_DEVICE:  # met twice (the same tensor in two places)
        return t
    if t.is_sparse or t.is_quantized or type(t) not in (torch.Tensor, torch.nn.Parameter):
        raise Unsupported(f"a {type(t).__name__} tensor")
    moved = t.detach().to(PROBE_DEVICE)
    if t.requires_grad:
        moved.requires_grad_(True)
    if t.grad is not None:  # e.g. parameters handed to an update rule: their gradient moves along
        moved.grad = t.grad.detach().to(PROBE_DEVICE)
    return moved


def _optimizer_to_probe(opt: torch.optim.Optimizer, budget: list[int], fresh: bool) -> torch.optim.Optimizer:
    """A deep copy of a (student's) optimizer as if it had been built over parameters on the GPU: its
    parameters, their gradients, its per-parameter state and every tensor among its own attributes moved
    (on a GPU these would all have been made from parameters on that GPU). ``fresh``: with no per-parameter
    state, as before its first step, so that the state's creation is what the call runs (a moment made with
    ``torch.zeros(p.shape)`` shows only there: the probe comes after the real call made it)."""
    copied = type(opt).__new__(type(opt))  # not deepcopy(opt): Optimizer.__getstate__ drops the student's attributes
    copied.__dict__.update(copy.deepcopy(vars(opt)))
    moved: dict[int, torch.Tensor] = {}  # id of a copied parameter -> its stand-in on meta
    for group, copied_group in zip(opt.param_groups, copied.param_groups):
        stand_ins = []
        for original, q in zip(group["params"], copied_group["params"]):
            if id(q) not in moved:  # deepcopy keeps no gradient: it comes from the original
                moved[id(q)] = torch.nn.Parameter(_tensor_to_probe(original.detach()), original.requires_grad)
                if original.grad is not None:
                    moved[id(q)].grad = _tensor_to_probe(original.grad)
            stand_ins.append(moved[id(q)])
        copied_group["params"] = stand_ins
    state: collections.defaultdict = collections.defaultdict(dict)
    for q, per_param in ({} if fresh else copied.state).items():
        state[moved.get(id(q), q)] = {k: _to_probe(v, budget) for k, v in per_param.items()}
    copied.state = state
    for name, value in list(vars(copied).items()):
        if name not in ("param_groups", "state", "defaults"):
            try:
                setattr(copied, name, _to_probe(value, budget))
            except Unsupported:
                pass  # a hook, a callable...: left as it is
    return copied


def _tensors(value: Any, path: str, found: list[tuple[str, str]], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise Unsupported("an output with too many values")
    # A 0-d CPU tensor mixes with any device in PyTorch (torch.optim keeps its step counts so): not counted.
    if isinstance(value, torch.Tensor):
        if value.dim():
            found.append((path, value.device.type))
    elif isinstance(value, torch.nn.Module):
        for name, t in [*value.named_parameters(), *value.named_buffers()]:
            if t.dim():
                found.append((f"{path}.{name}", t.device.type))
        for prefix, sub in value.named_modules():  # plain tensor attributes (d2l's BatchNorm keeps its moving mean so)
            found += [(f"{path}.{prefix + '.' if prefix else ''}{k}", v.device.type) for k, v in vars(sub).items()
                      if isinstance(v, torch.Tensor) and not isinstance(v, torch.nn.Parameter) and v.dim()]
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _tensors(v, f"{path}[{i}]", found, budget)
    elif isinstance(value, dict):
        for k, v in value.items():
            _tensors(v, f"{path}[{k!r}]", found, budget)


def probe(fn: Callable, args: list, kwargs: dict, owner: Any = None, method: str | None = None) -> dict:
    """Call ``fn`` with its tensor arguments on ``meta``; what came back, as plain data.

    ``owner`` is the object whose ``method`` ``fn`` is (a student's module or optimizer): a deep copy of
    it is moved to ``meta`` and the method called on the copy. The reply is one of
    ``{"outcome": "ok", "outputs": [[path, device], ...]}``, ``{"outcome": "raised", "type": ..., "message": ...}``
    or ``{"outcome": "unsupported", "why": ...}``.
    """
    found = _probe(fn, args, kwargs, owner, method, fresh=True)
    if (found["outcome"] == "raised" and "device" not in found["message"]
            and isinstance(owner, torch.optim.Optimizer)):
        # a step that needs the state it had (made in __init__, say): as it is now
        found = _probe(fn, args, kwargs, owner, method, fresh=False)
    return found


def _probe(fn: Callable, args: list, kwargs: dict, owner: Any, method: str | None, fresh: bool) -> dict:
    budget = [MAX_TENSORS]
    try:
        moved_args, moved_kwargs = _to_probe(list(args), budget), _to_probe(dict(kwargs), budget)
        if not any(isinstance(v, (torch.Tensor, torch.nn.Module)) for v in _flat([moved_args, moved_kwargs])):
            if owner is None:
                raise Unsupported("no tensor among the arguments")
        stand_in = None
        if owner is not None and method is not None:
            if isinstance(owner, torch.optim.Optimizer):
                stand_in = _optimizer_to_probe(owner, budget, fresh)
            elif isinstance(owner, torch.nn.Module):
                stand_in = _to_probe(owner, budget)
            else:
                raise Unsupported(f"a method of a {type(owner).__name__}")
            fn = getattr(stand_in, method)
    except Unsupported as why:
        return {"outcome": "unsupported", "why": str(why), **({"per_call": True} if why.per_call else {})}
    except Exception as exc:  # a module that cannot be copied or moved
        return {"outcome": "unsupported", "why": f"{type(exc).__name__} while moving the inputs: {str(exc)[:200]}"}
    try:
        value = fn(*moved_args, **moved_kwargs)
    except Exception as exc:
        return {"outcome": "raised", "type": type(exc).__name__, "message": str(exc)[:500]}
    found: list[tuple[str, str]] = []
    try:
        _tensors(value, "output", found, [MAX_TENSORS])
        # What the call left behind counts too: a CPU tensor kept in an optimizer's state or a module's
        # buffers fails on the GPU at the next step.
        if isinstance(stand_in, torch.optim.Optimizer):
            for i, per_param in enumerate(stand_in.state.values()):
                _tensors(dict(per_param), f"optimizer state of parameter {i}", found, [MAX_TENSORS])
        elif isinstance(stand_in, torch.nn.Module):
            _tensors(stand_in, "module", found, [MAX_TENSORS])
    except Unsupported as why:
        return {"outcome": "unsupported", "why": str(why)}
    return {"outcome": "ok", "outputs": [list(pair) for pair in found]}


def _flat(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    return [value]
