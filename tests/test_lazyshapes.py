"""torch's symbolic_shapes (sympy) kept unimported until a symbolic shape appears (gradeworker.lazyshapes), in a
fresh interpreter: the grader process's reference gradients never import it, and tracing still works."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys, torch
    from gradeworker import lazydynamo, lazyshapes
    lazydynamo.defer()
    assert lazyshapes.defer()
    name = lazyshapes.NAME
    real = lambda: "__file__" in vars(sys.modules[name])            # the stand-in has no file
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 1, dtype=torch.float64, requires_grad=True)
    g = torch.randn(6, 1, dtype=torch.float64)
    gx, gw = torch.autograd.grad(x @ w, [x, w], g)                   # grad_outputs: sym_eq and expect_true
    assert torch.allclose(gx, g @ w.T) and torch.allclose(gw, x.T @ g)
    (x.sin() * 2).backward(torch.ones(6, 4, dtype=torch.float64))   # backward(gradient)
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = torch.optim.Adam([p], lr=0.1)
    (p ** 2).sum().backward()
    opt.step()
    try:                                                            # a shape mismatch: the real error, still
        torch.autograd.grad(x @ w, [x], torch.ones(5, 1, dtype=torch.float64))
    except RuntimeError as exc:
        assert "Mismatch in shape" in str(exc), exc
    else:
        raise AssertionError("a grad_outputs of the wrong shape was accepted")
    assert not real() and "sympy" not in sys.modules, "an eager gradient imported sympy"
    s = lazyshapes._stand_in
    assert s.sym_eq((2, 3), torch.Size([2, 3])) is True and s.sym_eq([2], (2, 3)) is False
    assert s.sym_and(True, False) is False and s.sym_or(False, True) is True and s.expect_true(True) is True
    f = torch.compile(lambda z: z.reshape(-1, 2).sum(0), backend="eager", dynamic=True)  # symbolic shapes
    assert f(torch.ones(8)).tolist() == [4.0, 4.0] and f(torch.ones(10)).tolist() == [5.0, 5.0]
    assert real() and "sympy" in sys.modules
    import torch.fx.experimental.symbolic_shapes as ss
    assert ss is sys.modules[name] and torch.fx.experimental.symbolic_shapes is ss
    assert lazyshapes.defer() is False                              # the real one stays
    print("ok")
''')


def test_eager_gradients_run_without_sympy_and_symbolic_shapes_still_work():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ok")


def test_the_grader_process_defers_it():
    """autograder.grade installs the stand-in at import (the references' first gradient with grad_outputs)."""
    code = ("import sys, autograder.grade; from gradeworker import lazyshapes; "
            "print(sys.modules[lazyshapes.NAME] is lazyshapes._stand_in, 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["True", "False"]
