"""Rebuild hw6's example submissions from the release: python tests/submissions/hw6_optimizers/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
from helpers import fill, solution_cells, write  # noqa: E402

ID = "hw6_optimizers"
SOLVED = solution_cells(ID)

# Correct, written differently: torch._foreach_* list operations, lerp_, a step count kept as a tensor, state
# under other keys, AdamW as a subclass of Adam, torch.func for the Hessian, loops for the schedules.
FOREACH = {
    "classify_critical_point": '''
def classify_critical_point(f, point):
    x = point.detach()
    if torch.linalg.vector_norm(torch.func.grad(f)(x)) > 1e-4:
        raise ValueError("the gradient does not vanish here")
    ev = torch.linalg.eigvals(torch.func.hessian(f)(x)).real
    if int((ev > 0).sum()) == ev.numel():
        return "minimum"
    if int((ev < 0).sum()) == ev.numel():
        return "maximum"
    return "saddle"
''',
    "SGD": '''
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov})

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        with torch.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if not params:
                    continue
                grads = [p.grad for p in params]
                if group["weight_decay"]:
                    grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
                if group["momentum"]:
                    bufs = []
                    for p, g in zip(params, grads):
                        st = self.state[p]
                        if "velocity" not in st:
                            st["velocity"] = torch.clone(g).detach()
                        else:
                            st["velocity"].mul_(group["momentum"]).add_(g, alpha=1 - group["dampening"])
                        bufs.append(st["velocity"])
                    grads = torch._foreach_add(grads, bufs, alpha=group["momentum"]) if group["nesterov"] else bufs
                torch._foreach_add_(params, grads, alpha=-group["lr"])
        return loss
''',
    "Adagrad": '''
class Adagrad(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, eps=eps, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if not params:
                    continue
                grads = torch._foreach_add([p.grad for p in params], params, alpha=group["weight_decay"])
                sums = [self.state[p].setdefault("G", torch.zeros_like(p)) for p in params]
                torch._foreach_addcmul_(sums, grads, grads)
                denoms = torch._foreach_add(torch._foreach_sqrt(sums), group["eps"])
                torch._foreach_addcdiv_(params, grads, denoms, value=-group["lr"])
        return loss
''',
    "RMSprop": '''
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum))

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad.add(p, alpha=group["weight_decay"]) if group["weight_decay"] else p.grad
                    st = self.state[p]
                    ms = st.setdefault("mean_square", torch.zeros_like(p))
                    ms.lerp_(g * g, 1 - group["alpha"])
                    scaled = g / (ms.sqrt() + group["eps"])
                    if group["momentum"] > 0:
                        mom = st.setdefault("mom", torch.zeros_like(p))
                        mom.mul_(group["momentum"]).add_(scaled)
                        scaled = mom
                    p.sub_(group["lr"] * scaled)
        return loss
''',
    "Adam": '''
class Adam(torch.optim.Optimizer):
    decoupled = False

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state[p]
                    if len(st) == 0:
                        st["t"] = torch.tensor(0.0)
                        st["m"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                        st["v"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    g = p.grad
                    if group["weight_decay"]:
                        if self.decoupled:
                            p.mul_(1 - group["lr"] * group["weight_decay"])
                        else:
                            g = g.add(p, alpha=group["weight_decay"])
                    st["t"] += 1
                    t = st["t"].item()
                    st["m"].lerp_(g, 1 - b1)
                    st["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
                    denom = (st["v"].sqrt() / math.sqrt(1 - b2 ** t)).add_(group["eps"])
                    p.addcdiv_(st["m"], denom, value=-group["lr"] / (1 - b1 ** t))
        return loss
''',
    "AdamW": '''
class AdamW(Adam):
    decoupled = True

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)
''',
    "step_decay": '''
def step_decay(t, base_lr, step_size, gamma=0.1):
    lr = base_lr
    for _ in range(t // step_size):
        lr *= gamma
    return lr
''',
    "cosine_annealing": '''
def cosine_annealing(t, base_lr, total_steps, min_lr=0.0):
    fraction = min(t, total_steps) / total_steps
    return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + math.cos(math.pi * fraction))
''',
    "warmup_cosine": '''
def warmup_cosine(t, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if t < warmup_steps:
        return (t + 1) * base_lr / warmup_steps
    return cosine_annealing(t - warmup_steps, base_lr, total_steps - warmup_steps, min_lr)
''',
}

# Correct too, in plain arithmetic: one parameter at a time, p -= ... inside torch.no_grad(), new tensors for
# the state (no in-place buffers), its own key names, Python ints for step counts.
PLAIN = {
    "classify_critical_point": '''
def classify_critical_point(f, point):
    x = point.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        y = f(x)
        (g,) = torch.autograd.grad(y, x, create_graph=True)
        if float(g.norm()) > 1e-4:
            raise ValueError(f"gradient norm {float(g.norm())} > 1e-4: not a critical point")
        rows = [torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(len(x))]
    H = torch.stack(rows).detach()
    signs = torch.sign(torch.linalg.eigvalsh((H + H.T) / 2))
    return {1: "minimum", -1: "maximum"}.get(int(signs[0]) if bool((signs == signs[0]).all()) else 0, "saddle")
''',
    "SGD": '''
class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad + group["weight_decay"] * p
                if group["momentum"] != 0:
                    old = self.state[p].get("v")
                    v = d if old is None else group["momentum"] * old + (1 - group["dampening"]) * d
                    self.state[p]["v"] = v
                    d = d + group["momentum"] * v if group["nesterov"] else v
                p -= group["lr"] * d
        return loss
''',
    "Adagrad": '''
class Adagrad(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                s = self.state[p].get("squares", 0) + g * g
                self.state[p]["squares"] = s
                p -= group["lr"] * g / (torch.sqrt(s) + group["eps"])
        return loss
''',
    "RMSprop": '''
class RMSprop(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                                  "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            a = group["alpha"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                g = p.grad + group["weight_decay"] * p
                s = a * state.get("s", torch.zeros_like(p)) + (1 - a) * g * g
                state["s"] = s
                update = g / (torch.sqrt(s) + group["eps"])
                if group["momentum"] > 0:
                    update = group["momentum"] * state.get("b", torch.zeros_like(p)) + update
                    state["b"] = update
                p -= group["lr"] * update
        return loss
''',
    "Adam": '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                g = p.grad + group["weight_decay"] * p
                n = state.get("n", 0) + 1
                m = b1 * state.get("first", torch.zeros_like(p)) + (1 - b1) * g
                v = b2 * state.get("second", torch.zeros_like(p)) + (1 - b2) * g * g
                state.update(n=n, first=m, second=v)
                p -= group["lr"] * (m / (1 - b1 ** n)) / (torch.sqrt(v / (1 - b2 ** n)) + group["eps"])
        return loss
''',
    "AdamW": '''
class AdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            b1, b2 = group["betas"]
            lr = group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                g = p.grad
                p *= 1 - lr * group["weight_decay"]
                n = state.get("n", 0) + 1
                m = b1 * state.get("first", torch.zeros_like(p)) + (1 - b1) * g
                v = b2 * state.get("second", torch.zeros_like(p)) + (1 - b2) * g * g
                state.update(n=n, first=m, second=v)
                p -= lr * (m / (1 - b1 ** n)) / (torch.sqrt(v / (1 - b2 ** n)) + group["eps"])
        return loss
''',
    "step_decay": '''
def step_decay(t, base_lr, step_size, gamma=0.1):
    return float(base_lr * math.pow(gamma, math.floor(t / step_size)))
''',
    "cosine_annealing": '''
def cosine_annealing(t, base_lr, total_steps, min_lr=0.0):
    if t > total_steps:
        return min_lr
    return (base_lr + min_lr) / 2 + (base_lr - min_lr) / 2 * math.cos(t / total_steps * math.pi)
''',
    "warmup_cosine": '''
def warmup_cosine(t, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if t >= total_steps:
        return min_lr
    if t < warmup_steps:
        return base_lr * (t + 1) / warmup_steps
    angle = math.pi * (t - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(angle)) / 2
''',
}

# Known mistakes, one per optimizer and schedule (each should be named in the report).
WRONG_KNOWN = {
    "SGD": SOLVED["SGD"].replace(
        'buf = state["momentum_buffer"] = g.clone()  # the first buffer is the gradient itself',
        'buf = state["momentum_buffer"] = (1 - tau) * g'),
    "Adagrad": SOLVED["Adagrad"].replace('state["sum"].sqrt().add_(group["eps"])',
                                         '(state["sum"] + group["eps"]).sqrt()'),
    "Adam": SOLVED["Adam"].replace("m_hat = m / (1 - beta1 ** t)", "m_hat = m").replace(
        "v_hat = v / (1 - beta2 ** t)", "v_hat = v"),
    "AdamW": SOLVED["AdamW"].replace(
        'p.mul_(1 - group["lr"] * group["weight_decay"])  # decoupled: not through the gradient',
        'g = g + group["weight_decay"] * p'),
    "cosine_annealing": '''
def cosine_annealing(t, base_lr, total_steps, min_lr=0.0):
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2
''',
}

# Cheats: PyTorch's own optimizers behind the student's names (a subclass, a wrapper holding one).
CHEAT_WRAP_TORCH = {
    "Adam": '''
class Adam(torch.optim.Adam):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=False)
''',
    "AdamW": '''
class AdamW(torch.optim.Optimizer):
    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self.inner = None

    @torch.no_grad()
    def step(self, closure=None):
        if self.inner is None:
            opt = torch.optim.AdamW
            self.inner = opt(self.param_groups)  # the very same group dicts: lr changes reach it
            self.state = self.inner.state
        return self.inner.step(closure)
''',
}

# Cheats: the functional API, and the private per-algorithm kernel behind torch.optim.RMSprop.
CHEAT_FUNCTIONAL = {
    "SGD": SOLVED["SGD"].split("    @torch.no_grad()")[0] + '''    @torch.no_grad()
    def step(self, closure=None):
        import torch.optim._functional as functional
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            bufs = [self.state[p].get("momentum_buffer") for p in params]
            functional.sgd(params, [p.grad for p in params], bufs, weight_decay=group["weight_decay"],
                           momentum=group["momentum"], lr=group["lr"], dampening=group["dampening"],
                           nesterov=group["nesterov"], maximize=False)
            if group["momentum"]:
                for p, b in zip(params, bufs):
                    self.state[p]["momentum_buffer"] = b
''',
    "RMSprop": SOLVED["RMSprop"].split("    @torch.no_grad()")[0] + '''    @torch.no_grad()
    def step(self, closure=None):
        from torch.optim.rmsprop import _single_tensor_rmsprop as run
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                st = self.state[p]
                if not st:
                    st.update(step=torch.tensor(0.0), square_avg=torch.zeros_like(p),
                              momentum_buffer=torch.zeros_like(p))
            s = [self.state[p] for p in params]
            run(params, [p.grad for p in params], [x["square_avg"] for x in s], [], [x["momentum_buffer"] for x in s],
                [x["step"] for x in s], lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                weight_decay=group["weight_decay"], momentum=group["momentum"], centered=False, maximize=False,
                differentiable=False, capturable=False, has_complex=False)
''',
}


def main() -> None:
    write(fill(ID, SOLVED), HERE / "correct_solution.ipynb")
    write(fill(ID, FOREACH), HERE / "correct_alternative_foreach.ipynb")
    write(fill(ID, PLAIN), HERE / "correct_alternative_plain.ipynb")
    done = ("classify_critical_point", "SGD", "Adam", "step_decay", "cosine_annealing")
    write(fill(ID, {k: SOLVED[k] for k in done}), HERE / "half_done.ipynb")
    write(fill(ID, {**SOLVED, **WRONG_KNOWN}), HERE / "wrong_known_mistakes.ipynb")
    write(fill(ID, {**SOLVED, **CHEAT_WRAP_TORCH}), HERE / "cheat_wraps_torch_adam.ipynb")
    write(fill(ID, {**SOLVED, **CHEAT_FUNCTIONAL}), HERE / "cheat_functional_api.ipynb")


if __name__ == "__main__":
    main()
