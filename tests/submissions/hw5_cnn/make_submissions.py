"""Rebuild hw5's example submissions from the released notebook: python tests/submissions/hw5_cnn/make_submissions.py

Each one is a notebook as a student would hand it in; expected.json holds the score each must get
(reviewed by hand: change it only after reading the new report).
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
from conftest import load_module  # noqa: E402
from helpers import ROOT, fill, solution_cells, write  # noqa: E402

ID = "hw5_cnn"
SOLVED = solution_cells(ID)

# Correct, written differently: windows from Tensor.unfold / F.unfold combined with einsum, everything vectorised.
WINDOWS = {
    "corr2d": '''
def corr2d(X, K):
    windows = X.unfold(0, K.shape[0], 1).unfold(1, K.shape[1], 1)  # (h', w', kh, kw)
    return torch.einsum("ijab,ab->ij", windows, K)
''',
    "Conv2D": '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(*kernel_size).uniform_(0, 1))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        out = corr2d(x, self.weight)
        return out + self.bias
''',
    "conv_output_shape": '''
def conv_output_shape(input_size, kernel_size, padding=0, stride=1):
    dims = [as_pair(v) for v in (input_size, kernel_size, padding, stride)]
    return tuple(int((n + 2 * p - k) // s + 1) for n, k, p, s in zip(*dims))
''',
    "corr2d_multi_in": '''
def corr2d_multi_in(X, K):
    windows = X.unfold(1, K.shape[1], 1).unfold(2, K.shape[2], 1)  # (c_i, h', w', kh, kw)
    return torch.einsum("cijab,cab->ij", windows, K)
''',
    "corr2d_multi_in_out": '''
def corr2d_multi_in_out(X, K):
    windows = X.unfold(1, K.shape[2], 1).unfold(2, K.shape[3], 1)
    return torch.einsum("cijab,ocab->oij", windows, K)
''',
    "corr2d_multi_in_out_1x1": '''
def corr2d_multi_in_out_1x1(X, K):
    return torch.tensordot(K[:, :, 0, 0], X, dims=([1], [0]))
''',
    "pool2d": '''
def pool2d(X, pool_size, mode="max"):
    windows = X.unfold(0, pool_size[0], 1).unfold(1, pool_size[1], 1)
    return windows.amax(dim=(2, 3)) if mode == "max" else windows.mean(dim=(2, 3))
''',
    "conv2d": '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = as_pair(stride), as_pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    windows = X.unfold(2, weight.shape[2], s_h).unfold(3, weight.shape[3], s_w)  # (N, C, H', W', kh, kw)
    Y = torch.einsum("nchwij,ocij->nohw", windows, weight)
    return Y if bias is None else Y + bias[None, :, None, None]
''',
    "max_pool2d": '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    N, C, H, W = X.shape
    k = as_pair(kernel_size)
    s = k if stride is None else as_pair(stride)
    p = as_pair(padding)
    padded = F.pad(X, (p[1], p[1], p[0], p[0]), value=-float("inf"))
    cols = F.unfold(padded.reshape(N * C, 1, *padded.shape[2:]), k, stride=s)  # (N*C, kh*kw, L)
    H_out, W_out = (H + 2 * p[0] - k[0]) // s[0] + 1, (W + 2 * p[1] - k[1]) // s[1] + 1
    return cols.max(dim=1).values.reshape(N, C, H_out, W_out)
''',
    "avg_pool2d": '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    N, C, H, W = X.shape
    k = as_pair(kernel_size)
    s = k if stride is None else as_pair(stride)
    p = as_pair(padding)
    cols = F.unfold(X.reshape(N * C, 1, H, W), k, padding=p, stride=s)  # zero padding
    H_out, W_out = (H + 2 * p[0] - k[0]) // s[0] + 1, (W + 2 * p[1] - k[1]) // s[1] + 1
    return cols.mean(dim=1).reshape(N, C, H_out, W_out)
''',
    "lenet": '''
from collections import OrderedDict

def lenet():
    return nn.Sequential(OrderedDict([
        ("c1", nn.Conv2d(1, 6, 5, padding=2)), ("a1", nn.Sigmoid()), ("s2", nn.AvgPool2d(2)),
        ("c3", nn.Conv2d(6, 16, 5)), ("a3", nn.Sigmoid()), ("s4", nn.AvgPool2d(2)),
        ("flat", nn.Flatten()), ("f5", nn.Linear(400, 120)), ("a5", nn.Sigmoid()),
        ("f6", nn.Linear(120, 84)), ("a6", nn.Sigmoid()), ("out", nn.Linear(84, 10))]))
''',
    "batch_norm": '''
def batch_norm(X, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    C = X.shape[1]
    flat = X.transpose(0, 1).reshape(C, -1)  # (C, m): one row per feature or channel
    view = [1, C] + [1] * (X.dim() - 2)
    if training:
        var, mean = torch.var_mean(flat, dim=1, unbiased=False)
        m = flat.shape[1]
        with torch.no_grad():
            running_mean.lerp_(mean, momentum)
            running_var.lerp_(var * m / (m - 1), momentum)
    else:
        mean, var = running_mean, running_var
    inv_std = torch.rsqrt(var + eps)
    return (X - mean.view(view)) * (weight * inv_std).view(view) + bias.view(view)
''',
    "BatchNorm": '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        self.num_dims = num_dims
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        for name, value in (("running_mean", 0.0), ("running_var", 1.0)):
            self.register_buffer(name, torch.full((num_features,), value))

    def forward(self, X):
        assert X.dim() == self.num_dims
        return batch_norm(X, self.running_mean, self.running_var, self.weight, self.bias, training=self.training,
                          momentum=0.1, eps=1e-5)
''',
    "Residual": '''
class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(num_channels), nn.BatchNorm2d(num_channels)
        self.conv1 = nn.Conv2d(input_channels, num_channels, 3, stride=strides, padding=1)
        self.conv2 = nn.Conv2d(num_channels, num_channels, 3, padding=1)
        self.conv3 = nn.Conv2d(input_channels, num_channels, 1, stride=strides) if use_1x1conv else None
        self.relu = nn.ReLU()

    def forward(self, X):
        shortcut = X if self.conv3 is None else self.conv3(X)
        Y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(X)))))
        return self.relu(Y + shortcut)
''',
}

# Correct too, by shifted slices: a loop over the kernel's (or window's) kh * kw offsets, each handling the
# whole batch and every pixel at once (allowed: it is not a loop over examples or pixels).
OFFSETS = {
    "corr2d": '''
def corr2d(X, K):
    kh, kw = K.shape
    H, W = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    Y = torch.zeros(H, W, dtype=X.dtype, device=X.device)
    for a in range(kh):
        for b in range(kw):
            Y = Y + K[a, b] * X[a:a + H, b:b + W]
    return Y
''',
    "conv_output_shape": '''
def conv_output_shape(input_size, kernel_size, padding=0, stride=1):
    import math
    out = []
    for n, k, p, s in zip(as_pair(input_size), as_pair(kernel_size), as_pair(padding), as_pair(stride)):
        out.append(math.floor((n + 2 * p - k) / s) + 1)
    return tuple(out)
''',
    "corr2d_multi_in_out": '''
def corr2d_multi_in_out(X, K):
    return torch.stack([sum(corr2d(X[c], k[c]) for c in range(X.shape[0])) for k in K])
''',
    "corr2d_multi_in_out_1x1": '''
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    return (X.reshape(c_i, -1).T @ K.reshape(K.shape[0], c_i).T).T.reshape(-1, h, w)
''',
    "conv2d": '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = as_pair(stride), as_pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    C_out, _, k_h, k_w = weight.shape
    H_out, W_out = (X.shape[2] - k_h) // s_h + 1, (X.shape[3] - k_w) // s_w + 1
    Y = None
    for a in range(k_h):
        for b in range(k_w):
            shifted = X[:, :, a:a + s_h * (H_out - 1) + 1:s_h, b:b + s_w * (W_out - 1) + 1:s_w]
            term = torch.einsum("nchw,oc->nohw", shifted, weight[:, :, a, b])
            Y = term if Y is None else Y + term
    if bias is not None:
        Y = Y + bias.view(1, -1, 1, 1)
    return Y
''',
    "max_pool2d": '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (k_h, k_w) = as_pair(kernel_size)
    (s_h, s_w) = as_pair(kernel_size if stride is None else stride)
    (p_h, p_w) = as_pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf"))
    H_out, W_out = (X.shape[2] - k_h) // s_h + 1, (X.shape[3] - k_w) // s_w + 1
    Y = None
    for a in range(k_h):
        for b in range(k_w):
            shifted = X[:, :, a:a + s_h * (H_out - 1) + 1:s_h, b:b + s_w * (W_out - 1) + 1:s_w]
            Y = shifted if Y is None else torch.maximum(Y, shifted)
    return Y
''',
    "avg_pool2d": '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (k_h, k_w) = as_pair(kernel_size)
    (s_h, s_w) = as_pair(kernel_size if stride is None else stride)
    (p_h, p_w) = as_pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    H_out, W_out = (X.shape[2] - k_h) // s_h + 1, (X.shape[3] - k_w) // s_w + 1
    total = 0
    for a in range(k_h):
        for b in range(k_w):
            total = total + X[:, :, a:a + s_h * (H_out - 1) + 1:s_h, b:b + s_w * (W_out - 1) + 1:s_w]
    return total / (k_h * k_w)
''',
    "batch_norm": '''
def batch_norm(X, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    if X.dim() == 2:
        mean_of = lambda t: t.mean(dim=0, keepdim=True)
        view = (1, -1)
    else:
        mean_of = lambda t: t.mean(dim=(0, 2, 3), keepdim=True)
        view = (1, -1, 1, 1)
    if training:
        mean = mean_of(X)
        var = mean_of((X - mean) ** 2)
        m = X.numel() / X.shape[1]
        running_mean.data = (1 - momentum) * running_mean.data + momentum * mean.detach().flatten()
        running_var.data = (1 - momentum) * running_var.data + momentum * var.detach().flatten() * m / (m - 1)
    else:
        mean, var = running_mean.view(view), running_var.view(view)
    return (X - mean) / (var + eps).sqrt() * weight.view(view) + bias.view(view)
''',
}


def wrong_entries(titles):
    """The catalogue's wrong implementations with these titles, by task."""
    catalogue = load_module(ROOT / "tests" / "catalogue" / f"{ID}.py").WRONG
    chosen = {w.title: w for w in catalogue}
    return {chosen[t].task: chosen[t].source for t in titles}


WRONG_KNOWN = wrong_entries([
    "the kernel flipped (a true convolution)", "the lecture notes' total padding used with PyTorch's per-side padding",
    "a Python loop over the examples", "zero padding", "d2l's momentum convention with PyTorch's momentum",
    "always in training mode", "no shortcut"])

# The library's convolution, pooling and batch norm reached by names the student hopes the grader does not know.
CHEAT_FORBIDDEN_ALIAS = {
    "conv2d": '''
import torch.nn.functional as G

def conv2d(X, weight, bias=None, stride=1, padding=0):
    return G.conv2d(X, weight, bias, stride, padding)
''',
    "corr2d": '''
def corr2d(X, K):
    return torch.ops.aten.convolution(X[None, None], K[None, None], None, [1, 1], [0, 0], [1, 1], False, [0, 0],
                                      1)[0, 0]
''',
    "max_pool2d": '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    pool = getattr(torch.ops.aten, "max_pool2d_with_" + "indices")
    return pool(X, list(as_pair(kernel_size)), list(as_pair(stride or kernel_size)), list(as_pair(padding)))[0]
''',
    "batch_norm": '''
def batch_norm(X, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    return torch._native_batch_norm_legit(X, weight, bias, running_mean, running_var, training, momentum, eps)[0] \\
        if training else torch.ops.aten._native_batch_norm_legit_no_training(X, weight, bias, running_mean,
                                                                            running_var, momentum, eps)[0]
''',
}


def main() -> None:
    write(fill(ID, SOLVED), HERE / "correct_solution.ipynb")
    write(fill(ID, {**SOLVED, **WINDOWS}), HERE / "correct_alternative.ipynb")
    write(fill(ID, {**SOLVED, **OFFSETS}), HERE / "correct_alternative_offsets.ipynb")
    done = ("corr2d", "Conv2D", "conv_output_shape", "corr2d_multi_in", "corr2d_multi_in_out", "pool2d", "lenet")
    write(fill(ID, {k: SOLVED[k] for k in done}), HERE / "half_done.ipynb")
    write(fill(ID, {**SOLVED, **WRONG_KNOWN}), HERE / "wrong_known_mistakes.ipynb")
    # One mistake costs one part: Conv2D, corr2d_multi_in and corr2d_multi_in_out call the flipped corr2d right.
    write(fill(ID, {**SOLVED, **wrong_entries(["the kernel flipped (a true convolution)"])}),
          HERE / "wrong_flipped_corr2d_only.ipynb")
    write(fill(ID, {**SOLVED, **CHEAT_FORBIDDEN_ALIAS}), HERE / "cheat_forbidden_alias.ipynb")


if __name__ == "__main__":
    main()
