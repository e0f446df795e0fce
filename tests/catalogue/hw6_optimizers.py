"""Wrong implementations of hw6's functions and optimizers, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that exposes it.
Most optimizer entries are the notebook's solution with one line changed (``_edit``), as a student's slip would be.
"""
from helpers import Wrong, solution_cells

_SOLVED = solution_cells("hw6_optimizers")


def _edit(task: str, *pairs: str) -> str:
    """The solution of ``task`` with each (old, new) pair of lines replaced; old must occur."""
    text = _SOLVED[task]
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert old in text, f"{task}: {old!r} not in the solution"
        text = text.replace(old, new)
    return text


_SKIP = "                if p.grad is None:\n                    continue\n                g = p.grad\n"
_ZERO_FOR_NONE = "                g = p.grad if p.grad is not None else torch.zeros_like(p)\n"
_CLOSURE = "            with torch.enable_grad():\n                loss = closure()\n"
_CLOSURE_NO_GRAD = "            loss = closure()\n"
_DECAY = '                if group["weight_decay"] != 0:\n                    g = g + group["weight_decay"] * p\n'

WRONG = [
    # ----- classify_critical_point -------------------------------------------------------------------
    Wrong("classify_critical_point", "the determinant decides (the 2-D rule used in 3-D)", '''
def classify_critical_point(f, point):
    x = point.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    if grad.norm() > 1e-4:
        raise ValueError("not a critical point")
    H = torch.autograd.functional.hessian(f, point.detach())
    if torch.det(H) > 0:
        return "minimum" if H[0, 0] > 0 else "maximum"
    return "saddle"
''', "the determinant alone decides"),
    Wrong("classify_critical_point", "the trace decides", '''
def classify_critical_point(f, point):
    x = point.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    if grad.norm() > 1e-4:
        raise ValueError("not a critical point")
    H = torch.autograd.functional.hessian(f, point.detach())
    return "minimum" if torch.trace(H) > 0 else "maximum"
''', "the trace (the sum of the eigenvalues) decides"),
    Wrong("classify_critical_point", "the diagonal of the Hessian instead of its eigenvalues", '''
def classify_critical_point(f, point):
    x = point.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    if grad.norm() > 1e-4:
        raise ValueError("not a critical point")
    d = torch.diagonal(torch.autograd.functional.hessian(f, point.detach()))
    return "minimum" if (d > 0).all() else "maximum" if (d < 0).all() else "saddle"
''', "the diagonal entries of the Hessian decide"),
    Wrong("classify_critical_point", "no ValueError away from a critical point", '''
def classify_critical_point(f, point):
    eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, point.detach()))
    return "minimum" if (eig > 0).all() else "maximum" if (eig < 0).all() else "saddle"
''', "the gradient is not checked"),
    Wrong("classify_critical_point", "each gradient component compared with 1e-4 instead of the norm", '''
def classify_critical_point(f, point):
    x = point.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    if (grad.abs() > 1e-4).any():
        raise ValueError("not a critical point")
    eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, point.detach()))
    return "minimum" if (eig > 0).all() else "maximum" if (eig < 0).all() else "saddle"
''', "each component of the gradient is compared with 1e-4"),
    Wrong("classify_critical_point", "the Hessian at the origin instead of at the point", '''
def classify_critical_point(f, point):
    x = point.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(x), x)
    if grad.norm() > 1e-4:
        raise ValueError("not a critical point")
    eig = torch.linalg.eigvalsh(torch.autograd.functional.hessian(f, torch.zeros_like(point)))
    return "minimum" if (eig > 0).all() else "maximum" if (eig < 0).all() else "saddle"
''', "names the critical point by the signs of the Hessian's eigenvalues"),

    # ----- SGD ----------------------------------------------------------------------------------------
    Wrong("SGD", "the momentum buffer starts at zero instead of the first gradient", _edit(
        "SGD", 'buf = state["momentum_buffer"] = g.clone()  # the first buffer is the gradient itself',
        'buf = state["momentum_buffer"] = (1 - tau) * g'), "the momentum buffer starts at zero"),
    Wrong("SGD", "nesterov ignored", _edit(
        "SGD", 'g = g + mu * buf if group["nesterov"] else buf', "g = buf"), "nesterov=True is ignored"),
    Wrong("SGD", "Nesterov along buf + momentum * buf", _edit(
        "SGD", 'g = g + mu * buf if group["nesterov"] else buf', 'g = buf + mu * buf if group["nesterov"] else buf'),
        "Nesterov steps along momentum * buf + buf"),
    Wrong("SGD", "dampening ignored", _edit("SGD", "buf.mul_(mu).add_(g, alpha=1 - tau)", "buf.mul_(mu).add_(g)"),
          "dampening is ignored"),
    Wrong("SGD", "weight decay applied after the momentum", _edit(
        "SGD", _DECAY,
        "", 'p.add_(g, alpha=-group["lr"])', 'p.add_(g + group["weight_decay"] * p, alpha=-group["lr"])'),
        "weight decay is applied to the parameter directly"),
    Wrong("SGD", "weight decay added to p.grad in place", _edit(
        "SGD", 'g = g + group["weight_decay"] * p', 'g.add_(p, alpha=group["weight_decay"])'),
        "weight decay was added to p.grad in place"),
    Wrong("SGD", "a None gradient stepped as zero", _edit("SGD", _SKIP, _ZERO_FOR_NONE),
          "stepped as if its gradient were zero"),
    Wrong("SGD", "the learning rate read once in __init__", _edit(
        "SGD", "super().__init__(params, defaults)", "super().__init__(params, defaults)\n        self.lr = lr",
        'p.add_(g, alpha=-group["lr"])', "p.add_(g, alpha=-self.lr)"), "the learning rate is read once"),
    Wrong("SGD", "the closure called with autograd off", _edit("SGD", _CLOSURE, _CLOSURE_NO_GRAD),
          "autograd switched off"),
    Wrong("SGD", "parameters rebound instead of updated in place", _edit(
        "SGD", 'p.add_(g, alpha=-group["lr"])', 'p = p - group["lr"] * g'), "the parameters never change"),

    # ----- Adagrad ------------------------------------------------------------------------------------
    Wrong("Adagrad", "root mean square of past gradients (the lecture notes)", _edit(
        "Adagrad", 'state["sum"].addcmul_(g, g)', 'state["sum"].addcmul_(g, g)\n'
        '                state["n"] = state.get("n", 0) + 1',
        'state["sum"].sqrt()', '(state["sum"] / state["n"]).sqrt()'), "root MEAN square"),
    Wrong("Adagrad", "epsilon inside the square root (d2l's from-scratch code)", _edit(
        "Adagrad", 'state["sum"].sqrt().add_(group["eps"])', '(state["sum"] + group["eps"]).sqrt()'),
        "epsilon is inside the square root"),
    Wrong("Adagrad", "default eps 1e-8 instead of 1e-10", _edit("Adagrad", "eps=1e-10", "eps=1e-8"),
          "default eps is torch.optim.Adagrad's"),
    Wrong("Adagrad", "weight decay added after accumulating", _edit(
        "Adagrad", _DECAY,
        "", 'state["sum"].addcmul_(g, g)', 'state["sum"].addcmul_(g, g)\n'
        '                g = g + group["weight_decay"] * p'), "weight decay is added after the squared gradient"),
    Wrong("Adagrad", "the update before accumulating this step's gradient", _edit(
        "Adagrad", '                state["sum"].addcmul_(g, g)\n                p.addcdiv_(g, state["sum"].sqrt()'
        '.add_(group["eps"]), value=-group["lr"])\n',
        '                p.addcdiv_(g, state["sum"].sqrt().add_(group["eps"]), value=-group["lr"])\n'
        '                state["sum"].addcmul_(g, g)\n'), "equals torch.optim.Adagrad's"),

    # ----- RMSprop ------------------------------------------------------------------------------------
    Wrong("RMSprop", "epsilon inside the square root", _edit(
        "RMSprop", 'denom = v.sqrt().add_(group["eps"])', 'denom = (v + group["eps"]).sqrt()'),
        "epsilon is inside the square root"),
    Wrong("RMSprop", "alpha and 1 - alpha swapped", _edit(
        "RMSprop", "v.mul_(alpha).addcmul_(g, g, value=1 - alpha)", "v.mul_(1 - alpha).addcmul_(g, g, value=alpha)"),
        "alpha and 1 - alpha are swapped"),
    Wrong("RMSprop", "bias correction as in Adam", _edit(
        "RMSprop", "v.mul_(alpha).addcmul_(g, g, value=1 - alpha)",
        'v.mul_(alpha).addcmul_(g, g, value=1 - alpha)\n                state["t"] = state.get("t", 0) + 1',
        'denom = v.sqrt().add_(group["eps"])', 'denom = (v / (1 - alpha ** state["t"])).sqrt().add_(group["eps"])'),
        "RMSprop is bias-corrected like Adam"),
    Wrong("RMSprop", "the average starts at the first squared gradient (the lecture notes)", _edit(
        "RMSprop", 'state["square_avg"] = torch.zeros_like(p)', 'state["square_avg"] = g * g  # sigma_0 = abs(g_0)'),
        "the average starts at the first squared gradient"),
    Wrong("RMSprop", "momentum on the raw gradient", _edit(
        "RMSprop", "buf.mul_(mu).addcdiv_(g, denom)\n                    p.add_(buf, alpha=-group[\"lr\"])",
        "buf.mul_(mu).add_(g)\n                    p.addcdiv_(buf, denom, value=-group[\"lr\"])"),
        "momentum averages the raw gradient"),
    Wrong("RMSprop", "default alpha 0.9 (d2l's gamma)", _edit("RMSprop", "alpha=0.99", "alpha=0.9"),
          "default alpha is torch.optim.RMSprop's"),

    # ----- Adam ---------------------------------------------------------------------------------------
    Wrong("Adam", "no bias correction", _edit(
        "Adam", "m_hat = m / (1 - beta1 ** t)", "m_hat = m", "v_hat = v / (1 - beta2 ** t)", "v_hat = v"),
        "Adam without bias correction"),
    Wrong("Adam", "epsilon inside the square root", _edit(
        "Adam", 'v_hat.sqrt().add_(group["eps"])', '(v_hat + group["eps"]).sqrt()'),
        "epsilon is inside the square root"),
    Wrong("Adam", "epsilon added before the bias correction of v", _edit(
        "Adam", 'v_hat.sqrt().add_(group["eps"])', '(v.sqrt() + group["eps"]) / (1 - beta2 ** t) ** 0.5'),
        "epsilon is added before the bias correction"),
    # Kingma and Ba's efficient form (Algorithm 1, end of section 2): the corrections folded into the step size,
    # eps on sqrt(v). 2e-9 from torch.optim.Adam at the defaults, 3 % where epsilon sets the step (gradients of
    # 1e-8): the contract's Adam is torch's, so it is this mistake, named as such, never "epsilon after the root".
    Wrong("Adam", "the paper's efficient form: lr * sqrt(1 - beta2^t) / (1 - beta1^t) as the step, eps on sqrt(v)",
          _edit("Adam", """                m_hat = m / (1 - beta1 ** t)
                v_hat = v / (1 - beta2 ** t)
                p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])""",
                """                step_size = group["lr"] * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
                p.addcdiv_(m, v.sqrt().add_(group["eps"]), value=-step_size)"""),
          "as in the paper's efficient form"),
    Wrong("Adam", "decoupled weight decay (AdamW's) in Adam", _edit(
        "Adam", 'g = g + group["weight_decay"] * p', 'p.mul_(1 - group["lr"] * group["weight_decay"])'),
        "weight decay is decoupled"),
    Wrong("Adam", "one step count for the whole optimizer", _edit(
        "Adam", 'state["step"] += 1\n                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]',
        'm, v = state["exp_avg"], state["exp_avg_sq"]\n                t = self.t',
        "        for group in self.param_groups:\n            beta1",
        '        self.t = getattr(self, "t", 0) + 1\n        for group in self.param_groups:\n            beta1'),
        "grad None for (step, parameter)"),
    Wrong("Adam", "bias correction with the step count from 0", _edit(
        "Adam", 'state["step"] += 1\n                t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]',
        't, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]\n                state["step"] += 1'),
        "NaN or inf"),
    Wrong("Adam", "a None gradient stepped as zero", _edit("Adam", _SKIP, _ZERO_FOR_NONE),
          "stepped as if its gradient were zero"),

    # ----- AdamW --------------------------------------------------------------------------------------
    Wrong("AdamW", "decay through the gradient (L2, Adam's weight_decay)", _edit(
        "AdamW", 'p.mul_(1 - group["lr"] * group["weight_decay"])  # decoupled: not through the gradient',
        'g = g + group["weight_decay"] * p'), "AdamW decays through the gradient"),
    Wrong("AdamW", "decay without the learning rate", _edit(
        "AdamW", 'p.mul_(1 - group["lr"] * group["weight_decay"])', 'p.mul_(1 - group["weight_decay"])'),
        "the decay is p *= 1 - weight_decay"),
    Wrong("AdamW", "decay after the Adam update", _edit(
        "AdamW", '                p.mul_(1 - group["lr"] * group["weight_decay"])  # decoupled: not through the '
        'gradient\n',
        "", 'p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])',
        'p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])\n'
        '                p.mul_(1 - group["lr"] * group["weight_decay"])'),
        "the decay is applied after the Adam update"),
    Wrong("AdamW", "Adam's default weight_decay 0", _edit("AdamW", "weight_decay=0.01", "weight_decay=0.0"),
          "default weight_decay is torch.optim.AdamW's"),
    Wrong("AdamW", "no bias correction", _edit(
        "AdamW", "m_hat = m / (1 - beta1 ** t)", "m_hat = m", "v_hat = v / (1 - beta2 ** t)", "v_hat = v"),
        "AdamW without bias correction"),
    Wrong("AdamW", "state kept outside self.state", _edit(
        "AdamW", "state = self.state[p]", 'state = self.__dict__.setdefault("mine", {}).setdefault(id(p), {})'),
        "keeps per-parameter state in self.state"),

    # ----- schedules ----------------------------------------------------------------------------------
    Wrong("step_decay", "t / step_size not floored", '''
def step_decay(t, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** (t / step_size)
''', "t / step_size is not floored"),
    Wrong("step_decay", "the decay one step early", '''
def step_decay(t, base_lr, step_size, gamma=0.1):
    return base_lr * gamma ** ((t + 1) // step_size)
''', "the decay comes one step early"),
    Wrong("step_decay", "gamma times the count", '''
def step_decay(t, base_lr, step_size, gamma=0.1):
    return base_lr * gamma * (t // step_size)
''', "gamma * (t // step_size) instead of gamma ** (t // step_size)"),
    Wrong("step_decay", "default gamma 0.5", '''
def step_decay(t, base_lr, step_size, gamma=0.5):
    return base_lr * gamma ** (t // step_size)
''', "gamma defaults to 0.1"),
    Wrong("cosine_annealing", "pi missing", '''
def cosine_annealing(t, base_lr, total_steps, min_lr=0.0):
    if t >= total_steps:
        return min_lr
    return min_lr + (base_lr - min_lr) * (1 + math.cos(t / total_steps)) / 2
''', "pi is missing"),
    Wrong("cosine_annealing", "the cosine keeps going after total_steps", '''
def cosine_annealing(t, base_lr, total_steps, min_lr=0.0):
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2
''', "after total_steps the cosine keeps going"),
    Wrong("cosine_annealing", "min_lr ignored", '''
def cosine_annealing(t, base_lr, total_steps, min_lr=0.0):
    t = min(t, total_steps)
    return base_lr * (1 + math.cos(math.pi * t / total_steps)) / 2
''', "min_lr is ignored"),
    Wrong("cosine_annealing", "the / 2 missing", '''
def cosine_annealing(t, base_lr, total_steps, min_lr=0.0):
    t = min(t, total_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps))
''', "the / 2 is missing"),
    Wrong("warmup_cosine", "the warm-up starts at 0", '''
def warmup_cosine(t, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if t < warmup_steps:
        return base_lr * t / warmup_steps
    t = min(t, total_steps)
    progress = (t - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2
''', "the warm-up starts at 0"),
    Wrong("warmup_cosine", "the cosine counts t from 0", '''
def warmup_cosine(t, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if t < warmup_steps:
        return base_lr * (t + 1) / warmup_steps
    t = min(t, total_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2
''', "the cosine counts t from 0"),
    Wrong("warmup_cosine", "the cosine spans total_steps", '''
def warmup_cosine(t, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if t < warmup_steps:
        return base_lr * (t + 1) / warmup_steps
    if t > total_steps:
        return min_lr
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * (t - warmup_steps) / total_steps)) / 2
''', "the cosine spans total_steps"),
    Wrong("warmup_cosine", "the cosine keeps going after total_steps", '''
def warmup_cosine(t, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if t < warmup_steps:
        return base_lr * (t + 1) / warmup_steps
    progress = (t - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * progress)) / 2
''', "after total_steps the cosine keeps going"),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("Adam", "moments made with torch.zeros(p.shape): on the CPU whatever p is", _edit(
        "Adam", 'state["exp_avg"] = torch.zeros_like(p)', 'state["exp_avg"] = torch.zeros(p.shape, dtype=p.dtype)',
        'state["exp_avg_sq"] = torch.zeros_like(p)', 'state["exp_avg_sq"] = torch.zeros(p.shape, dtype=p.dtype)'),
        "keep its results on its inputs' device"),
    # ----- the general rules at an edge case only (issue 21) ---------------------------------------
    Wrong("Adam", "edge case: the first step's m built in p.grad itself (m starts at zero: m = (1 - beta1) g)", _edit(
        "Adam", '''                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)''',
        '''                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                if t == 1:  # m starts at zero: the first m is (1 - beta1) g
                    state["exp_avg"] = m = g.mul_(1 - beta1)
                else:
                    m.mul_(beta1).add_(g, alpha=1 - beta1)'''), "Adam.step leaves parameter 0's .grad unchanged"),
]
