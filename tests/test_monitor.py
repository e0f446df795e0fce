"""Forbidden calls are caught while a function runs, whatever name it reaches them by."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

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


# ----- the dispatcher's check: routes a profile hook cannot see --------------------------------------
import functools  # noqa: E402
import operator  # noqa: E402
import queue  # noqa: E402

import scipy.linalg  # noqa: E402

from autograder.layout import Course  # noqa: E402
from autograder.notebook import CodeCell, tampering_signs  # noqa: E402
from gradeworker import monitor as monitor_module  # noqa: E402
from gradeworker.monitor import prepare  # noqa: E402

_COURSE = Course.find(Path(__file__).resolve().parent.parent)
HW1 = _COURSE.assignment("hw1_linear_regression").forbidden
HW2 = _COURSE.assignment("hw2_softmax_regression").forbidden

SOFTMAX, LSTSQ = HW2["softmax"], HW1["normal_equation"]
# Once per process, as in a worker: the kernels stay registered while MONITOR_FOR lives.
MONITOR_FOR, UNRESOLVED = prepare(sorted({*SOFTMAX, *LSTSQ, *HW2["cross_entropy_from_logits"]}))


def caught(fn, names=SOFTMAX):
    with MONITOR_FOR(names) as monitor:
        fn()
    return monitor.seen


def at_aten(op, behind):
    return [f"torch.ops.aten.{op} (the operator behind {behind})"]


def test_is_a_partial_of_a_c_function_caught():
    assert caught(lambda: functools.partial(torch.softmax, dim=1)(X)) == at_aten("_softmax", "torch.softmax")
    assert caught(lambda: functools.partial(torch.linalg.lstsq, driver="gelsd")(X, torch.ones(6, 1)),
                  LSTSQ) == at_aten("linalg_lstsq", "torch.linalg.lstsq")


def test_are_methodcaller_and_map_caught():
    assert caught(lambda: operator.methodcaller("softmax", 1)(X)) == at_aten("_softmax", "torch.softmax")
    assert caught(lambda: list(map(torch.softmax, [X], [1]))) == at_aten("_softmax", "torch.softmax")
    assert caught(lambda: list(map(torch.linalg.pinv, [X])), LSTSQ) == at_aten("linalg_pinv", "torch.linalg.pinv")


def test_is_a_thread_started_before_the_call_caught():
    asked, answers = queue.Queue(), queue.Queue()

    def serve():
        answers.put(torch.softmax(asked.get(), dim=1))
    helper = threading.Thread(target=serve, daemon=True)
    helper.start()
    assert caught(lambda: (asked.put(X), answers.get())) == at_aten("_softmax", "torch.softmax")
    helper.join()


def test_is_torchscript_caught():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.trace is deprecated in recent versions
        traced = torch.jit.trace(lambda A: torch.softmax(A, 1), torch.randn(2, 3))
        solve = torch.jit.trace(lambda A, B: torch.linalg.lstsq(A, B).solution, (torch.randn(5, 3), torch.randn(5, 1)))
    unit = torch.jit.CompilationUnit("def rows(A):\n    return torch.softmax(A, 1)\n")
    assert caught(lambda: [traced(X) for _ in range(3)]) == at_aten("_softmax", "torch.softmax")
    assert caught(lambda: [unit.rows(X) for _ in range(3)]) == at_aten("_softmax", "torch.softmax")
    assert caught(lambda: solve(X, torch.ones(6, 1)), LSTSQ) == at_aten("linalg_lstsq", "torch.linalg.lstsq")


def test_is_the_raw_operator_caught():
    assert caught(lambda: torch.ops.aten._softmax.default._op(X, 1, False)) == at_aten("_softmax", "torch.softmax")


def test_are_the_other_spellings_caught():
    eye = torch.eye(3).expand(6, 3, 3)
    assert caught(lambda: F.scaled_dot_product_attention(X[:, None], eye, eye, scale=1.0)) == [
        "F.scaled_dot_product_attention"]
    assert caught(lambda: torch.sparse.softmax(X.to_sparse(), 1)) == ["torch.sparse.softmax"]
    assert caught(lambda: torch.pinverse(X), LSTSQ) == ["torch.pinverse"]
    assert caught(lambda: scipy.linalg.lstsq(X.numpy(), np.ones(6)), LSTSQ) == ["scipy.linalg.lstsq"]
    assert caught(lambda: scipy.linalg.pinv(X.numpy()), LSTSQ) == ["scipy.linalg.pinv"]


def test_is_attention_caught_at_its_operator():
    eye = torch.eye(3).expand(6, 3, 3)
    attend = functools.partial(F.scaled_dot_product_attention, scale=1.0)
    assert caught(lambda: attend(X[:, None], eye, eye))[0].startswith("torch.ops.aten._scaled_dot_product")


def test_is_replacing_the_monitor_through_sys_modules_without_effect():
    module = sys.modules["grade" + "worker.monitor"]
    saved = module.CallMonitor.__enter__, module.CallMonitor.__exit__
    module.CallMonitor.__enter__ = lambda self: self
    module.CallMonitor.__exit__ = lambda self, *exc: None
    try:
        assert caught(lambda: torch.softmax(X, 1)) == ["torch.softmax"]
        assert caught(lambda: functools.partial(torch.softmax, dim=1)(X)) == at_aten("_softmax", "torch.softmax")
    finally:
        module.CallMonitor.__enter__, module.CallMonitor.__exit__ = saved
    assert monitor_module.CallMonitor.__enter__ is saved[0]


def test_are_solve_and_calls_outside_a_monitored_call_left_alone():
    assert caught(lambda: torch.linalg.solve(X.T @ X, X.T @ torch.ones(6, 1)), LSTSQ) == []
    torch.softmax(X, 1)  # not monitored: nothing noted for the next call
    assert caught(lambda: X.exp() / X.exp().sum(1, keepdim=True)) == []
    assert caught(lambda: torch.linalg.pinv(X), SOFTMAX) == []  # another task's operator


def test_do_the_checked_operators_still_compute_and_differentiate():
    A = X.clone().requires_grad_(True)
    P = torch.softmax(A, 1)
    (grad,) = torch.autograd.grad(P[:, 0].sum(), A)
    S = A.detach().exp() / A.detach().exp().sum(1, keepdim=True)
    expected = S[:, :1] * ((torch.arange(3) == 0).to(S.dtype) - S)
    torch.testing.assert_close(P, S)
    torch.testing.assert_close(grad, expected)
    with torch.inference_mode():
        torch.testing.assert_close(torch.softmax(X, 1), S)


def test_does_the_scan_name_what_reaches_into_the_worker():
    def signs(source):
        return tampering_signs([CodeCell(3, source)])
    assert signs("import sys\nm = sys.modules['grade' + 'worker.monitor']") == ["cell 3 uses sys.modules"]
    assert signs("import os\npid = os.fork()") == ["cell 3 uses os.fork"]
    assert signs("import multiprocessing as mp") == ["cell 3 uses multiprocessing"]
    assert signs("import subprocess") == ["cell 3 uses subprocess"]
    assert signs("import threading\nthreading.Thread(target=print)") == ["cell 3 uses threading"]
    assert "cell 3 uses gc" in signs("import gc\ngc.get_objects()")
    assert signs("import ctypes") == ["cell 3 uses ctypes"]
    assert signs("import torch\ntorch.library.Library('aten', 'IMPL')") == ["cell 3 uses torch.library"]
    assert signs("torch._C._dispatch_dump('aten::_softmax')") == ["cell 3 uses torch._C"]
    assert signs("m = getattr(__import__('sys'), 'modules')") == ["cell 3 uses 'modules' as a string (getattr)"]
    assert signs("import importlib\nimportlib.import_module('grade' + 'worker')") == [
        "cell 3 uses import_module(...) of a computed string"]
    assert "cell 3 uses f_back" in signs("def f():\n    return e.__traceback__.tb_frame.f_back.f_locals")


def test_does_the_scan_leave_ordinary_code_alone():
    source = ("import torch\nfrom torch import nn\nimport random, platform\nnet = nn.Sequential()\n"
              "mods = list(net.modules())\nplatform.system()\ntorch.linalg.solve(torch.eye(2), torch.ones(2))")
    assert tampering_signs([CodeCell(1, source)]) == []


# ----- the routes caught before the dispatcher's check stay caught (with both checks armed) ----------
def test_do_the_earlier_routes_stay_caught():
    kept = torch.softmax  # an alias in a global

    class Tagged(torch.Tensor):  # a __torch_function__ subclass
        pass

    class Rows(torch.autograd.Function):
        @staticmethod
        def forward(ctx, A):
            return torch.softmax(A, 1)

        @staticmethod
        def backward(ctx, grad):
            return grad

    class Layer:
        def __init__(self, A):
            self.out = torch.softmax(A, 1)

    def rows():
        yield torch.softmax(X, 1)

    built = eval(compile("lambda A: torch.softmax(A, 1)", "<cell 1>", "eval"))
    routes = {
        "plain name": lambda: torch.softmax(X, 1),
        "alias in a global": lambda: kept(X, 1),
        "Tensor method": lambda: X.softmax(1),
        "torch.ops.aten": lambda: torch.ops.aten._softmax(X, 1, False),
        "vmap": lambda: torch.vmap(lambda r: torch.softmax(r, 0))(X),
        "__torch_function__ subclass": lambda: torch.softmax(X.as_subclass(Tagged), 1),
        "autograd.Function": lambda: Rows.apply(X),
        "torch._C._VariableFunctions": lambda: torch._C._VariableFunctions.softmax(X, 1),
        "generator": lambda: list(rows()),
        "class __init__": lambda: Layer(X),
        "distributions": lambda: torch.distributions.Categorical(logits=X).probs,
        "eval of code built at load time": lambda: built(X),
    }
    missed = [route for route, fn in routes.items() if not caught(fn)]
    assert missed == []


def test_is_a_custom_torch_library_operator_caught():
    lib = torch.library.Library("monitor_test", "DEF")
    lib.define("rows(Tensor a) -> Tensor")
    lib.impl("rows", lambda A: torch.softmax(A, 1), "CompositeExplicitAutograd")
    assert caught(lambda: torch.ops.monitor_test.rows(X)) != []


def test_is_a_graph_compiled_with_aot_eager_caught():
    compiled = torch.compile(lambda A: functools.partial(torch.softmax, dim=1)(A), backend="aot_eager")
    compiled(torch.randn(6, 3))  # compiled before the monitored call, as a notebook would at load time
    assert caught(lambda: compiled(X))[0].startswith("torch.ops.aten._softmax (the operator behind ")


def test_is_an_mkldnn_tensor_caught():
    seen = caught(lambda: functools.partial(torch.softmax, dim=1)(X.to_mkldnn()))
    assert seen == at_aten("_softmax", "torch.softmax")
    torch.testing.assert_close(torch.softmax(X.to_mkldnn(), 1).to_dense(), torch.softmax(X, 1))


def test_is_the_operator_table_kept_per_torch_build_and_a_forged_or_broken_one_ignored(tmp_path, monkeypatch):
    """The fork server keeps the ATen operator table between fresh gradings (gradeworker.cache): read back
    for the same torch build; built again when the file does not parse, is another build's, or lacks names."""
    import json

    from gradeworker import cache, dispatch
    monkeypatch.setattr(dispatch, "_INDEX", [])
    folder = cache.usable_folder(tmp_path / "cache")
    assert folder is not None
    built = dispatch.operator_index(folder)
    kept = json.loads((folder / "aten-operators.json").read_text())
    assert kept["torch"] == dispatch.torch_build() and kept["packets"] == built[0]
    forgeries = [b"{not json", json.dumps({**kept, "torch": {**kept["torch"], "version": "0.0"}}).encode(),
                 json.dumps({**kept, "packets": ["add", "mm"]}).encode(),
                 json.dumps({**kept, "packets": list(reversed(kept["packets"]))}).encode()]
    for forged in forgeries:
        (folder / "aten-operators.json").write_bytes(forged)
        monkeypatch.setattr(dispatch, "_INDEX", [])
        assert dispatch.operator_index(folder) == built
        assert json.loads((folder / "aten-operators.json").read_text()) == kept  # and written again, whole
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert cache.usable_folder(shared) is None  # others could write it: not used
    (folder / "aten-operators.json").chmod(0o666)
    assert cache.read_json(folder / "aten-operators.json") is None
