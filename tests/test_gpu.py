"""The GPU path without a GPU: device mistakes found on the meta device, GPU slots planned, and the prepared
GPU command (benchmarks/gpu_check.py) rehearsed on the CPU so that it cannot rot."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from autograder import gpuslots
from autograder.batch import Job, _run_pool
from autograder.compare import device_probe_failure, device_probe_note
from gradeworker.deviceprobe import probe
from helpers import ROOT


# ----- the device probe (gradeworker.deviceprobe + compare.device_probe_failure) -------------------------
def relu_zeros(X):
    return torch.max(X, torch.zeros(X.shape))  # the relu: compared with a CPU tensor


def dropout_d2l(X, dropout):
    mask = (torch.rand(X.shape) > dropout).float()  # d2l 4.6: the mask on the CPU whatever X is
    return mask * X / (1.0 - dropout)


def zeros_output(X):
    return torch.zeros(X.shape).add_(2 * X)  # the output built without device=


def relu_right(X):
    return torch.clamp(X, min=0)


def dropout_right(X, dropout):
    return (torch.rand(X.shape, device=X.device) > dropout).to(X.dtype) * X / (1.0 - dropout)


def uses_item(X):
    return X * float(X.sum().item() > 0)  # data-dependent: the meta device has no data


@pytest.mark.parametrize("fn, args", [(relu_zeros, [torch.randn(3, 4)]), (dropout_d2l, [torch.randn(3, 4), 0.5]),
                                      (zeros_output, [torch.randn(3, 4)])])
def test_does_the_probe_catch_a_tensor_left_on_the_cpu(fn, args):
    failure = device_probe_failure(probe(fn, args, {}), fn.__name__)
    assert failure is not None
    text = " ".join([failure.checked, failure.comparison, failure.hint])
    assert "device=X.device" in text and "inputs' device" in text


@pytest.mark.parametrize("fn, args", [(relu_right, [torch.randn(3, 4)]), (dropout_right, [torch.randn(3, 4), 0.5]),
                                      (uses_item, [torch.randn(3, 4)])])
def test_does_the_probe_pass_or_skip_a_device_faithful_function(fn, args):
    result = probe(fn, args, {})
    assert device_probe_failure(result, fn.__name__) is None
    if fn is uses_item:  # cannot be simulated: said so for staff, never a failure
        assert "not checked on the meta device" in device_probe_note(result)


def test_does_the_probe_leave_the_students_objects_as_they_were():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    result = probe(net.__call__, [torch.randn(4, 3)], {}, net, "__call__")
    assert result["outcome"] == "ok" and all(device == "meta" for _, device in result["outputs"])
    assert all(torch.equal(before[k], v) and v.device.type == "cpu" for k, v in net.state_dict().items())


def test_does_the_probe_see_an_optimizer_state_made_on_the_cpu():
    class Momentum(torch.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    buf = self.state[p].setdefault("buf", torch.zeros(p.shape))  # on the CPU on a GPU too
                    buf.mul_(0.9).add_(p.grad)
                    p.add_(buf, alpha=-group["lr"])

    param = torch.nn.Parameter(torch.randn(3))
    param.grad = torch.randn(3)
    opt = Momentum([param])
    assert device_probe_failure(probe(opt.step, [], {}, opt, "step"), "Momentum.step") is not None
    assert not opt.state, "the probe stepped a copy, not the student's optimizer"


# ----- GPU slots ------------------------------------------------------------------------------------------
def test_are_gpu_slots_spread_over_the_cards_with_a_share_of_memory_each():
    plans = [gpuslots.plan(slot, ["0", "1"], 3) for slot in range(6)]
    assert [p["CUDA_VISIBLE_DEVICES"] for p in plans] == ["0", "0", "0", "1", "1", "1"]
    assert {p[gpuslots.FRACTION_ENV] for p in plans} == {"0.333333"}
    assert gpuslots.slots_for(3, ["0", "1"]) == 6 and gpuslots.plan(0, [], 2) == {}
    with pytest.raises(ValueError, match="at least 1"):
        gpuslots.plan(0, ["0"], 0)


def test_does_the_pool_give_each_slot_its_gpu_and_share(monkeypatch):
    """The pool's logic with --gpu-slots 2 on two (named) GPUs, run on the CPU: four slots, two per card."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setenv(gpuslots.SLOTS_ENV, "2")
    jobs = [Job("", "x", f"s{i}", "", "cpu", 0) for i in range(8)]
    seen: dict[int, dict] = {}
    _run_pool(jobs, gpuslots.slots_for(2), lambda job, env, _: seen.setdefault(env["pid"], env),
              task=gpuslots.slot_environment)
    cards = sorted(env["CUDA_VISIBLE_DEVICES"] for env in seen.values())
    assert len(seen) <= 4 and set(cards) <= {"0", "1"}
    assert all(env[gpuslots.FRACTION_ENV] == "0.500000" for env in seen.values())
    assert cards.count("0") <= 2 and cards.count("1") <= 2


# ----- the prepared GPU command, rehearsed on the CPU ----------------------------------------------------
@pytest.mark.slow
def test_does_the_gpu_command_pass_its_cpu_rehearsal(tmp_path):
    out = tmp_path / "gpu-check.md"
    done = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--device", "cpu", "--quick",
                           "--assignments", "hw1_linear_regression,hw5_cnn,hw7_training", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = out.read_text()
    for section in ("## 1. Walls", "## 2. Scores", "## 3. hw5's conv2d", "## 4. hw7's open part"):
        assert section in report, report
    assert "| hw1_linear_regression | hw1_linear_regression.ipynb | 100 | 100 |" in report
    assert "training images/s" in report and "all held" in report


def test_is_a_probe_that_ran_to_the_end_reused_by_later_tests_and_an_inconclusive_one_tried_again():
    """A grading repeats each function on meta once per test at most, and not at all after a probe of a call alike
    (handles.probe_key) ran to the end: later tests get that verdict (a tensor left on the CPU fails them too). Too
    slow or .item(): tried again; a 0-d input, an empty one or another plain value: probed anew."""
    from autograder.remote import Submission
    s = Submission(None, [], {}, ())
    s.device_probe_skip = set()
    left_on_cpu = {"outcome": "ok", "outputs": [["output", "cpu"]]}
    assert s.wants_device_probe("relu")
    s.record_device_probe("relu", left_on_cpu)
    s.record_device_probe("fit", {"outcome": "unsupported", "why": "too slow to repeat on the meta device"})
    assert not s.wants_device_probe("relu")                          # once per test
    s.device_probes = {}                                             # the next test (Submission.reset)
    assert not s.wants_device_probe("relu") and s.device_probes == {"relu": left_on_cpu}
    assert s.wants_device_probe("fit")                               # nothing concluded: its inputs may do
    s.device_probes = {}
    assert s.wants_device_probe("relu", ("a 0-d tensor",))           # a call unlike the probed one: probed
    s.device_probe_skip = {"relu"}
    s.device_probes = {}
    assert not s.wants_device_probe("relu") and s.device_probes == {}  # NO_DEVICE_PROBE still wins


def test_does_the_probe_key_tell_apart_what_a_device_verdict_depends_on():
    from autograder.handles import probe_key
    X = torch.randn(3, 4)
    assert probe_key((X, 0.5), {}) == probe_key((torch.randn(5, 2), 0.5), {})
    assert probe_key((X, 0.5), {}) != probe_key((X, 1.0), {})                  # a branch on the value
    assert probe_key((X,), {}) != probe_key((torch.tensor(1.0),), {})          # 0-d mixes with any device
    assert probe_key((X,), {}) != probe_key((X.double(),), {})
    assert probe_key((X,), {}) != probe_key((torch.empty(0, 4),), {})
    assert probe_key((X,), {"dim": 0}) != probe_key((X,), {"dim": 1})
