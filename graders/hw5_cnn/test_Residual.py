"""Residual(input_channels, num_channels, use_1x1conv=False, strides=1): d2l's ResNet block."""
import pytest
import torch

from autograder.compare import CheckFailed, expect, expect_tensor, inputs
from autograder.errors import StudentCodeError, StudentFailure
from hw5_cnn.checks import build_module

CONFIGS = [((3, 3), {}), ((3, 6), {"use_1x1conv": True, "strides": 2}), ((4, 4), {"use_1x1conv": True}),
           ((2, 5), {"use_1x1conv": True, "strides": 1})]
HINT = ("conv1 = nn.Conv2d(input_channels, num_channels, 3, padding=1, stride=strides); conv2 = nn.Conv2d("
        "num_channels, num_channels, 3, padding=1); conv3 = nn.Conv2d(input_channels, num_channels, 1, stride=strides) "
        "or None; bn1, bn2 = nn.BatchNorm2d(num_channels); Y = relu(bn2(conv2(relu(bn1(conv1(X)))))); "
        "return relu(Y + (conv3(X) if conv3 else X))")


def loaded(student, ref, args, kwargs, device):
    """The student's block and the reference's, the student's loaded with the reference's state_dict."""
    net, _, where = build_module(student, "Residual", *args, **kwargs)
    model = ref.Residual(*args, **kwargs).to(device=device, dtype=torch.float64)
    with torch.no_grad():  # non-trivial batch-norm parameters and statistics
        for bn in (model.bn1, model.bn2):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_()
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
    net = net.call("to", device=device, dtype=torch.float64)
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    net.method("load_state_dict").handle(state, strict=False)
    mine = net.call("state_dict")
    keys = sorted(k for k in mine if not k.endswith("num_batches_tracked")) if isinstance(mine, dict) else []
    expect(keys == sorted(state), "the block's submodules conv1, conv2, conv3 (or None), bn1, bn2", inputs=where,
           expected=", ".join(sorted(state)), got=", ".join(keys) or "no state_dict",
           mistake="a 1x1 convolution although use_1x1conv is False" if any(k.startswith("conv3") for k in keys)
           and "conv3.weight" not in state else None, hint=HINT)
    return net, model, where


def shortcut_stride_mistake(net, kwargs) -> str | None:
    """With strides > 1 and a 1x1 convolution, a conv3 (the contract's name) that does not stride."""
    strides = kwargs.get("strides", 1)
    if strides == 1 or not kwargs.get("use_1x1conv"):
        return None
    try:
        stride = net.attr("conv3", handle=True).attr("stride")
    except StudentFailure:
        return None
    if isinstance(stride, (tuple, list)) and tuple(stride) == (1, 1):
        return ("the 1x1 convolution conv3 has no stride: the shortcut keeps the input's size while the main path is "
                "strided, so the two cannot be added")
    return None


def forward(net, X, kwargs, checked, where):
    """net(X); a block that raises because its shortcut does not stride is told so."""
    try:
        return net(X)
    except StudentCodeError as exc:
        mistake = shortcut_stride_mistake(net, kwargs)
        if mistake is None:
            raise
        raise CheckFailed(checked, where, f"Residual raised {exc.type}: {exc.text}", HINT, mistake) from None


def without_bn(model, X, which):
    """The block with bn1 or bn2 left out."""
    bn1 = model.bn1 if which != "bn1" else (lambda h: h)
    bn2 = model.bn2 if which != "bn2" else (lambda h: h)
    Y = bn2(model.conv2(torch.relu(bn1(model.conv1(X)))))
    return torch.relu(Y + (model.conv3(X) if model.conv3 is not None else X))


def no_shortcut(model, X):
    Y = torch.relu(model.bn1(model.conv1(X)))
    return torch.relu(model.bn2(model.conv2(Y)))


def relu_before_sum(model, X):
    Y = torch.relu(model.bn1(model.conv1(X)))
    Y = torch.relu(model.bn2(model.conv2(Y)))
    return Y + (model.conv3(X) if model.conv3 is not None else X)


@pytest.mark.points(3)
def test_training_mode(student, ref, device):
    """In training mode, with the reference's weights loaded, are the output and the running statistics right?"""
    for args, kwargs in CONFIGS:
        net, model, where = loaded(student, ref, args, kwargs, device)
        X = torch.randn(4, args[0], 6, 5, dtype=torch.float64, device=device)
        where = f"{where} in training mode, " + inputs(X=X)
        model.train()
        probe = ref.Residual(*args, **kwargs).to(device=device, dtype=torch.float64)
        probe.load_state_dict(model.state_dict())
        expected = model(X).detach()
        bn_probes = {}
        for which in ("bn1", "bn2"):
            bn_probes[which] = ref.Residual(*args, **kwargs).to(device=device, dtype=torch.float64)
            bn_probes[which].load_state_dict(model.state_dict())
        expect_tensor(forward(net, X, kwargs, "the block's output", where), expected, "the block's output",
                      inputs=where,
                      mistakes={"batch norm bn2 is not applied after conv2": lambda: without_bn(bn_probes["bn2"], X,
                                                                                                 "bn2"),
                                "batch norm bn1 is not applied after conv1": lambda: without_bn(bn_probes["bn1"], X,
                                                                                                 "bn1"),
                                "the shortcut is missing: Y = relu(bn2(conv2(...))) only":
                                lambda: no_shortcut(probe, X),
                                "ReLU applied before adding the shortcut, not after":
                                lambda: relu_before_sum(probe, X)}, hint=HINT)
        state = net.call("state_dict")
        for key in ("bn1.running_mean", "bn2.running_var"):
            expect_tensor(state.get(key) if isinstance(state, dict) else None, model.state_dict()[key],
                          f"{key} after one training step", inputs=where, hint="use nn.BatchNorm2d for bn1 and bn2")


@pytest.mark.points(3)
def test_eval_mode(student, ref, device):
    """In eval mode (running statistics), is the output right, for a batch of one too, stride 1 and 2?"""
    for args, kwargs in CONFIGS:
        net, model, where = loaded(student, ref, args, kwargs, device)
        net.call("eval")
        model.eval()
        for n in (3, 1):
            X = torch.randn(n, args[0], 7, 6, dtype=torch.float64, device=device)
            with torch.no_grad():
                expected = model(X)
            at = f"{where} in eval mode, " + inputs(X=X)
            with torch.no_grad():
                expect_tensor(forward(net, X, kwargs, "the block's output in eval mode", at), expected,
                              "the block's output in eval mode", inputs=at,
                              mistakes={"the shortcut is missing": lambda: no_shortcut(model, X),
                                        "batch norm bn2 is not applied after conv2":
                                        lambda: without_bn(model, X, "bn2"),
                                        "batch norm bn1 is not applied after conv1":
                                        lambda: without_bn(model, X, "bn1")},
                              hint=HINT)


@pytest.mark.points(2)
def test_output_shapes(student, device):
    """Does the block keep the shape, and with use_1x1conv and strides=2 give num_channels and half the size?"""
    for args, kwargs, x_shape, want in [((3, 3), {}, (2, 3, 6, 6), (2, 3, 6, 6)),
                                        ((3, 6), {"use_1x1conv": True, "strides": 2}, (2, 3, 6, 6), (2, 6, 3, 3)),
                                        ((2, 4), {"use_1x1conv": True, "strides": 2}, (1, 2, 7, 5), (1, 4, 4, 3))]:
        net, _, where = build_module(student, "Residual", *args, **kwargs)
        net = net.call("to", device)
        X = torch.rand(x_shape, device=device)
        got = forward(net, X, kwargs, "the output shape", f"{where}, " + inputs(X=X))
        expect(isinstance(got, torch.Tensor) and tuple(got.shape) == want, "the output shape",
               inputs=f"{where}, " + inputs(X=X), expected=str(want),
               got=str(tuple(got.shape)) if isinstance(got, torch.Tensor) else type(got).__name__, hint=HINT)
        expect(bool((got >= 0).all()), "the block ends with a ReLU", inputs=f"{where}, " + inputs(X=X),
               expected="no negative outputs", got="negative outputs", hint="return F.relu(Y + shortcut)")
