"""Shared checks of hw6's optimizer graders: one plan of gradients, replayed twice and compared.

A ``Plan`` says which optimizer, with which options, on parameters of which shapes, for how many steps,
and what happens between steps (a gradient left at None, a learning rate changed in ``param_groups``).
``replay`` runs it in the worker through handles: parameters made there with ``student.put``, grads set
with ``p.set("grad", g)``, the student's optimizer built and stepped with ``opt.call("step")``, so every
step is monitored for the task's forbidden calls. ``reference`` runs the same plan with torch.optim's
class (``ref``). ``expect_same_trajectory`` compares them step by step and names a known mistake (see
``variants``) where the student's trajectory is one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from autograder.compare import CheckFailed, expect, expect_tensor, matches
from autograder.errors import StudentCodeError

from .variants import MISTAKES, simulate

# The contract's options and their defaults, in signature order (None: required).
DEFAULTS: dict[str, dict[str, Any]] = {
    "SGD": {"lr": None, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
    "Adagrad": {"lr": 0.01, "eps": 1e-10, "weight_decay": 0.0},
    "RMSprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0},
    "Adam": {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    "AdamW": {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01},
}
NOT_IN_PLACE = ("the parameters never change: update them in place (p.add_(...), p.addcdiv_(...) under "
                "torch.no_grad()); `p = p - ...` only makes a new tensor")


@dataclass
class Plan:
    """What to run: ``groups`` (lists of parameter indices with their own options) replaces the flat list."""

    name: str
    kwargs: dict
    shapes: list[tuple] = field(default_factory=lambda: [(3, 4), (5,)])
    steps: int = 20
    dtype: torch.dtype = torch.float64
    device: torch.device = torch.device("cpu")
    groups: list[dict] | None = None
    missing: frozenset = frozenset()  # (step, parameter) pairs whose grad is None at that step (steps from 0)
    lr_changes: dict = field(default_factory=dict)  # step -> new lr for each group, set before that step
    grad_scale: float = 1.0

    def text(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        where = f"{self.name}([{len(self.shapes)} parameters of shapes {', '.join(map(str, self.shapes))}]"
        if self.groups:
            where = f"{self.name}([{len(self.groups)} param groups: " + "; ".join(
                f"params {g['params']} {', '.join(f'{k}={v!r}' for k, v in g.items() if k != 'params')}"
                for g in self.groups) + "]"
        extra = [f"{self.steps} steps", f"{str(self.dtype).removeprefix('torch.')} on {self.device}"]
        if self.grad_scale != 1.0:
            extra.append(f"gradients of size about {self.grad_scale:g}")
        if self.missing:
            extra.append("grad None for (step, parameter) " + ", ".join(f"({t + 1}, {i})" for t, i in
                                                                       sorted(self.missing)))
        if self.lr_changes:
            extra.append("lr set in param_groups before step " + ", ".join(
                f"{t + 1} to [{', '.join(f'{lr:g}' for lr in lrs)}]" for t, lrs in sorted(self.lr_changes.items())))
        return f"{where}{', ' + args if args else ''}), " + ", ".join(extra)


@dataclass
class Inputs:
    starts: list[torch.Tensor]
    grads: list[list[torch.Tensor]]  # grads[t][i]


def make_inputs(plan: Plan) -> Inputs:
    """Random starting values and gradients from the test's seeded generator, on the plan's device and dtype."""
    opts = {"dtype": plan.dtype, "device": plan.device}
    starts = [torch.randn(s, **opts) for s in plan.shapes]
    grads = [[plan.grad_scale * torch.randn(s, **opts) for s in plan.shapes] for _ in range(plan.steps)]
    return Inputs(starts, grads)


def _spec(plan: Plan, params: list) -> list:
    if plan.groups is None:
        return list(params)
    return [{**{k: v for k, v in g.items() if k != "params"}, "params": [params[i] for i in g["params"]]}
            for g in plan.groups]


def build(student: Any, plan: Plan, params: list) -> Any:
    """The student's optimizer on worker-side parameters, checked to be a torch.optim.Optimizer."""
    opt = getattr(student, plan.name)(_spec(plan, params), **plan.kwargs)
    try:
        groups = opt.attr("param_groups")
    except StudentCodeError:
        groups = None
    expect(isinstance(groups, list) and len(groups) == len(plan.groups or [0]),
           f"{plan.name}(...) builds a torch.optim.Optimizer with one param group per group given",
           inputs=plan.text(), expected=f"{len(plan.groups or [0])} group(s) in .param_groups",
           got="no .param_groups" if groups is None else f"{len(groups) if isinstance(groups, list) else groups!r}",
           hint=f"class {plan.name}(torch.optim.Optimizer): ... super().__init__(params, defaults)")
    return opt


def replay(student: Any, plan: Plan, inputs: Inputs) -> tuple[list[torch.Tensor], Any, list]:
    """The student's trajectory, (steps, *shape) per parameter; the optimizer and parameter handles."""
    params = [student.put(s, requires_grad=True) for s in inputs.starts]
    opt = build(student, plan, params)
    return run_steps(student, plan, opt, params, inputs.grads), opt, params


def run_steps(student: Any, plan: Plan, opt: Any, params: list, grads: list[list[torch.Tensor]]) -> list[torch.Tensor]:
    """Each step: the plan's lr changes, the grads set (one request for all), then ``opt.call("step")``."""
    feed = student.construct("toolbox.hw6_optimizers.GradSetter", params)
    groups = opt.attr("param_groups", handle=True) if plan.lr_changes else None
    history: list[list] = []
    for t, step_grads in enumerate(grads):
        for gi, lr in enumerate(plan.lr_changes.get(t, [])):
            groups[gi].call("__setitem__", "lr", lr)
        values = feed([None if (t, i) in plan.missing else g for i, g in enumerate(step_grads)])
        if t:
            history.append(values)  # the parameters after step t - 1
        opt.call("step")
    history.append(feed.call("values"))
    return [_stack([h[i] for h in history], plan) for i in range(len(params))]


def _stack(values: list, plan: Plan) -> torch.Tensor:
    for v in values:
        if not isinstance(v, torch.Tensor) or v.dtype != plan.dtype:
            raise CheckFailed(f"{plan.name}.step keeps each parameter a tensor of its dtype", plan.text(),
                              f"expected a {plan.dtype} tensor, got {type(v).__name__} "
                              f"{getattr(v, 'dtype', '')}", "update the parameters in place; keep their dtype")
    return torch.stack([v.to(plan.device) for v in values])


def reference(ref: Any, plan: Plan, inputs: Inputs, *, missing_as_zero: bool = False,
              ignore_lr_changes: bool = False, one_lr: bool = False) -> list[torch.Tensor]:
    """torch.optim's trajectory for the plan, or for a variant of it that names a mistake: a missing grad taken
    as zero, the lr changes ignored, or (``one_lr``) the constructor's lr used for every group at every step."""
    params = [s.clone().requires_grad_(True) for s in inputs.starts]
    spec = _spec(plan, params)
    if one_lr and plan.groups:
        spec = [{**g, "lr": plan.kwargs.get("lr", DEFAULTS[plan.name]["lr"])} for g in spec]
    ignore_lr_changes = ignore_lr_changes or one_lr
    opt = ref.OPTIMIZERS[plan.name](spec, **plan.kwargs)
    history: list[list[torch.Tensor]] = [[] for _ in params]
    for t, step_grads in enumerate(inputs.grads):
        if not ignore_lr_changes:
            for gi, lr in enumerate(plan.lr_changes.get(t, [])):
                opt.param_groups[gi]["lr"] = lr
        for i, (p, g) in enumerate(zip(params, step_grads)):
            absent = (t, i) in plan.missing
            p.grad = torch.zeros_like(g) if absent and missing_as_zero else None if absent else g.clone()
        opt.step()
        for i, p in enumerate(params):
            history[i].append(p.detach().clone())
    return [torch.stack(h) for h in history]


def known_mistakes(plan: Plan, inputs: Inputs) -> dict[str, list[torch.Tensor]]:
    """Each catalogued mistake's trajectory, for a single-group, constant-lr, every-gradient plan."""
    if plan.groups or plan.missing or plan.lr_changes:
        return {}
    options = {k: v for k, v in DEFAULTS[plan.name].items()}
    options.update(plan.kwargs)
    return {text: simulate(plan.name, options, inputs.starts, inputs.grads, key)
            for key, text in MISTAKES[plan.name].items()}


def expect_same_trajectory(got: list[torch.Tensor], expected: list[torch.Tensor], plan: Plan, inputs: Inputs,
                           mistakes: Callable[[], dict[str, list[torch.Tensor]]] | None = None, hint: str = "") -> None:
    """Every parameter after every step equals torch.optim's; the first step that differs is reported, naming a
    known mistake (``mistakes()``: computed only then) whose whole trajectory the student's equals."""
    scale = 4.0 if plan.dtype == torch.float32 else 1.0  # rounding accumulates over the steps
    if all(matches(g, e, scale=scale) for g, e in zip(got, expected)):
        return
    mistakes = dict(mistakes() if mistakes else {})
    mistakes[NOT_IN_PLACE] = [s.unsqueeze(0).expand_as(e) for s, e in zip(inputs.starts, expected)]
    for t in range(plan.steps):
        for i, (g, e) in enumerate(zip(got, expected)):
            if matches(g[t], e[t], scale=scale):
                continue
            named = {name: traj[i][t] for name, traj in mistakes.items()
                     if all(matches(a, b, scale=scale) for a, b in zip(got, traj))}
            expect_tensor(g[t], e[t], f"after step {t + 1} of {plan.steps}, parameter {i} (shape "
                          f"{tuple(plan.shapes[i])}) equals torch.optim.{plan.name}'s", inputs=plan.text(),
                          mistakes=named, scale=scale,
                          hint=hint or f"compare your update with the formulas in the notebook: PyTorch's "
                                       f"{plan.name}, defaults and every option included")


def run_and_compare(student: Any, ref: Any, plan: Plan, hint: str = "") -> tuple[list[torch.Tensor], Any, list]:
    """Replay the plan in the student's optimizer and in torch.optim's; every step must agree."""
    inputs = make_inputs(plan)
    got, opt, params = replay(student, plan, inputs)
    expected = reference(ref, plan, inputs)
    expect_same_trajectory(got, expected, plan, inputs, lambda: known_mistakes(plan, inputs), hint)
    return got, opt, params


def check_defaults(student: Any, ref: Any, name: str, dtype: torch.dtype, device: torch.device,
                   required: dict | None = None) -> None:
    """The defaults dict holds the contract's defaults, and a run on defaults follows torch.optim's class."""
    plan = Plan(name, dict(required or {}), steps=20, dtype=dtype, device=device)
    probe = build(student, plan, [student.put(torch.zeros(2, dtype=dtype, device=device), requires_grad=True)])
    defaults = probe.attr("defaults")
    for key, want in DEFAULTS[name].items():
        if want is None:
            continue
        have = defaults.get(key, "missing") if isinstance(defaults, dict) else "missing"
        same = have == want or (isinstance(want, tuple) and isinstance(have, (list, tuple)) and tuple(have) == want)
        expect(same, f"{name}'s default {key} is torch.optim.{name}'s", inputs=plan.text(),
               expected=f"self.defaults[{key!r}] == {want!r}", got=f"{have!r}",
               mistake=None if have == "missing" else f"a default {key} of {have!r}, where torch.optim.{name}'s is "
                                                      f"{want!r}",
               hint=f"def __init__(self, params, ..., {key}={want!r}, ...): pass every option to "
                    f"super().__init__(params, defaults) under its own name")
    run_and_compare(student, ref, plan, hint=f"{name}'s defaults must be torch.optim.{name}'s: "
                    f"{', '.join(f'{k}={v!r}' for k, v in DEFAULTS[name].items() if v is not None)}")


def check_options(student: Any, ref: Any, name: str, option_sets: list[dict], dtype: torch.dtype,
                  device: torch.device, steps: int = 20) -> None:
    """Each option set, one at a time, on the run's device: all of them in float64; in float32 (rounding only) the
    last two sets, which change several options at once."""
    for kwargs in option_sets if dtype == torch.float64 else option_sets[-2:]:
        run_and_compare(student, ref, Plan(name, kwargs, steps=steps, dtype=dtype, device=device))


def check_groups_missing_grads_and_lr(student: Any, ref: Any, name: str, groups: list[dict], kwargs: dict,
                                      dtype: torch.dtype, device: torch.device) -> None:
    """Two param groups with their own options; a parameter whose grad is None at some steps (skipped, its
    state not advanced); the learning rates changed in param_groups between steps."""
    plan = Plan(name, kwargs, shapes=[(4, 3), (6,), (2, 2, 2)], steps=24, dtype=dtype, device=device,
                groups=groups, missing=frozenset({(0, 2), (3, 2), (4, 2), (9, 2), (15, 1)}),
                lr_changes={8: [g.get("lr", kwargs.get("lr")) * 0.5 for g in groups],
                            16: [g.get("lr", kwargs.get("lr")) * 0.2 for g in groups]})
    inputs = make_inputs(plan)
    got, _, _ = replay(student, plan, inputs)
    expected = reference(ref, plan, inputs)
    mistakes = lambda: {  # noqa: E731
        "a parameter whose grad is None was stepped as if its gradient were zero (its state advanced); skip it: "
        "`if p.grad is None: continue`": reference(ref, plan, inputs, missing_as_zero=True),
        "the learning rate is read once (in __init__) instead of from group['lr'] at every step, so a schedule "
        "cannot change it": reference(ref, plan, inputs, ignore_lr_changes=True),
        "the learning rate is read once (self.lr = lr in __init__) instead of from group['lr'] at every step: the "
        "groups' own learning rates and any schedule are ignored": reference(ref, plan, inputs, one_lr=True),
    }
    expect_same_trajectory(got, expected, plan, inputs, mistakes,
                           hint="loop over self.param_groups and read every option from the group (group['lr'], "
                                "...) at every step; skip parameters whose grad is None")


def check_tiny_gradients(student: Any, ref: Any, name: str, kwargs: dict, dtype: torch.dtype,
                         device: torch.device) -> None:
    """Gradients of about 1e-8: the size of epsilon's effect shows where it sits."""
    plan = Plan(name, kwargs, steps=20, dtype=dtype, device=device, grad_scale=1e-8)
    run_and_compare(student, ref, plan, hint="epsilon goes on the (bias-corrected) square root, as in torch.optim: "
                                             "... / (sqrt(v_hat) + eps)")


def check_grad_and_leaves(student: Any, ref: Any, name: str, kwargs: dict, dtype: torch.dtype,
                          device: torch.device) -> None:
    """After steps, p.grad is the tensor the grader set, unchanged, and each parameter is still the same
    leaf tensor that requires grad, of its dtype; also at the edges: a single first step on a 0-d and a 1x1
    parameter in float32 without weight decay (where p.grad itself is the gradient used), and lr = 0."""
    plans = [Plan(name, kwargs, steps=3, dtype=dtype, device=device),
             Plan(name, {**kwargs, "weight_decay": 0.0}, shapes=[(), (1, 1)], steps=1, dtype=torch.float32,
                  device=device),
             Plan(name, {**kwargs, "lr": 0.0}, shapes=[(2,)], steps=2, dtype=dtype, device=device)]
    for plan in plans:
        _grads_and_leaves_kept(student, ref, plan)


def _grads_and_leaves_kept(student: Any, ref: Any, plan: Plan) -> None:
    name, kwargs = plan.name, plan.kwargs
    inputs = make_inputs(plan)
    _, _, params = replay(student, plan, inputs)
    shorter = Plan(plan.name, plan.kwargs, plan.shapes, plan.steps - 1, plan.dtype, plan.device)
    before_last = ([traj[-1] for traj in reference(ref, shorter, Inputs(inputs.starts, inputs.grads[:-1]))]
                   if shorter.steps else inputs.starts)
    for i, p in enumerate(params):
        info = p.describe()
        expect(info.get("is_leaf") and info.get("requires_grad"), f"{name}.step leaves parameter {i} a leaf tensor "
               "that requires grad", inputs=plan.text(), expected="is_leaf = True, requires_grad = True",
               got=f"is_leaf = {info.get('is_leaf')}, requires_grad = {info.get('requires_grad')}",
               hint="update the parameter in place inside torch.no_grad(); never replace it or detach it")
        grad, given = p.attr("grad"), inputs.grads[-1][i]
        expect_tensor(grad, given, f"{name}.step leaves parameter {i}'s .grad unchanged",
                      inputs=plan.text(), mistakes={"weight decay was added to p.grad in place (p.grad.add_(...) "
                                                    "or grad += ...): use g = p.grad + wd * p, a new tensor":
                                                    given + kwargs.get("weight_decay", 0.0) * before_last[i],
                                                    "p.grad was scaled in place (p.grad.mul_(...), or a state buffer "
                                                    "that is p.grad itself, updated with .mul_): clone it first":
                                                    _scaled(grad, given)},
                      hint="never write into p.grad: compute a new tensor (g = p.grad + wd * p), not g += ...")


def _scaled(got: Any, given: torch.Tensor) -> torch.Tensor | None:
    """``given`` times the one factor that brings it closest to ``got``, when that factor is not 1 (a gradient
    scaled in place); None otherwise."""
    if not isinstance(got, torch.Tensor) or got.shape != given.shape or not float(given.square().sum()):
        return None
    factor = float((got.to(given) * given).sum() / given.square().sum())
    return None if abs(factor - 1) < 1e-6 else factor * given


def check_closure(student: Any, ref: Any, name: str, kwargs: dict, dtype: torch.dtype, device: torch.device) -> None:
    """step(closure) calls the closure with autograd on, uses the gradient it computes, and returns its loss."""
    n = 4
    A = torch.randn(n, n, dtype=dtype, device=device)
    A = A @ A.T + n * torch.eye(n, dtype=dtype, device=device)
    center = torch.randn(n, dtype=dtype, device=device)
    start = torch.randn(n, dtype=dtype, device=device)
    where = f"{name}([x], {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}), x of shape ({n},) " \
            f"{str(dtype).removeprefix('torch.')} on {device}, closure: zero x.grad, loss = " \
            "1/2 (x - c)^T A (x - c), loss.backward(), return loss"
    p = student.put(start, requires_grad=True)
    f = student.construct("toolbox.Objective", A, center)
    opt = getattr(student, name)([p], **kwargs)
    q = start.clone().requires_grad_(True)
    ropt = ref.OPTIMIZERS[name]([q], **kwargs)
    local = _objective(A, center)
    for step in range(3):
        closure = f.method("closure").handle(p)
        loss = opt.call("step", closure)
        expected_loss = ropt.step(lambda: _closure(local, q))
        hint = "loss = None; if closure is not None: with torch.enable_grad(): loss = closure(); ...; return loss"
        expect(loss is not None, f"{name}.step(closure) returns the closure's loss", inputs=where,
               expected="the loss (a 0-d tensor)", got="None", hint=hint)
        expect_tensor(loss, expected_loss.detach(),
                      f"{name}.step(closure) returns the closure's loss (call {step + 1})", inputs=where, hint=hint)
        x = p.get()
        if not matches(x, q.detach()) and not _steps_right_without_closure(student, ref, name, kwargs, A, center,
                                                                           start, step + 1):
            # the update itself differs, closure or not (an option such as dampening or weight decay): the
            # option checks name that; saying "call the closure first" would blame what is already right
            expect_tensor(x, q.detach(), f"after step(closure) {step + 1}, x equals torch.optim.{name}'s",
                          inputs=where, hint=f"{name}'s update differs from torch.optim.{name}'s with these options "
                                             "even without a closure: see the checks of its options")
        expect_tensor(x, q.detach(), f"after step(closure) {step + 1}, x equals torch.optim.{name}'s",
                      inputs=where, mistakes={"the closure is called after the update (or its gradient is not "
                                              "used)": x},
                      hint="call the closure BEFORE the update, so that the update uses the gradient it computed")


def _steps_right_without_closure(student: Any, ref: Any, name: str, kwargs: dict, A: torch.Tensor,
                                 center: torch.Tensor, start: torch.Tensor, steps: int) -> bool:
    """Whether the student's optimizer follows torch.optim's on the closure test's objective when the grader
    sets the gradients itself and calls step() without a closure (only asked once the closure run differs)."""
    f = _objective(A, center)
    p = student.put(start, requires_grad=True)
    q = start.clone().requires_grad_(True)
    opt, ropt = getattr(student, name)([p], **kwargs), ref.OPTIMIZERS[name]([q], **kwargs)
    try:
        for _ in range(steps):
            x = p.get().detach().requires_grad_(True)
            p.set("grad", torch.autograd.grad(f(x), [x])[0])
            opt.call("step")
            _closure(f, q)
            ropt.step()
        return matches(p.get(), q.detach())
    except (CheckFailed, StudentCodeError):
        return False


def _objective(A: torch.Tensor, center: torch.Tensor):
    return lambda x: 0.5 * (x - center) @ (A @ (x - center))


def _closure(f, q: torch.Tensor) -> torch.Tensor:
    q.grad = None
    loss = f(q)
    loss.backward()
    return loss


def check_state_dict_round_trip(student: Any, ref: Any, name: str, kwargs: dict, dtype: torch.dtype,
                                device: torch.device) -> None:
    """The state lives in self.state: state_dict() after 10 steps, loaded into a NEW optimizer on new parameters
    holding the same values, continues the run exactly as the first one would have."""
    first = Plan(name, kwargs, steps=10, dtype=dtype, device=device)
    whole = Plan(name, kwargs, steps=20, dtype=dtype, device=device)
    inputs = make_inputs(whole)
    expected = reference(ref, whole, inputs)
    got1, opt, params = replay(student, first, Inputs(inputs.starts, inputs.grads[:10]))
    expect_same_trajectory(got1, [e[:10] for e in expected], first, Inputs(inputs.starts, inputs.grads[:10]))
    saved = opt.call("state_dict")
    state = saved.get("state") if isinstance(saved, dict) else None
    expect(isinstance(state, dict) and len(state) == len(params), f"{name} keeps per-parameter state in self.state",
           inputs=first.text(), expected=f"state_dict()['state'] with an entry for each of the {len(params)} "
           "parameters", got=f"{len(state)} entries" if isinstance(state, dict) else describe_saved(saved),
           mistake="the per-parameter state is kept outside self.state (in an attribute or a global), so "
                   "state_dict() and load_state_dict() do not carry it",
           hint="keep buffers and step counts in self.state[p] (a dict per parameter), not in attributes or globals")
    fresh = [student.put(g[-1], requires_grad=True) for g in got1]
    second_plan = Plan(name, kwargs, steps=10, dtype=dtype, device=device)
    opt2 = build(student, second_plan, fresh)
    opt2.call("load_state_dict", saved)
    got2 = run_steps(student, second_plan, opt2, fresh, inputs.grads[10:])
    restart = Inputs([g[-1] for g in got1], inputs.grads[10:])
    lost = "the state was not carried over by state_dict() / load_state_dict(): keep it in self.state[p]"
    expect_same_trajectory(got2, [e[10:] for e in expected], second_plan, restart,
                           lambda: {lost: reference(ref, second_plan, restart)},
                           hint="keep every buffer and step count in self.state[p]; load_state_dict() then restores "
                                "them on the new parameters")


def describe_saved(saved: Any) -> str:
    return f"state_dict() returned {type(saved).__name__}"
