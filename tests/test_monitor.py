"""Forbidden calls are caught while a function runs, whatever name it reaches them by."""
from __future__ import annotations

import sys
import threading

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gradeworker.monitor import CallMonitor, ForbiddenSet

NAMES = ["torch.linalg.lstsq", "torch.linalg.pinv", "numpy.linalg.lstsq", "F.softmax", "torch.softmax", "nn.Softmax",
         "Tensor.softmax", "torch.nn.grad.*"]
FORBIDDEN = ForbiddenSet.from_names(NAMES)


def seen(fn, names=NAMES):
    with CallMonitor(FORBIDDEN.subset(names)) as monitor:
        fn()
    return monitor.seen, monitor.tampered


X = torch.randn(6, 3)


def test_is_a_direct_call_caught():
    assert seen(lambda: torch.linalg.pinv(X))[0] == ["torch.linalg.pinv"]


def test_is_an_alias_caught():
    from torch.linalg import lstsq as solve_least_squares
    assert seen(lambda: solve_least_squares(X, torch.randn(6, 1)))[0] == ["torch.linalg.lstsq"]


def test_are_python_level_functions_and_modules_caught():
    assert "F.softmax" in seen(lambda: F.softmax(X, dim=1))[0]
    assert "nn.Softmax" in seen(lambda: nn.Softmax(dim=1)(X))[0]
    assert seen(lambda: torch.softmax(X, 1))[0] == ["torch.softmax"]


def test_is_a_tensor_method_caught():
    assert seen(lambda: X.softmax(dim=1))[0] == ["Tensor.softmax"]


def test_is_numpy_caught():
    assert seen(lambda: np.linalg.lstsq(X.numpy(), np.ones(6), rcond=None))[0] == ["numpy.linalg.lstsq"]


def test_is_a_whole_module_caught():
    weight = torch.randn(2, 3, 3, 3)
    grad_output = torch.ones(1, 2, 3, 3)
    assert "torch.nn.grad.*" in seen(lambda: torch.nn.grad.conv2d_input((1, 3, 5, 5), weight, grad_output))[0]


def test_are_allowed_calls_and_other_tasks_names_left_alone():
    assert seen(lambda: torch.linalg.solve(X.T @ X, X.T @ torch.ones(6, 1)))[0] == []
    assert seen(lambda: torch.linalg.pinv(X), names=["F.softmax"])[0] == []


def test_is_a_call_on_another_thread_caught():
    def run():
        t = threading.Thread(target=lambda: torch.linalg.pinv(X))
        t.start()
        t.join()
    assert seen(run)[0] == ["torch.linalg.pinv"]


def test_is_switching_the_monitor_off_detected():
    def sneaky():
        sys.setprofile(None)
        torch.linalg.pinv(X)
    assert seen(sneaky)[1] is True


def test_is_the_monitor_off_after_the_call():
    seen(lambda: None)
    assert sys.getprofile() is None


def test_is_switching_the_monitor_off_and_on_again_detected():
    def sneaky():
        saved = sys.getprofile()
        sys.setprofile(None)
        torch.linalg.pinv(X)
        sys.setprofile(saved)
    assert seen(sneaky)[1] is True


def test_is_the_aten_operator_caught():
    assert seen(lambda: torch.ops.aten._softmax(X, 1, False))[0][0].startswith("torch.ops.aten._softmax (")
    assert seen(lambda: torch.ops.aten.linalg_pinv.default(X, 1e-15))[0] == [
        "torch.ops.aten.linalg_pinv (the operator behind torch.linalg.pinv)"]


def test_is_the_aten_operator_of_an_underscore_name_caught():
    names = ["torch._native_batch_norm_legit"]
    forbidden = ForbiddenSet.from_names(names)
    Xb, ones, zeros = torch.randn(4, 3), torch.ones(3), torch.zeros(3)
    with CallMonitor(forbidden) as monitor:
        torch.ops.aten._native_batch_norm_legit(Xb, ones, zeros, zeros.clone(), ones.clone(), True, 0.1, 1e-5)
    assert monitor.seen == ["torch.ops.aten._native_batch_norm_legit (the operator behind "
                            "torch._native_batch_norm_legit)"]
