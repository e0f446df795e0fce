"""Wrong implementations of hw5's functions, the common mistakes first; the graders must catch each.

``mistake`` is text the student's message must contain: the mistake named, or the check that names it.
"""
from helpers import Wrong

_CONV2D = '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    N, _, H, W = X.shape
    C_out, _, k_h, k_w = weight.shape
    (s_h, s_w), (p_h, p_w) = as_pair(stride), as_pair(padding)
{body}
'''


def _conv2d(body: str) -> str:
    return _CONV2D.replace("{body}", "\n".join("    " + line for line in body.strip().splitlines()))


_BN_HEAD = '''
def batch_norm(X, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    dims = (0,) if X.dim() == 2 else (0, 2, 3)
    shape = (1, -1) if X.dim() == 2 else (1, -1, 1, 1)
    m = X.numel() // X.shape[1]
{body}
'''


def _bn(body: str) -> str:
    return _BN_HEAD.replace("{body}", "\n".join("    " + line for line in body.strip().splitlines()))


_BN_OK_UPDATE = '''
with torch.no_grad():
    running_mean.mul_(1 - momentum).add_(momentum * mean)
    running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1))
'''

_RESIDUAL_INIT = '''
class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
'''


def _residual(forward: str) -> str:
    return _RESIDUAL_INIT + "\n".join("        " + line for line in forward.strip().splitlines()) + "\n"


WRONG = [
    # ----- corr2d -------------------------------------------------------------------------------
    Wrong("corr2d", "the kernel flipped (a true convolution)", '''
def corr2d(X, K):
    K = torch.flip(K, (0, 1))
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''', "the kernel is flipped"),
    Wrong("corr2d", "output one row and column too small (h - kh)", '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h, X.shape[1] - w), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''', "expected shape"),
    Wrong("corr2d", "a float32 result whatever the input (torch.zeros without dtype)", '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''', "you returned float32 where float64 came in"),
    Wrong("corr2d", "kernel height and width mixed up in the window", '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K.T.reshape(h, w)).sum()
    return Y
'''),
    Wrong("corr2d", "F.conv2d through an alias", '''
import torch.nn.functional as G

def corr2d(X, K):
    return G.conv2d(X[None, None], K[None, None])[0, 0]
''', "conv2d, which this exercise forbids"),
    # ----- Conv2D -------------------------------------------------------------------------------
    Wrong("Conv2D", "the bias is not added", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight)
''', "the bias is not added"),
    Wrong("Conv2D", "weight kept as a plain tensor, not a parameter", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = torch.rand(kernel_size, requires_grad=True)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias
''', "the layer's parameters"),
    Wrong("Conv2D", "bias of the kernel's shape", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(kernel_size))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias.sum()
''', "the layer's parameters"),
    Wrong("Conv2D", "the weight drawn from N(0, 1) (torch.randn), not d2l's U(0, 1)", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias
''', "drawn from N(0, 1) (torch.randn)", points=4),  # the contract grades the initialisation (1 point)
    Wrong("Conv2D", "nn.Conv2d inside", '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return F.conv2d(x[None, None], self.weight[None, None], self.bias)[0, 0]
''', "conv2d, which this exercise forbids"),
    # ----- conv_output_shape --------------------------------------------------------------------
    Wrong("conv_output_shape", "the lecture notes' total padding used with PyTorch's per-side padding", '''
def conv_output_shape(input_size, kernel_size, padding=0, stride=1):
    (n_h, n_w), (k_h, k_w) = as_pair(input_size), as_pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = as_pair(padding), as_pair(stride)
    return ((n_h - k_h + p_h + s_h) // s_h, (n_w - k_w + p_w + s_w) // s_w)
''', "counted once, as a total"),
    Wrong("conv_output_shape", "true division: floats, not ints", '''
def conv_output_shape(input_size, kernel_size, padding=0, stride=1):
    (n_h, n_w), (k_h, k_w) = as_pair(input_size), as_pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = as_pair(padding), as_pair(stride)
    return ((n_h + 2 * p_h - k_h) / s_h + 1, (n_w + 2 * p_w - k_w) / s_w + 1)
''', "h and w are Python ints"),
    Wrong("conv_output_shape", "rounded up", '''
import math

def conv_output_shape(input_size, kernel_size, padding=0, stride=1):
    (n_h, n_w), (k_h, k_w) = as_pair(input_size), as_pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = as_pair(padding), as_pair(stride)
    return (math.ceil((n_h + 2 * p_h - k_h) / s_h) + 1, math.ceil((n_w + 2 * p_w - k_w) / s_w) + 1)
''', "rounded up (ceil)"),
    Wrong("conv_output_shape", "ints only: pairs not accepted", '''
def conv_output_shape(input_size, kernel_size, padding=0, stride=1):
    n = (input_size + 2 * padding - kernel_size) // stride + 1
    return (n, n)
'''),
    # ----- corr2d_multi_in ----------------------------------------------------------------------
    Wrong("corr2d_multi_in", "channels averaged instead of summed", '''
def corr2d_multi_in(X, K):
    return torch.stack([corr2d(x, k) for x, k in zip(X, K)]).mean(0)
''', "averaged instead of summed"),
    Wrong("corr2d_multi_in", "only the first channel", '''
def corr2d_multi_in(X, K):
    return corr2d(X[0], K[0])
''', "only the first channel is used"),
    Wrong("corr2d_multi_in", "every channel with the first kernel slice", '''
def corr2d_multi_in(X, K):
    return sum(corr2d(x, K[0]) for x in X)
'''),
    # ----- corr2d_multi_in_out ------------------------------------------------------------------
    Wrong("corr2d_multi_in_out", "output channels in reverse order", '''
def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, k) for k in reversed(K)], 0)
''', "reverse order"),
    Wrong("corr2d_multi_in_out", "stacked on the last axis", '''
def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, k) for k in K], -1)
''', "expected shape"),
    Wrong("corr2d_multi_in_out", "output channels summed into one", '''
def corr2d_multi_in_out(X, K):
    return sum(corr2d_multi_in(X, k) for k in K)[None]
'''),
    # ----- corr2d_multi_in_out_1x1 --------------------------------------------------------------
    Wrong("corr2d_multi_in_out_1x1", "K reshaped to (c_i, c_o)", '''
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return (K.reshape(c_i, c_o).T @ X.reshape(c_i, h * w)).reshape(c_o, h, w)
''', "K reshaped to (c_i, c_o)"),
    Wrong("corr2d_multi_in_out_1x1", "X reshaped to (h * w, c_i) by reshape instead of a transpose", '''
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return (X.reshape(h * w, c_i) @ K.reshape(c_o, c_i).T).T.reshape(c_o, h, w)
'''),
    Wrong("corr2d_multi_in_out_1x1", "the output reshaped to (c_o, w, h)", '''
def corr2d_multi_in_out_1x1(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return (K.reshape(c_o, c_i) @ X.reshape(c_i, h * w)).reshape(c_o, w, h)
''', "expected shape"),
    # ----- pool2d -------------------------------------------------------------------------------
    Wrong("pool2d", "the window's sum for 'avg'", '''
def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.sum()
    return Y
''', "the window's sum, not its mean"),
    Wrong("pool2d", "a running max started at 0", '''
def pool2d(X, pool_size, mode="max"):
    p_h, p_w = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            if mode == "max":
                Y[i, j] = torch.maximum(window.max(), Y[i, j])
            else:
                Y[i, j] = window.mean()
    return Y
''', "the maximum is taken with 0 too"),
    Wrong("pool2d", "window height and width swapped", '''
def pool2d(X, pool_size, mode="max"):
    p_w, p_h = pool_size
    Y = torch.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = X[i:i + p_h, j:j + p_w]
            Y[i, j] = window.max() if mode == "max" else window.mean()
    return Y
'''),
    Wrong("pool2d", "F.max_pool2d", '''
def pool2d(X, pool_size, mode="max"):
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X[None, None], pool_size, stride=1)[0, 0]
''', "max_pool2d, which this exercise forbids"),
    # ----- conv2d -------------------------------------------------------------------------------
    Wrong("conv2d", "a Python loop over the examples", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    outs = []
    for x in X:
        C_out, _, k_h, k_w = weight.shape
        (s_h, s_w), (p_h, p_w) = as_pair(stride), as_pair(padding)
        H_out = (x.shape[1] + 2 * p_h - k_h) // s_h + 1
        W_out = (x.shape[2] + 2 * p_w - k_w) // s_w + 1
        cols = F.unfold(x[None], (k_h, k_w), padding=(p_h, p_w), stride=(s_h, s_w))[0]
        y = weight.reshape(C_out, -1) @ cols
        if bias is not None:
            y = y + bias[:, None]
        outs.append(y.reshape(C_out, H_out, W_out))
    return torch.stack(outs)
''', "a Python loop over the examples or the output pixels"),
    Wrong("conv2d", "a Python loop over the output pixels", _conv2d('''
X = F.pad(X, (p_w, p_w, p_h, p_h))
H_out, W_out = (X.shape[2] - k_h) // s_h + 1, (X.shape[3] - k_w) // s_w + 1
Y = torch.zeros(N, C_out, H_out, W_out, dtype=X.dtype, device=X.device)
w = weight.reshape(C_out, -1)
for i in range(H_out):
    for j in range(W_out):
        patch = X[:, :, i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w].reshape(N, -1)
        Y[:, :, i, j] = patch @ w.T
return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)
'''), "a Python loop over the examples or the output pixels"),
    Wrong("conv2d", "the kernel flipped", _conv2d('''
H_out, W_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
cols = F.unfold(X, (k_h, k_w), padding=(p_h, p_w), stride=(s_h, s_w))
Y = weight.flip(2, 3).reshape(C_out, -1) @ cols
if bias is not None:
    Y = Y + bias.reshape(1, C_out, 1)
return Y.reshape(N, C_out, H_out, W_out)
'''), "the kernel is flipped"),
    Wrong("conv2d", "the bias forgotten", _conv2d('''
H_out, W_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
cols = F.unfold(X, (k_h, k_w), padding=(p_h, p_w), stride=(s_h, s_w))
return (weight.reshape(C_out, -1) @ cols).reshape(N, C_out, H_out, W_out)
'''), "the bias is not added"),
    Wrong("conv2d", "stride and padding pairs read as (w, h)", _conv2d('''
(s_w, s_h), (p_w, p_h) = (s_h, s_w), (p_h, p_w)
H_out, W_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
cols = F.unfold(X, (k_h, k_w), padding=(p_h, p_w), stride=(s_h, s_w))
Y = weight.reshape(C_out, -1) @ cols
if bias is not None:
    Y = Y + bias.reshape(1, C_out, 1)
return Y.reshape(N, C_out, H_out, W_out)
''')),
    Wrong("conv2d", "padding halved (total-padding convention)", _conv2d('''
p_h, p_w = p_h // 2, p_w // 2
H_out, W_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
cols = F.unfold(X, (k_h, k_w), padding=(p_h, p_w), stride=(s_h, s_w))
Y = weight.reshape(C_out, -1) @ cols
if bias is not None:
    Y = Y + bias.reshape(1, C_out, 1)
return Y.reshape(N, C_out, H_out, W_out)
''')),
    Wrong("conv2d", "float32 result (weights cast with .float())", _conv2d('''
H_out, W_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
cols = F.unfold(X.float(), (k_h, k_w), padding=(p_h, p_w), stride=(s_h, s_w))
Y = weight.float().reshape(C_out, -1) @ cols
if bias is not None:
    Y = Y + bias.float().reshape(1, C_out, 1)
return Y.reshape(N, C_out, H_out, W_out)
'''), "you returned float32 where float64 came in"),
    Wrong("conv2d", "torch.ops.aten.convolution", '''
def conv2d(X, weight, bias=None, stride=1, padding=0):
    return torch.ops.aten.convolution(X, weight, bias, list(as_pair(stride)), list(as_pair(padding)), [1, 1],
                                      False, [0, 0], 1)
''', "torch.ops.aten.convolution"),
    # ----- max_pool2d ---------------------------------------------------------------------------
    Wrong("max_pool2d", "stride defaulting to 1", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = as_pair(kernel_size), as_pair(stride or 1), as_pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf"))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).amax(dim=(-2, -1))
''', "the stride defaults to 1"),
    Wrong("max_pool2d", "zero padding", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (k_h, k_w), (p_h, p_w) = as_pair(kernel_size), as_pair(padding)
    (s_h, s_w) = as_pair(kernel_size if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).amax(dim=(-2, -1))
''', "the padding counts as 0, not -inf"),
    Wrong("max_pool2d", "padding ignored", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    (k_h, k_w) = as_pair(kernel_size)
    (s_h, s_w) = as_pair(kernel_size if stride is None else stride)
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).amax(dim=(-2, -1))
''', "expected shape"),
    Wrong("max_pool2d", "F.max_pool2d_with_indices", '''
def max_pool2d(X, kernel_size, stride=None, padding=0):
    return F.max_pool2d_with_indices(X, kernel_size, stride, padding)[0]
''', "max_pool2d"),
    # ----- avg_pool2d ---------------------------------------------------------------------------
    Wrong("avg_pool2d", "padded zeros left out of the average", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (k_h, k_w), (p_h, p_w) = as_pair(kernel_size), as_pair(padding)
    (s_h, s_w) = as_pair(kernel_size if stride is None else stride)
    ones = torch.ones_like(X[:1, :1])
    sums = F.pad(X, (p_w, p_w, p_h, p_h)).unfold(2, k_h, s_h).unfold(3, k_w, s_w).sum(dim=(-2, -1))
    counts = F.pad(ones, (p_w, p_w, p_h, p_h)).unfold(2, k_h, s_h).unfold(3, k_w, s_w).sum(dim=(-2, -1))
    return sums / counts
''', "count_include_pad=False"),
    Wrong("avg_pool2d", "stride defaulting to 1", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = as_pair(kernel_size), as_pair(stride or 1), as_pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).mean(dim=(-2, -1))
''', "the stride defaults to 1"),
    Wrong("avg_pool2d", "divided by the window height only", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    (k_h, k_w), (p_h, p_w) = as_pair(kernel_size), as_pair(padding)
    (s_h, s_w) = as_pair(kernel_size if stride is None else stride)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    return X.unfold(2, k_h, s_h).unfold(3, k_w, s_w).sum(dim=(-2, -1)) / k_h
'''),
    Wrong("avg_pool2d", "avg pooling as a convolution with a constant kernel", '''
def avg_pool2d(X, kernel_size, stride=None, padding=0):
    k_h, k_w = as_pair(kernel_size)
    C = X.shape[1]
    weight = torch.full((C, 1, k_h, k_w), 1.0 / (k_h * k_w), dtype=X.dtype, device=X.device)
    return F.conv2d(X, weight, stride=kernel_size if stride is None else stride, padding=padding, groups=C)
''', "conv2d, which this exercise forbids"),
    # ----- lenet --------------------------------------------------------------------------------
    Wrong("lenet", "max pooling instead of average pooling", '''
def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.MaxPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.MaxPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
''', "max pooling instead of average pooling"),
    Wrong("lenet", "first convolution without padding", '''
def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
''', "the first convolution is not padded"),
    Wrong("lenet", "ReLU instead of sigmoid", '''
def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
''', "ReLU instead of sigmoid"),
    Wrong("lenet", "a sigmoid after the output layer", '''
def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10), nn.Sigmoid())
''', "a sigmoid after the last Linear"),
    # ----- batch_norm ---------------------------------------------------------------------------
    Wrong("batch_norm", "d2l's momentum convention with PyTorch's momentum", _bn('''
if training:
    mean, var = X.mean(dim=dims), X.var(dim=dims, unbiased=False)
    with torch.no_grad():
        running_mean.mul_(momentum).add_((1 - momentum) * mean)
        running_var.mul_(momentum).add_((1 - momentum) * var * m / (m - 1))
else:
    mean, var = running_mean, running_var
return weight.reshape(shape) * (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) + bias.reshape(shape)
'''), "momentum weighs the old statistic"),
    Wrong("batch_norm", "biased variance for running_var", _bn('''
if training:
    mean, var = X.mean(dim=dims), X.var(dim=dims, unbiased=False)
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var)
else:
    mean, var = running_mean, running_var
return weight.reshape(shape) * (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) + bias.reshape(shape)
'''), "running_var is updated with the biased variance"),
    Wrong("batch_norm", "unbiased variance to normalise (torch.var's default)", _bn('''
if training:
    mean, var = X.mean(dim=dims), X.var(dim=dims)
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var)
else:
    mean, var = running_mean, running_var
return weight.reshape(shape) * (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) + bias.reshape(shape)
'''), "the unbiased variance (divided by m - 1) normalises"),
    Wrong("batch_norm", "running statistics rebound, not updated in place", _bn('''
if training:
    mean, var = X.mean(dim=dims), X.var(dim=dims, unbiased=False)
    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)
else:
    mean, var = running_mean, running_var
return weight.reshape(shape) * (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) + bias.reshape(shape)
'''), "not updated in place"),
    Wrong("batch_norm", "statistics per position for 4-D inputs (dim 0 only)", _bn('''
if training:
    mean, var = X.mean(dim=0, keepdim=True), X.var(dim=0, unbiased=False, keepdim=True)
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * X.mean(dim=dims))
        running_var.mul_(1 - momentum).add_(momentum * X.var(dim=dims))
    return weight.reshape(shape) * (X - mean) / torch.sqrt(var + eps) + bias.reshape(shape)
mean, var = running_mean, running_var
return weight.reshape(shape) * (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) + bias.reshape(shape)
'''), "per position"),
    Wrong("batch_norm", "eps outside the square root", _bn('''
if training:
    mean, var = X.mean(dim=dims), X.var(dim=dims, unbiased=False)
''' + "\n".join("    " + line for line in _BN_OK_UPDATE.strip().splitlines()) + '''
else:
    mean, var = running_mean, running_var
return weight.reshape(shape) * (X - mean.reshape(shape)) / (torch.sqrt(var.reshape(shape)) + eps) + bias.reshape(shape)
'''), "eps is added outside the square root"),
    Wrong("batch_norm", "batch statistics in eval mode too", _bn('''
mean, var = X.mean(dim=dims), X.var(dim=dims, unbiased=False)
if training:
''' + "\n".join("    " + line for line in _BN_OK_UPDATE.strip().splitlines()) + '''
return weight.reshape(shape) * (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) + bias.reshape(shape)
'''), "eval mode"),
    Wrong("batch_norm", "F.batch_norm", '''
def batch_norm(X, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    return torch.batch_norm(X, weight, bias, running_mean, running_var, training, momentum, eps, False)
''', "batch_norm, which this exercise forbids"),
    # ----- BatchNorm ----------------------------------------------------------------------------
    Wrong("BatchNorm", "running statistics as plain attributes, not buffers", '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.running_mean = torch.zeros(num_features)
        self.running_var = torch.ones(num_features)

    def forward(self, X):
        if self.running_mean.device != X.device or self.running_mean.dtype != X.dtype:
            self.running_mean = self.running_mean.to(X)
            self.running_var = self.running_var.to(X)
        return batch_norm(X, self.running_mean, self.running_var, self.weight, self.bias, self.training)
''', "plain tensor attributes"),
    Wrong("BatchNorm", "always in training mode", '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, X):
        return batch_norm(X, self.running_mean, self.running_var, self.weight, self.bias, True)
''', "the batch statistics are used in eval mode"),
    Wrong("BatchNorm", "mode from torch.is_grad_enabled()", '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, X):
        return batch_norm(X, self.running_mean, self.running_var, self.weight, self.bias, torch.is_grad_enabled())
'''),
    Wrong("BatchNorm", "running statistics as parameters", '''
class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.running_mean = nn.Parameter(torch.zeros(num_features), requires_grad=False)
        self.running_var = nn.Parameter(torch.ones(num_features), requires_grad=False)

    def forward(self, X):
        return batch_norm(X, self.running_mean, self.running_var, self.weight, self.bias, self.training)
''', "the running statistics are nn.Parameters"),
    Wrong("BatchNorm", "nn.BatchNorm2d inside", '''
class BatchNorm(nn.BatchNorm2d):
    def __init__(self, num_features, num_dims):
        super().__init__(num_features)
''', "batch_norm, which this exercise forbids"),
    # ----- Residual -----------------------------------------------------------------------------
    Wrong("Residual", "no shortcut", _residual('''
Y = F.relu(self.bn1(self.conv1(X)))
return F.relu(self.bn2(self.conv2(Y)))
'''), "the shortcut is missing"),
    Wrong("Residual", "ReLU before the addition", _residual('''
Y = F.relu(self.bn1(self.conv1(X)))
Y = F.relu(self.bn2(self.conv2(Y)))
return Y + (self.conv3(X) if self.conv3 is not None else X)
'''), "ReLU applied before adding the shortcut"),
    Wrong("Residual", "the 1x1 convolution without the stride", '''
class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X)))))
        if self.conv3 is not None:
            X = self.conv3(X)
        return F.relu(Y + X)
'''),
    Wrong("Residual", "batch norm missing after conv2", _residual('''
Y = F.relu(self.bn1(self.conv1(X)))
Y = self.conv2(Y)
return F.relu(Y + (self.conv3(X) if self.conv3 is not None else X))
''')),
    # ----- device (the GPU runner's rule, caught here on the meta device) ---------------------------------
    Wrong("corr2d", "d2l 6.2's Y = torch.zeros(...) without device=, vectorised", '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=X.dtype)
    windows = X.unfold(0, h, 1).unfold(1, w, 1)
    return Y + (windows * K).sum(dim=(-1, -2))
''', "keep its results on its inputs' device"),
    # ----- the general rules at an edge case only (issue 21) ---------------------------------------
    Wrong("corr2d", "edge case: a 1x1 kernel scales X in place", '''
def corr2d(X, K):
    h, w = K.shape
    if (h, w) == (1, 1):  # a single weight: the output is X times it
        return X.mul_(K[0, 0])
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
''', "corr2d leaves X unmodified (a 1x1 kernel)"),
    Wrong("corr2d_multi_in", "edge case: one channel squeezed in place", '''
def corr2d_multi_in(X, K):
    if X.shape[0] == 1:  # a single channel: plain corr2d
        return corr2d(X.squeeze_(0), K[0])
    return sum(corr2d(x, k) for x, k in zip(X, K))
''', "corr2d_multi_in leaves X unmodified (one channel)"),
    Wrong("batch_norm", "edge case: a zero running variance clamped in place in eval mode", _bn('''
if training:
    mean, var = X.mean(dim=dims), X.var(dim=dims, unbiased=False)
    with torch.no_grad():
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1))
else:
    mean, var = running_mean, running_var.clamp_(min=eps)  # guard against a zero variance
return weight.reshape(shape) * (X - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps) + bias.reshape(shape)
'''), "batch_norm leaves running_var unmodified (running_var = 0, training=False)"),
]
