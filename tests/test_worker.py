"""Student code runs in a worker that cannot see the graders, and whose failures cost one check only."""
from __future__ import annotations

import textwrap

import pytest
import torch

from autograder.errors import ForbiddenCallUsed, MissingFunction, SignatureMismatch, StudentCodeError, WorkerLost
from autograder.notebook import CodeCell
from autograder.remote import Submission
from helpers import ROOT

PROBE = '''
import importlib.util, os, sys

def visible():
    return {"autograder": importlib.util.find_spec("autograder") is not None,
            "graders": importlib.util.find_spec("hw1_linear_regression") is not None,
            "solutions": importlib.util.find_spec("solutions") is not None,
            "cwd": os.getcwd(), "cwd_entries": os.listdir("."), "path": list(sys.path),
            "env": sorted(os.environ)}

def slow():
    while True:
        pass

def crash():
    os._exit(3)

def flood():
    for _ in range(100):
        os.write(1, b"x" * (1 << 20))

def same(x):
    return x

def gen():
    i = 0
    while True:
        yield i
        i += 1

def pinv(x):
    return torch.linalg.pinv(x)

class PinvNet:
    def forward(self, x):
        return torch.linalg.pinv(x)
    __call__ = forward

def make_net():
    return PinvNet()

class Counter:
    def __init__(self):
        self.steps = 0

def count_forever(counter):
    while True:
        counter.steps += 1

def shuffled_in_place(x):
    perm = torch.randperm(len(x))
    x[:] = x[perm]  # changes its input: the next call must not see that
    yield x.clone()

def draw():
    return torch.rand(3)

def inject():
    import os, stat
    from gradeworker import codec
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, codec.encode({"id": 999, "ok": True, "value": 100}))
        except OSError:
            pass
    return 1

import torch
'''


@pytest.fixture
def submission(launcher):
    cells = [CodeCell(1, textwrap.dedent(PROBE)), CodeCell(2, "raise ValueError('broken cell')"),
             CodeCell(3, "def after_broken():\n    return 42\n")]
    sub = Submission(launcher, cells, {"pinv": ["torch.linalg.pinv"], "make_net": ["torch.linalg.pinv"]})
    sub.reset(0)
    yield sub
    sub.close()


def test_can_the_worker_not_import_or_see_the_hidden_code(submission):
    seen = submission.visible()
    assert not seen["autograder"] and not seen["graders"] and not seen["solutions"]
    assert seen["cwd_entries"] == [] and not seen["cwd"].startswith(str(ROOT))
    assert str(ROOT) not in seen["path"] and all("autograder" not in p and "graders" not in p for p in seen["path"])
    assert "AUTOGRADER_COURSE_ROOT" not in seen["env"] and "VIRTUAL_ENV" not in seen["env"]


def test_does_a_broken_cell_leave_the_rest_of_the_notebook_loaded(submission):
    assert submission.after_broken() == 42
    assert any("broken cell" in p for p in submission.load_report.problems())


def test_does_a_hang_fail_that_call_and_the_next_get_a_fresh_worker(submission):
    first_pid = submission.worker.pid
    with pytest.raises(WorkerLost, match="did not finish"):
        submission.slow()
    submission.reset(1)
    assert submission.worker.pid != first_pid and submission.same(5) == 5


def test_does_an_exit_fail_that_call_only(submission):
    with pytest.raises(WorkerLost) as info:
        submission.crash()
    assert "exit 3" in info.value.status
    submission.reset(2)
    assert submission.after_broken() == 42


def test_does_an_output_flood_stop_at_the_file_size_limit(submission, launcher):
    with pytest.raises(StudentCodeError, match="File too large"):
        submission.flood()
    assert submission.worker.log.stat().st_size <= launcher.limits.file_bytes
    assert submission.same(1) == 1


def test_are_student_errors_missing_names_and_wrong_signatures_told_apart(submission):
    with pytest.raises(MissingFunction):
        submission.nowhere(1)
    with pytest.raises(SignatureMismatch):
        submission.same(1, 2)
    with pytest.raises(ForbiddenCallUsed, match="torch.linalg.pinv"):
        submission.pinv(torch.eye(3))


def test_do_non_data_results_stay_in_the_worker_behind_handles(submission):
    endless = submission.gen()
    assert endless.type.endswith("generator")
    items, exhausted = endless.iterate(5)
    assert items == [0, 1, 2, 3, 4] and not exhausted


def test_is_a_returned_tensor_a_plain_copy(submission):
    t = torch.arange(6.0).reshape(2, 3)
    back = submission.same(t)
    assert type(back) is torch.Tensor and torch.equal(back, t) and back is not t


def test_is_an_editable_install_hook_that_leads_to_the_graders_refused(tmp_path, monkeypatch):
    from gradeworker.server import reachable
    (tmp_path / "__editable___d2l_autograder_0_1_0_finder.py").write_text(
        "MAPPING = {'hw1_linear_regression': '/course/graders/hw1_linear_regression'}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = reachable(["hw1_linear_regression", "solutions"])  # this test's process imports both
    assert "hw1_linear_regression (via __editable___d2l_autograder_0_1_0_finder.py)" in found
    assert not any("solutions (via" in f for f in found)


def test_is_code_that_reaches_into_the_grader_flagged_but_ordinary_code_not():
    from autograder.notebook import CodeCell, tampering_signs
    flagged = tampering_signs([
        CodeCell(1, "import gradeworker.monitor as m\nm.CallMonitor._hook = lambda *a: None"),
        CodeCell(2, "import sys\ndef f():\n    sys.setprofile(None)"),
        CodeCell(3, "mod = __import__('grade' + 'worker')"),
        CodeCell(4, "import gc\nhooks = [o for o in gc.get_objects()]"),
    ])
    assert flagged == ["cell 1 uses gradeworker", "cell 2 uses setprofile",
                       "cell 3 uses __import__(...) of a computed string", "cell 4 uses gc", "cell 4 uses get_objects"]
    ordinary = "import torch\nnet = torch.nn.Linear(2, 1)\nnet.eval()\nmodel = torch.compile\nx = eval('1 + 1')\n"
    assert tampering_signs([CodeCell(1, ordinary)]) == []


def test_is_a_forbidden_call_inside_a_method_of_a_returned_object_caught(submission):
    net = submission.make_net()
    assert net.forbidden == ["torch.linalg.pinv"]
    for call in (lambda: net(torch.eye(2)), lambda: net.call("forward", torch.eye(2))):
        with pytest.raises(ForbiddenCallUsed, match="torch.linalg.pinv"):
            call()


def test_does_a_soft_budget_cut_a_call_short_and_keep_its_objects(submission):
    counter = submission.Counter.handle()
    result = submission.count_forever.run((counter,), soft_timeout=0.3)
    assert result.cut_short and result.value is None
    assert counter.attr("steps") > 1000  # the object is still there, as the cut left it


def test_does_a_reply_to_another_request_end_the_worker_as_an_invalid_reply(submission):
    with pytest.raises(WorkerLost, match="invalid reply"):
        submission.inject()
    submission.reset(3)
    assert submission.same(7) == 7


def test_does_a_hanging_cell_cost_its_time_once(launcher):
    cells = [CodeCell(1, "def f():\n    return 1\n"), CodeCell(2, "while True:\n    pass\n"),
             CodeCell(3, "def crash():\n    import os\n    os._exit(1)\n")]
    sub = Submission(launcher, cells, {})
    try:
        sub.reset(0)
        assert [c.index for c in sub.good] == [1, 3]
        assert any("CellTimeout" in p for p in sub.load_report.problems())
        import time
        for _ in range(3):
            with pytest.raises(WorkerLost):
                sub.crash()
            started = time.perf_counter()
            sub.reset(1)
            assert sub.f() == 1 and time.perf_counter() - started < 2, "a new worker re-ran the hanging cell"
    finally:
        sub.close()


def test_is_a_monitored_call_cut_at_its_budget_not_taken_for_tampering(launcher):
    spin = "import torch\ndef spin():\n    x = torch.ones(3)\n    while True:\n        x = torch.relu(x)\n"
    cells = [CodeCell(1, spin)]
    sub = Submission(launcher, cells, {"spin": ["torch.linalg.pinv"]})
    try:
        for _ in range(5):  # the timer lands inside the profile hook now and then; never a tampering verdict
            result = sub.spin.run((), soft_timeout=0.05)
            assert result.cut_short
    finally:
        sub.close()


def test_does_collect_repeated_make_each_call_on_fresh_arguments_in_one_request(submission):
    x = torch.arange(6.0)
    asked = submission._next_id
    passes, ran_out = submission.shuffled_in_place.collect_repeated(200, x, limit=5)
    assert submission._next_id == asked + 1 and ran_out and len(passes) == 200
    orders = {tuple(items[0].tolist()) for items in passes}
    assert all(sorted(order) == list(range(6)) for order in orders)  # each call saw the input untouched
    assert len(orders) > 50  # and drew its own order
    with pytest.raises(Exception, match="repeat"):
        submission.same.run((x,), wrt=[0], repeat=3)


def test_does_the_seed_ride_on_the_tests_first_request(submission):
    asked = submission._next_id
    submission.reset(123)
    assert submission._next_id == asked  # no round trip of its own
    first = submission.draw()
    submission.reset(123)
    assert torch.equal(submission.draw(), first)
    submission.reset(124)
    assert not torch.equal(submission.draw(), first)


def test_does_a_spare_worker_serve_the_next_submission_and_leave_nothing_behind():
    from autograder.launcher import Launcher
    with Launcher(spares=True) as launcher:
        scores = []
        for value in (1, 2, 3):
            sub = Submission(launcher, [CodeCell(1, f"def f():\n    return {value}\n")], {})
            sub.reset(0)
            scores.append(sub.f())
            sub.close()
        assert scores == [1, 2, 3]
        assert launcher._spares  # one started ahead for a fourth
        cgroups = [spare.cgroup for spare in launcher._spares.values() if spare.cgroup is not None]
    assert not any(d.exists() for c in cgroups for d in c.dirs)  # emptied and removed on close


def test_is_every_worker_alone_in_a_pid_namespace_of_its_own_beside_the_spare():
    """The fork server forks each worker straight into a new pid namespace as root (jail.PidNamespaces): one
    namespace per worker, never shared with the spare started beside it, and its end is told as its own. The
    three stay alive together: a namespace's inode number may be given again once it is gone."""
    from autograder.launcher import Launcher
    source = ("import os\ndef where():\n    return [os.getpid(), os.readlink('/proc/self/ns/pid'),\n"
              "            sorted(p for p in os.listdir('/proc') if p.isdigit())]\n"
              "def crash():\n    import ctypes\n    ctypes.string_at(0)\n")
    with Launcher(spares=True) as launcher:
        subs = []
        try:
            for _ in range(3):  # the second and third take a spare forked while the ones before were alive
                subs.append(Submission(launcher, [CodeCell(1, source)], {}))
                subs[-1].reset(0)
            if not any(layer.startswith("mount, network") for layer in subs[0].protections()):
                pytest.skip("this host refuses namespaces")
            seen = [sub.where() for sub in subs]
            assert launcher._spares  # and a fourth is up beside them
            with pytest.raises(WorkerLost) as lost:
                subs[-1].crash()
            assert "signal 11" in str(lost.value.status), lost.value.status
        finally:
            for sub in subs:
                sub.close()
    assert [pid for pid, _, _ in seen] == [1, 1, 1]
    assert all(processes == ["1"] for _, _, processes in seen)
    assert len({namespace for _, namespace, _ in seen}) == 3


def test_is_the_spare_prepared_ahead_only_for_the_same_forbidden_calls():
    """The spare is sent the last submission's PREPARE while that one is graded; the next submission reads the
    reply if it needs the same one, and gets a new worker (never a second PREPARE) if it needs another."""
    from autograder.launcher import Launcher
    source = "import torch\ndef f(x):\n    return torch.sigmoid(x)\n"
    with Launcher(spares=True) as launcher:
        forbids = {"f": ["torch.sigmoid"]}
        first = Submission(launcher, [CodeCell(1, source)], forbids)
        first.reset(0)
        with pytest.raises(ForbiddenCallUsed):
            first.f.run((torch.zeros(1),))
        assert not first.worker.prepared_ahead  # nothing was started ahead of the first
        first.close()
        second = Submission(launcher, [CodeCell(1, source)], forbids)
        second.reset(0)
        assert second.worker.prepared_ahead
        with pytest.raises(ForbiddenCallUsed):  # the check the spare installed ahead holds
            second.f.run((torch.zeros(1),))
        second.close()
        third = Submission(launcher, [CodeCell(1, source)], {})  # another assignment: nothing forbidden
        third.reset(0)
        assert not third.worker.prepared_ahead
        assert float(third.f(torch.zeros(1))) == 0.5
        third.close()


def test_can_a_tests_worker_start_no_process_unless_the_assignment_allows_it(launcher):
    """The process that loaded the notebook raises one more wall before it serves the tests (SERVE): no fork."""
    source = ("import os\ndef spawn():\n    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n"
              "    os.waitpid(pid, 0)\n    return 'forked'\n")
    for allowed in (False, True):
        sub = Submission(launcher, [CodeCell(1, source)], {}, allow_fork=allowed)
        try:
            sub.reset(0)
            if not any(layer.startswith("seccomp") for layer in sub.protections()):
                pytest.skip("this host refuses seccomp filters")
            if allowed:
                assert sub.spawn() == "forked"
            else:
                with pytest.raises(StudentCodeError) as info:
                    sub.spawn()
                assert info.value.type == "PermissionError", info.value
        finally:
            sub.close()


def test_can_student_code_not_write_its_own_memory_through_proc(launcher):
    """/proc/self/mem opened for writing would patch the monitor without a name the notebook scan flags. As
    root the uid drop already makes the worker undumpable (its /proc files root's); a TA's laptop has no uid
    drop, so /proc itself is mounted read-only."""
    source = ("def patch():\n    try:\n        open('/proc/self/mem', 'r+b').close()\n        return 'opened'\n"
              "    except OSError as exc:\n        return type(exc).__name__\n"
              "def proc_mount():\n    for line in open('/proc/self/mounts'):\n        fields = line.split()\n"
              "        if fields[1] == '/proc':\n            return fields[3]\n")
    sub = Submission(launcher, [CodeCell(1, source)], {})
    try:
        sub.reset(0)
        if not any(layer.startswith("own /proc") for layer in sub.protections()):
            pytest.skip("this host refuses a private /proc")
        assert "ro" in sub.proc_mount().split(",")
        assert sub.patch() != "opened"
    finally:
        sub.close()


def test_does_a_worker_import_torch_dynamo_only_when_its_code_or_graders_name_what_compiles():
    """The real torch._dynamo (~1.5 s) is imported before the last wall only when the served code names what
    compiles; an optimizer trains without it (the fork server's stand-in, gradeworker.lazydynamo), and code that
    compiles by another name still compiles, the import paid inside its call."""
    from autograder.launcher import Launcher
    from autograder.remote import serve_imports
    assert serve_imports(["import torch\ndef f(net):\n    return torch.compile(net)\n"])
    assert serve_imports(["", "student.construct('torch.compile')"])  # a grader's text counts too
    assert not serve_imports(["import torch\ndef f(net):\n    return torch.optim.SGD(net.parameters(), 0.1)\n"])
    assert not serve_imports(["def f():\n    '''the optimiser, compiled'''\n    return save_checkpoint_x\n"])
    source = ("import sys, torch\nDYNAMO = 'torch._' + 'dynamo'\n"
              "def real():\n    return '__file__' in vars(sys.modules[DYNAMO])\n"
              "def step():\n    before = real()\n"
              "    net = torch.nn.Linear(2, 1)\n    opt = getattr(torch, 'opt' + 'im').SGD(net.parameters(), lr=0.1)\n"
              "    net(torch.ones(3, 2)).sum().backward()\n    opt.step()\n"
              "    return [before, real(), float(net.bias)]\n"
              "def compiled():\n    f = getattr(torch, 'com' + 'pile')(lambda x: torch.sin(x) + 1, backend='eager')\n"
              "    return [float(f(torch.zeros(1))), real()]\n")
    with Launcher() as fresh:
        sub = Submission(fresh, [CodeCell(1, source)], {})
        try:
            before, after, bias = sub.step()
            value, real_after = sub.compiled()
        finally:
            sub.close()
    assert (before, after) == (False, False) and bias != 0.0
    assert (value, real_after) == (1.0, True)
