"""torch._dynamo kept unimported until something compiles (gradeworker.lazydynamo), in a fresh interpreter."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys, torch
    from gradeworker import lazydynamo
    marked = lazydynamo.defer()
    assert marked > 50, marked                                      # torch still marks its functions this way
    real = lambda: "__file__" in vars(sys.modules["torch._dynamo"])  # the stand-in has no file
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    for opt in (torch.optim.SGD([p], lr=0.1, momentum=0.9), torch.optim.Adam([p], lr=0.1)):
        (p ** 2).sum().backward()
        opt.step()
        opt.zero_grad()
    torch.normal(0.0, 1.0, (3, 2), device="meta")                   # a Python reference kernel on meta
    assert not real(), "an optimizer step or a meta kernel imported the real torch._dynamo"
    def solve(A, Y):                                                # inspect.getmodule over sys.modules, mid-import
        return torch.linalg.lstsq(A, Y).solution
    torch.jit.trace(solve, (torch.randn(5, 3), torch.randn(5, 1)))
    assert not real()
    import torch._dynamo.eval_frame                                 # a submodule: the real package
    assert real()
    f = torch.compile(lambda x: torch.cos(x) * 2, backend="eager")
    assert float(f(torch.zeros(1))) == 2.0 and real()
    assert not lazydynamo._deferred                                  # every marker handed back to torch
    torch.optim.SGD([p], lr=0.1).step()                              # torch's own path works after
    print("ok", marked)
''')


def test_optimizers_and_meta_kernels_run_without_the_compiler_and_compiling_still_works():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ok")


def test_the_optimizer_steps_are_the_same_with_the_stand_in():
    """Same parameters after the same SGD-momentum and Adam steps, stand-in or real torch._dynamo."""
    step = textwrap.dedent('''
        import sys, torch
        if sys.argv[1] == "defer":
            from gradeworker import lazydynamo
            lazydynamo.defer()
        else:
            import torch._dynamo
        torch.manual_seed(0)
        p = torch.nn.Parameter(torch.randn(5, dtype=torch.float64))
        for opt in (torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01), torch.optim.Adam([p], lr=0.05)):
            for _ in range(3):
                (p.sin() ** 2).sum().backward()
                opt.step()
                opt.zero_grad()
        print(p.detach().tolist())
    ''')
    runs = [subprocess.run([sys.executable, "-c", step, how], capture_output=True, text=True, timeout=300)
            for how in ("defer", "real")]
    assert all(r.returncode == 0 for r in runs), [r.stderr[-2000:] for r in runs]
    assert runs[0].stdout == runs[1].stdout
