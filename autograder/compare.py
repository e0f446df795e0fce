"""Comparison helpers and tolerances: the one place graders get them from.

Every failed check raises ``CheckFailed`` carrying the four parts of a student message: what was
checked, on what input, expected against got, and what to try; plus the name of a known mistake
when the wrong answer matches one.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping, Sequence

import torch

from .errors import CheckFailed  # noqa: F401  (graders import it from here)

# (rtol, atol) per dtype: torch.testing's defaults, a little looser for float32 where sums are long.
TOLERANCES = {
    torch.float16: (1e-3, 1e-3),
    torch.bfloat16: (1.6e-2, 1e-2),
    torch.float32: (1e-5, 1e-5),
    torch.float64: (1e-9, 1e-10),
}


def tolerance(dtype: torch.dtype, rtol: float | None = None, atol: float | None = None, *, scale: float = 1.0,
              magnitude: float | None = None) -> tuple[float, float]:
    """(rtol, atol) for comparing values of ``dtype``.

    ``scale`` widens the dtype's default for results of long accumulations (a training run, a sum over
    thousands of terms). ``magnitude`` is for results computed from inputs that large (logits of 1e4):
    near 1e4 a float32 number is only known to about 1e-3, so correct implementations that add and
    subtract in another order differ by a few of those spacings; a few machine epsilons times the
    magnitude allow exactly that (in float64 still about 1e-11 at 1e4).
    """
    if magnitude is not None:
        tol = 8 * torch.finfo(dtype).eps * max(magnitude, 1.0)
        default = (tol, tol)
    else:
        base = TOLERANCES.get(dtype, (0.0, 0.0))
        default = (base[0] * scale, base[1] * scale)
    return (default[0] if rtol is None else rtol, default[1] if atol is None else atol)


def describe(value: Any) -> str:
    """A short description of an input or output: shape, dtype and device for tensors, and the values of
    small ones (at most ``SMALL_TENSOR`` elements), which a student can then try by hand."""
    if isinstance(value, torch.Tensor):
        text = f"tensor{tuple(value.shape)} {str(value.dtype).removeprefix('torch.')} on {value.device}"
        return text + _small_values(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, torch.Tensor) for v in value):
        inner = ", ".join(describe(v) for v in value[:4])
        return f"{type(value).__name__} of {len(value)} [{inner}{', ...' if len(value) > 4 else ''}]"
    if hasattr(value, "handle"):  # a RemoteObject
        return f"a {value.type.rsplit('.', 1)[-1]} object"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


SMALL_TENSOR = 8


def _small_values(value: torch.Tensor) -> str:
    if value.numel() > SMALL_TENSOR or value.device.type == "meta" or value.is_sparse:
        return ""
    try:
        data = value.detach().cpu()
        if data.dtype.is_floating_point or data.dtype.is_complex:
            return " = " + str(data.tolist() if data.dtype.is_complex else _rounded(data.double().tolist()))
        return f" = {data.tolist()}"
    except Exception:  # an odd tensor subclass: the shape alone will do
        return ""


def _rounded(x: Any) -> Any:
    return [_rounded(v) for v in x] if isinstance(x, list) else float(f"{x:.4g}")


def inputs(**named: Any) -> str:
    """``inputs(X=X, lr=0.1)`` -> "X = tensor(5, 3) float32 on cpu, lr = 0.1"."""
    return ", ".join(f"{name} = {describe(value)}" for name, value in named.items())


def expect(condition: bool, checked: str, *, inputs: str = "", expected: str = "", got: str = "", hint: str = "",
           mistake: str | None = None) -> None:
    """The general check: fail with the four-part message unless ``condition`` holds."""
    if not condition:
        comparison = f"expected {expected}, got {got}" if expected or got else ""
        raise CheckFailed(checked, inputs, comparison, hint, mistake)


DETACHED_MISTAKE = ("the result was computed outside autograd's graph (.detach(), .data, .item(), .numpy(), "
                    "torch.no_grad() or a new tensor on the way), so no gradient reaches the inputs")


def graph_mistake(grad_error: str | None) -> str | None:
    """The named mistake for the worker's ``grad_error``: a detached result, or None for any other failure."""
    return DETACHED_MISTAKE if grad_error and "not connected to the inputs' autograd graph" in grad_error else None


# Mistakes recognised from the error a student's code raised (PyTorch's words -> what the code did).
ERROR_MISTAKES = [
    ("a leaf Variable that requires grad is being used in an in-place operation",
     "an in-place update of a parameter that requires grad, outside `with torch.no_grad():`"),
    ("object has no attribute 'eval'", "net.eval() called on something that is not an nn.Module (a plain function)"),
    ("'NoneType' object has no attribute 'zero_'",
     "a .grad that is None: the parameter was rebound to a new tensor (p = p - ...), which has no .grad"),
    ("must match the size of tensor b",
     "two tensors whose shapes do not broadcast: a reshape (a[:, None], keepdim=True) is missing"),
    ("mat1 and mat2 shapes cannot be multiplied",
     "the shapes of a matrix product do not fit: an input not flattened to (n, features), or a weight transposed"),
]


def error_mistake(text: str) -> str | None:
    """The named mistake behind an error student code raised, when its text is one we know."""
    return next((mistake for pattern, mistake in ERROR_MISTAKES if pattern in text), None)


def same_device(a: torch.device | str, b: torch.device | str) -> bool:
    """``cuda`` and ``cuda:0`` are the same device when 0 is the current one."""
    a, b = torch.device(a), torch.device(b)
    if a.type != b.type:
        return False
    if a.type != "cuda" or a.index == b.index:
        return True
    current = torch.cuda.current_device() if torch.cuda.is_available() else 0
    return (a.index if a.index is not None else current) == (b.index if b.index is not None else current)


def expect_like(got: Any, checked: str, *, shape: tuple | None = None, dtype: torch.dtype | None = None,
                device: torch.device | str | None = None, inputs: str = "", hint: str = "") -> torch.Tensor:
    """``got`` is a tensor with this shape, dtype and device (values unchecked: for random results)."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(checked, inputs, f"expected a tensor, got {describe(got)}", "return a torch.Tensor")
    if shape is not None and tuple(got.shape) != tuple(shape):
        raise CheckFailed(checked, inputs, f"expected shape {tuple(shape)}, got {tuple(got.shape)}", hint,
                          shape_mistake(got, tuple(shape)))
    if dtype is not None and got.dtype != dtype:
        raise CheckFailed(checked, inputs, dtype_comparison(got.dtype, dtype),
                          "create new tensors with the input's dtype (dtype=X.dtype)", dtype_mistake(got.dtype, dtype))
    got_device = (getattr(got, "remote_meta", None) or {}).get("device", str(got.device))
    if device is not None and not same_device(got_device, device):
        raise CheckFailed(checked, inputs, f"expected a tensor on {device}, got one on {got_device}",
                          "create new tensors on the input's device (device=X.device)")
    return got


def expect_pair(got: Any, checked: str, *, inputs: str = "", names: str = "(X, y)") -> tuple:
    """``got`` is a pair (a tuple or list of two), as in ``return X, y``."""
    ok = isinstance(got, (tuple, list)) and len(got) == 2
    expect(ok, checked, inputs=inputs, expected=f"a pair {names}", got=describe(got), hint=f"return {names[1:-1]}")
    return tuple(got)


def _first_bad_index(got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> tuple[int, ...]:
    bad = ~torch.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    return tuple(int(i) for i in bad.nonzero()[0]) if bad.any() else ()


def _value_summary(got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> str:
    got64, exp64 = got.detach().double().cpu(), expected.detach().double().cpu()
    if not torch.isfinite(got64).all() and torch.isfinite(exp64).all():
        n = int((~torch.isfinite(got64)).sum())
        return f"finite values, got {n} NaN or inf value(s)"
    idx = _first_bad_index(got64, exp64, rtol, atol)
    diff = (got64 - exp64).abs()
    n_bad = int((~torch.isclose(got64, exp64, rtol=rtol, atol=atol, equal_nan=True)).sum())
    at = f" at index {list(idx)}" if idx else ""
    return (f"{_fmt(exp64[idx])}{at}, got {_fmt(got64[idx])} "
            f"({n_bad} of {got64.numel()} elements differ; largest difference {_fmt(diff.max())})")


def _fmt(x: Any) -> str:
    x = float(x)
    return f"{x:.6g}" if math.isfinite(x) else str(x)


def expect_tensor(got: Any, expected: torch.Tensor, checked: str, *, inputs: str = "", hint: str = "",
                  rtol: float | None = None, atol: float | None = None, scale: float = 1.0,
                  magnitude: float | None = None, mistakes: Mapping[str, Any] | None = None,
                  check_dtype: bool = True, check_device: bool = True) -> None:
    """``got`` is a tensor like ``expected`` in type, shape, dtype, device and values.

    ``mistakes`` maps a known mistake's name to what it would have returned (a tensor, or a
    callable giving one); when ``got`` matches one, the failure names it. ``scale`` and ``magnitude``
    adjust the dtype's tolerance (see ``tolerance``); graders never write rtol/atol themselves.
    """
    r, a = tolerance(expected.dtype, rtol, atol, scale=scale, magnitude=magnitude)

    def fail(comparison: str, why_hint: str = "") -> None:
        raise CheckFailed(checked, inputs, comparison, why_hint or hint,
                          _match_mistake(got, mistakes, r, a) or shape_mistake(got, tuple(expected.shape)))

    if not isinstance(got, torch.Tensor):
        fail(f"expected a tensor, got {describe(got)}", "return a torch.Tensor")
    meta = getattr(got, "remote_meta", None) or {}
    if meta.get("cls") not in (None, "Tensor", "Parameter"):
        fail(f"expected a plain torch.Tensor, got a tensor subclass ({meta['cls']})", "return a torch.Tensor")
    if tuple(got.shape) != tuple(expected.shape):
        fail(f"expected shape {tuple(expected.shape)}, got {tuple(got.shape)}",
             hint or "print the shapes of your intermediate results; watch for broadcasting")
    if check_dtype and got.dtype != expected.dtype:
        raise CheckFailed(checked, inputs, dtype_comparison(got.dtype, expected.dtype),
                          "keep the input's dtype: avoid torch.tensor(...) or torch.zeros(...) without dtype=",
                          _match_mistake(got, mistakes, r, a) or dtype_mistake(got.dtype, expected.dtype))
    if check_device and not same_device(meta.get("device", got.device), expected.device):
        fail(f"expected a tensor on {expected.device}, got one on {meta.get('device', got.device)}",
             "create new tensors on the input's device (device=X.device) and never call .cpu() or .cuda()")
    got_cmp = got.to(expected.device, expected.dtype)
    if not torch.allclose(got_cmp, expected, rtol=r, atol=a, equal_nan=True):
        comparison = "expected " + _value_summary(got_cmp, expected, r, a)
        # A float32 intermediate only when no known mistake explains the difference as well: a small difference
        # of the formula itself (epsilon placed before a bias correction: 2e-9) also hides below float32's noise.
        if _only_lower_precision(got_cmp, expected) and _match_mistake(got, mistakes, r, a) is None:
            raise CheckFailed(checked, inputs, comparison + LOWER_PRECISION,
                              "make every new tensor with dtype=X.dtype (torch.zeros, torch.tensor, torch.ones, "
                              "torch.arange), and keep X's dtype when you convert", LOWER_PRECISION_MISTAKE)
        fail(comparison)


# How the dtype is named when it is the difference: the contract keeps the input's dtype everywhere.
LOWER_PRECISION = ("; the values agree to float32 precision only: somewhere on the way a float32 tensor was "
                   "made from float64 input")
LOWER_PRECISION_MISTAKE = "computed in float32 where float64 came in"


def _short(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def dtype_comparison(got: torch.dtype, expected: torch.dtype) -> str:
    """'expected dtype float64, got float32: you returned float32 where float64 came in'."""
    return (f"expected dtype {_short(expected)}, got {_short(got)}: you returned {_short(got)} where "
            f"{_short(expected)} came in")


def shape_mistake(got: Any, shape: tuple) -> str | None:
    """The name of a shape slip recognised from the shapes alone: a dimension of size 1 dropped or added
    (``(n,)`` for ``(n, 1)``: a missing reshape or keepdim=True), or the transpose of the expected shape."""
    if not isinstance(got, torch.Tensor) or tuple(got.shape) == tuple(shape):
        return None
    want, have = tuple(shape), tuple(got.shape)
    if [d for d in want if d != 1] == [d for d in have if d != 1]:
        return (f"a dimension of size 1 was {'dropped' if len(have) < len(want) else 'added'}: shape {have} "
                f"where {want} is expected (a missing reshape, keepdim=True, or an extra unsqueeze)")
    if len(want) == 2 and have == want[::-1]:
        return f"the result is transposed: shape {have} where {want} is expected"
    return None


def dtype_mistake(got: torch.dtype, expected: torch.dtype) -> str:
    return f"you returned {_short(got)} where {_short(expected)} came in"


def _only_lower_precision(got: torch.Tensor, expected: torch.Tensor) -> bool:
    """A float64 result that matches only as well as float32 arithmetic would: a float32 intermediate."""
    if expected.dtype != torch.float64 or not got.dtype.is_floating_point:
        return False
    r32, a32 = tolerance(torch.float32, scale=10.0)
    return bool(torch.allclose(got.double(), expected, rtol=r32, atol=a32, equal_nan=True))


def _match_mistake(got: Any, mistakes: Mapping[str, Any] | None, rtol: float | None, atol: float | None) -> str | None:
    if not mistakes or not isinstance(got, torch.Tensor):
        return None
    for name, candidate in mistakes.items():
        try:
            value = candidate() if callable(candidate) else candidate
        except Exception:
            continue
        if isinstance(value, torch.Tensor) and matches(got, value, rtol, atol):
            return name
    return None


def matches(got: Any, expected: Any, rtol: float | None = None, atol: float | None = None, *,
            scale: float = 1.0) -> bool:
    """Same shape and values within tolerance (dtype and device aside)."""
    if not isinstance(got, torch.Tensor) or not isinstance(expected, torch.Tensor):
        return False
    if tuple(got.shape) != tuple(expected.shape):
        return False
    r, a = tolerance(expected.dtype, rtol, atol, scale=scale)
    return bool(torch.allclose(got.to(expected.device, expected.dtype), expected, rtol=r, atol=a, equal_nan=True))


def read_number(got: Any, checked: str, *, inputs: str = "", integer: bool = False, hint: str = "") -> float:
    """``got`` is a plain Python number (not a bool, not a tensor); returns it as a float."""
    kinds = (int,) if integer else (int, float)
    if isinstance(got, kinds) and not isinstance(got, bool):
        return float(got)
    what = "an int" if integer else "a Python number (float)"
    tensor = isinstance(got, torch.Tensor)
    tip = hint or ("turn a 0-d tensor into a number with .item() or float(...)" if tensor else f"return {what}")
    raise CheckFailed(checked, inputs, f"expected {what}, got {describe(got)}", tip,
                      NUMBER_AS_TENSOR_MISTAKE if tensor else None)


NUMBER_AS_TENSOR_MISTAKE = "a tensor was returned where the contract gives a Python number (no .item() or float())"


def expect_number(got: Any, expected: float, checked: str, *, inputs: str = "", dtype: torch.dtype = torch.float64,
                  scale: float = 1.0, exact: bool = False, mistakes: Mapping[str, Any] | None = None,
                  hint: str = "") -> float:
    """``got`` is a number equal to ``expected`` within ``dtype``'s tolerance (or exactly); names a mistake
    from ``mistakes`` (name -> the number that mistake gives, or a callable returning it) when it matches."""
    value = read_number(got, checked, inputs=inputs)
    r, a = (0.0, 0.0) if exact else tolerance(dtype, scale=scale)
    if math.isclose(value, expected, rel_tol=r, abs_tol=a):
        return value
    named = None
    for name, candidate in (mistakes or {}).items():
        try:
            wrong = float(candidate() if callable(candidate) else candidate)
        except Exception:
            continue
        if math.isclose(value, wrong, rel_tol=max(r, 1e-12), abs_tol=max(a, 1e-12)):
            named = name
            break
    raise CheckFailed(checked, inputs, f"expected {_fmt(expected)}, got {_fmt(value)}", hint, named)


def expect_unchanged(before: Any, after: Any, name: str, checked: str, *, inputs: str = "",
                     mistakes: Mapping[str, Any] | None = None) -> None:
    """An input tensor the function must not modify in place; ``mistakes`` maps a known mistake's name to
    what that input holds afterwards when the mistake is made (``X += Y``: X + Y), to name it."""
    if isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor):
        same = before.shape == after.shape and torch.equal(before.cpu(), after.cpu())
        r, a = tolerance(before.dtype)
        expect(same, checked, inputs=inputs, expected=f"{name} unchanged", got=f"{name} modified in place",
               hint=f"do not write into {name} (no +=, [:] = or *_ methods on it); compute a new tensor",
               mistake=None if same else _match_mistake(after, mistakes, r, a))


def in_place_mistakes(name: str, before: torch.Tensor, after: Any, result: Any) -> dict[str, Any]:
    """The in-place slips recognisable from what an argument holds after the call: its shape changed
    (``unsqueeze_``, ``squeeze_``, ``resize_``), zeroed, or holding the function's own result (the answer was
    computed in the argument and returned); for ``expect_unchanged``'s ``mistakes``."""
    if not isinstance(after, torch.Tensor):
        return {}
    if tuple(after.shape) != tuple(before.shape):
        return {f"{name}'s shape was changed in place ({name}.unsqueeze_, .squeeze_, .resize_ or .t_): "
                f"take a view or a copy instead ({name}.unsqueeze(0), {name}.reshape(...))": after}
    named: dict[str, Any] = {f"{name} was zeroed in place ({name}.zero_(), {name} *= 0 or .fill_(0))":
                             torch.zeros_like(after)}
    same_size = [t for t in _tensors_in(result) if t.numel() == after.numel() and t.numel()]
    if same_size:
        named[f"the result was computed in {name} itself (an in-place method such as {name}.mul_, .add_, "
              f".clamp_ or {name} /= ...) and returned: {name} is the caller's"] = same_size[0].reshape(after.shape)
    return named


def _tensors_in(value: Any) -> list[torch.Tensor]:
    """The tensors of a result: itself, or those in its tuple, list or dict (one level deep)."""
    if isinstance(value, torch.Tensor):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else []
    return [v for v in items if isinstance(v, torch.Tensor)]


def _unchanged_all(before: Any, after: Any, name: str, checked: str, where: str, result: Any = None) -> None:
    """``expect_unchanged`` for every tensor in an argument (a list of parameters, a dict of them too), naming
    the in-place slips ``in_place_mistakes`` recognises."""
    if isinstance(before, torch.Tensor):
        expect_unchanged(before, after, name, checked, inputs=where,
                         mistakes=in_place_mistakes(name, before, after, result))
    elif isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            _unchanged_all(b, a, f"{name}[{i}]", checked, where, result)
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in before:
            _unchanged_all(before[key], after.get(key), f"{name}[{key!r}]", checked, where, result)


def _expect_kind(got: Any, expected: Any, checked: str, where: str, path: str = "the result") -> None:
    """``got`` has ``expected``'s kind: a tensor of its dtype on its device, a Python number for a number, and
    the same for each item of a tuple, list or dict (values are the other tests' to check)."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            raise CheckFailed(checked, where, f"expected {path} to be a tensor, got {describe(got)}",
                              "return a torch.Tensor")
        if got.dtype != expected.dtype:
            raise CheckFailed(checked, where, f"{path}: " + dtype_comparison(got.dtype, expected.dtype),
                              "keep the input's dtype: make new tensors with dtype=X.dtype (or torch.zeros_like(X))",
                              dtype_mistake(got.dtype, expected.dtype))
        got_device = (getattr(got, "remote_meta", None) or {}).get("device", str(got.device))
        if not same_device(got_device, expected.device):
            raise CheckFailed(checked, where, f"expected {path} on {expected.device}, got it on {got_device}",
                              "create new tensors on the input's device (device=X.device); never .cpu() or .cuda()")
    elif isinstance(expected, (list, tuple)):
        ok = isinstance(got, (list, tuple)) and len(got) == len(expected)
        expect(ok, checked, inputs=where, expected=f"{path} a {type(expected).__name__} of {len(expected)}",
               got=describe(got))
        for i, (g, e) in enumerate(zip(got, expected)):
            _expect_kind(g, e, checked, where, f"{path}[{i}]")
    elif isinstance(expected, dict):
        expect(isinstance(got, dict) and set(got) == set(expected), checked, inputs=where,
               expected=f"{path} a dict with keys {sorted(map(str, expected))}", got=describe(got))
        for key in expected:
            _expect_kind(got[key], expected[key], checked, where, f"{path}[{key!r}]")
    elif isinstance(expected, (int, float)) and not isinstance(expected, bool):
        read_number(got, checked, inputs=where)


def _clone(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def expect_general_rules(run: Callable[..., Any], reference: Callable[..., Any],
                         cases: Iterable[tuple[str, tuple]], names: Sequence[str], function: str) -> None:
    """The contract's general rules at the edge cases of ``function``: for each ``(label, args)`` case (an empty
    batch, a single row, k = n, a float64 input...), the student's call (``run``: ``student.<function>.run``)
    leaves every tensor argument unmodified, and its result has the dtype, device and kind (tensor or Python
    number) of ``reference(*args)`` on the same case. ``names`` names the arguments in the messages; the case's
    label goes into ``inputs=``. Values are left to the function's other tests."""
    for label, args in cases:
        where = inputs(**dict(zip(names, args))) + f" ({label})"
        result = run(tuple(args), return_args=True)
        after = result.args_after or []
        for name, before, now in zip(names, args, after):
            _unchanged_all(before, now, name, f"{function} leaves {name} unmodified ({label})", where, result.value)
        expected = reference(*_clone(tuple(args)))
        _expect_kind(result.value, expected, f"{function} keeps its inputs' dtype and device ({label})", where)


def mean_bound(sd: float, n: int, sigmas: float = 6.0) -> float:
    """How far a mean of ``n`` draws of standard deviation ``sd`` may stray: negligible false alarms."""
    return sigmas * sd / math.sqrt(n)


def std_bound(sd: float, n: int, sigmas: float = 6.0) -> float:
    """How far a sample standard deviation of ``n`` normal draws may stray from ``sd`` (about sd/sqrt(2n))."""
    return sigmas * sd / math.sqrt(2 * n)


def binomial_bound(n: int, p: float, sigmas: float = 6.0) -> tuple[float, float]:
    """A range a Binomial(n, p) count lands in except with negligible probability (normal approx.)."""
    sd = math.sqrt(n * p * (1 - p))
    return n * p - sigmas * sd - 1, n * p + sigmas * sd + 1



def graded_alone(got: Any, reference: torch.Tensor, own: Any) -> torch.Tensor:
    """What a part that calls another part of the contract is held to (hw5's Conv2D calls corr2d, hw2's
    softmax_regression calls softmax): ``reference``, or, where the student's own called part is wrong on these
    inputs and ``got`` is exactly what using it right gives (``own()``, built from the student's called part in
    the worker), that. One mistake costs one part: a flipped kernel in corr2d is charged to corr2d alone."""
    if matches(got, reference):
        return reference
    try:
        alternative = own()
    except Exception:  # the student's called part raises or is missing here: the reference it is
        return reference
    if isinstance(alternative, torch.Tensor) and not matches(alternative, reference) and matches(got, alternative):
        return alternative.to(reference.device, reference.dtype)
    return reference


# ----- device faithfulness, checked without a GPU ---------------------------------------------------
# PyTorch's words when two devices meet in one operator (the probe's inputs on meta, a stray tensor on cpu).
_MIXED_DEVICES = ("is not on the expected device", "Expected all tensors to be on the same device",
                  "found at least two devices", "found two different devices", "on the same device as the indexed")
PROBE_DEVICE = "meta"
DEVICE_HINT = ("build every new tensor on the input's device: torch.zeros(shape, device=X.device), "
               "torch.rand(X.shape, device=X.device) or torch.zeros_like(X); never .cpu() or .cuda()")
DEVICE_MISTAKE = "a tensor made on the CPU whatever the input's device (no device=)"


def device_probe_failure(probe: Any, function: str) -> CheckFailed | None:
    """What the worker's repeat of a call on the meta device (``gradeworker.deviceprobe``) says about
    ``function``: a ``CheckFailed`` naming the tensor that stayed on the CPU, or None when it kept to its
    inputs' device or when the call could not be simulated (``.item()``, NumPy...: nothing is concluded)."""
    if not isinstance(probe, dict):
        return None
    checked = f"Does {function} keep its results on its inputs' device (GPU runner rule)?"
    where = "the same call with every input tensor on PyTorch's meta device, standing in for a GPU"
    outcome = probe.get("outcome")
    if outcome == "ok":
        outputs = probe.get("outputs")
        wrong = [o for o in outputs if isinstance(o, list) and len(o) == 2 and o[1] != PROBE_DEVICE] \
            if isinstance(outputs, list) else []
        if wrong:
            path, device = str(wrong[0][0])[:80], str(wrong[0][1])[:20]
            return CheckFailed(checked, where, f"your {path} is on {device} while the inputs were on meta",
                               DEVICE_HINT, DEVICE_MISTAKE)
    if outcome == "raised":
        message = str(probe.get("message", ""))[:300]
        if any(text in message for text in _MIXED_DEVICES):
            return CheckFailed(checked, where, f"it raised {str(probe.get('type', ''))[:40]}: {message}",
                               DEVICE_HINT, DEVICE_MISTAKE)
    return None


def device_probe_note(probe: Any) -> str | None:
    """Why a probe concluded nothing (for staff), or None when it did."""
    if not isinstance(probe, dict):
        return None
    if probe.get("outcome") == "unsupported":
        return f"not checked on the meta device: {str(probe.get('why', ''))[:200]}"
    if probe.get("outcome") == "raised" and device_probe_failure(probe, "") is None:
        return (f"not checked on the meta device: {str(probe.get('type', ''))[:40]}: "
                f"{str(probe.get('message', ''))[:160]}")
    return None
