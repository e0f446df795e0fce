"""autograder.integrity: the rules every open part graded by training follows (hw7_training's, hw8's).

A budget the grader keeps (the worker is killed, whatever student code does with signals), weights handed
over by the harness as training goes, evaluation in a new worker, test images no table can match, and a
notebook too small to carry a data set. Workers here train toy models for a second or two.
"""
from __future__ import annotations

import hashlib
import textwrap
import time
from types import SimpleNamespace

import pytest
import torch

from autograder import integrity
from autograder.errors import CheckFailed, UsageError, WorkerLost
from autograder.notebook import CodeCell
from autograder.remote import Submission
from helpers import ROOT

CODE = '''
import os, signal, time
import torch
from torch import nn

state = {"trained_here": False}

def build():
    return nn.Linear(4, 2)

def train(model, seconds, ignore_signals=False):
    """Ignores SIGALRM and SIGTERM if asked; every step moves the weights by one."""
    if ignore_signals:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    state["trained_here"] = True
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        model(torch.zeros(1, 4))
        with torch.no_grad():
            model.bias += 1
        time.sleep(0.01)
    return "finished"

def trained_here():
    return state["trained_here"]

def package_data():
    import sklearn
    folder = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data")
    return sorted(os.listdir(folder))
'''


@pytest.fixture
def student(launcher):
    sub = Submission(launcher, [CodeCell(1, textwrap.dedent(CODE))], {})
    sub.reset(0)
    yield sub
    sub.close()


def _train(student, model, seconds, ignore_signals=False):
    def call(timeout, on_progress):
        return student.function("train", timeout=timeout).run((model, seconds, ignore_signals), {},
                                                              on_progress=on_progress)
    return call


def test_does_the_deadline_stop_a_run_that_ignores_signals_and_keep_its_last_weights(student):
    model = student.build.handle()
    trained = integrity.train_on_the_clock(student, model, time.monotonic(), 3.0, _train(student, model, 30, True),
                                           interval=0.3)
    assert trained.cut_short and trained.value is None  # a 30 s run that ignores signals, ended at 3 s
    assert trained.weights is not None and trained.handed_over >= 2
    assert float(trained.weights["bias"][0]) > 10  # weights from the middle of the run, not the untrained ones
    assert trained.seconds < 3.0  # weights from before the deadline
    assert student.worker is None  # the training worker is gone: evaluation gets a new one
    assert "train" not in student.timed_out  # stopped at its budget, not a hang


def test_does_a_run_that_returns_in_time_hand_over_its_final_weights(student):
    model = student.build.handle()
    started = time.monotonic()
    trained = integrity.train_on_the_clock(student, model, started, 5.0, _train(student, model, 0.3), interval=10)
    assert not trained.cut_short and trained.value == "finished"
    assert trained.handed_over == 1 and float(trained.weights["bias"][0]) > 5
    assert trained.seconds < 5


def test_does_evaluation_run_a_fresh_model_in_a_worker_that_never_trained(student):
    model = student.build.handle()
    trained = integrity.train_on_the_clock(student, model, time.monotonic(), 5.0, _train(student, model, 0.2))
    images = {"a": torch.zeros(5, 4), "b": torch.ones(3, 4)}
    outputs, seconds = integrity.evaluate_fresh(student, trained.weights, images, torch.device("cpu"), 20, seed=1,
                                                build="build")
    assert not student.trained_here()
    bias = trained.weights["bias"]
    assert torch.allclose(outputs["a"], bias.expand(5, 2))  # the handed-over weights, each set in its own place
    assert torch.allclose(outputs["b"], (trained.weights["weight"].sum(1) + bias).expand(3, 2))
    assert 0 < seconds < 20


def test_do_weights_of_another_architecture_fail_with_a_clear_message(student):
    with pytest.raises(CheckFailed, match="load into a new build"):
        integrity.evaluate_fresh(student, {"weight": torch.zeros(3, 3)}, {"a": torch.zeros(2, 4)},
                                 torch.device("cpu"), 20, seed=1, build="build")


def test_can_an_interim_reply_not_answer_a_request_that_takes_none(student):
    model = student.build.handle()
    student.construct("toolbox.WeightSnapshots", model, interval=0.0)
    with pytest.raises(WorkerLost, match="invalid reply"):
        student.train(model, 0.2)


def test_is_the_fallback_data_out_of_the_workers_reach(student):
    walls = student.protections()
    if not any(w.startswith("minimal read-only filesystem") for w in walls):
        pytest.skip("this host does not allow the worker's private filesystem")
    assert student.package_data() == []


def test_does_the_transformation_leave_no_test_image_as_it_was():
    images = torch.rand(64, 1, 28, 28)
    seen = integrity.perturb(images, 3)
    assert torch.equal(seen, integrity.perturb(images, 3)) and not torch.equal(seen, integrity.perturb(images, 4))
    assert seen.shape == images.shape and 0 <= float(seen.min()) and float(seen.max()) <= 1
    hashes = {hashlib.sha1(x.numpy().tobytes()).hexdigest() for x in images}
    assert not hashes & {hashlib.sha1(x.numpy().tobytes()).hexdigest() for x in seen}
    assert float((seen - images).abs().mean()) < 0.15  # small: the labels stay what they were


def test_is_a_notebook_carrying_data_over_the_code_size_cap():
    honest = SimpleNamespace(cells=[CodeCell(1, "def build_model():\n    return None\n")])
    assert integrity.check_code_size(honest) < 100
    carrier = SimpleNamespace(cells=[CodeCell(1, "TABLE = " + repr(list(range(100_000))))])
    with pytest.raises(CheckFailed, match="673 KB of code, the limit is 256 KB") as failed:
        integrity.check_code_size(carrier)
    assert "carries data" in failed.value.mistake


def test_does_the_memorisation_check_flag_a_table_and_not_chance():
    assert integrity.memorisation(1.0, 0.13, 360, 360)[1]
    assert not integrity.memorisation(0.975, 0.96, 360, 360)[1]


# ----- the fallback data: announced, or refused ---------------------------------------------------------------
@pytest.fixture
def no_data(monkeypatch, tmp_path):
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path / "empty"))
    monkeypatch.delenv(integrity.REQUIRE_ENV, raising=False)


def test_is_grading_hw7_on_the_fallback_announced_and_refused_when_required(course, no_data, monkeypatch):
    notice = integrity.refuse_without_data(course, "hw7_training")
    assert notice.startswith("FALLBACK DATA: hw7_training") and "not Fashion-MNIST" in notice
    assert integrity.refuse_without_data(course, "hw1_linear_regression") == ""
    monkeypatch.setenv(integrity.REQUIRE_ENV, "1")
    with pytest.raises(UsageError, match="refusing to grade hw7_training on the fallback data"):
        integrity.refuse_without_data(course, "hw7_training")


def test_does_the_real_data_silence_the_notice(course, monkeypatch, tmp_path):
    from d2lcourse.data import write_fashion_mnist_root
    pair = (torch.zeros(2, 28, 28, dtype=torch.uint8), torch.zeros(2, dtype=torch.uint8))
    write_fashion_mnist_root(tmp_path, pair, pair)
    monkeypatch.setenv("D2L_DATA_ROOT", str(tmp_path))
    monkeypatch.setenv(integrity.REQUIRE_ENV, "1")
    assert integrity.refuse_without_data(course, "hw7_training") == ""


def test_does_require_data_stop_the_cli_before_any_grading(no_data, capsys, monkeypatch):
    from autograder.cli import main
    monkeypatch.setenv(integrity.REQUIRE_ENV, "0")  # main sets it to "1": restored (removed) after this test
    notebook = ROOT / "tests" / "submissions" / "hw7_training" / "correct_solution.ipynb"
    assert main(["grade", "hw7_training", str(notebook), "--require-data"]) == 2
    assert "refusing to grade hw7_training on the fallback data" in capsys.readouterr().err


def test_is_the_fallback_in_every_report_header():
    from autograder.render import feedback_html, feedback_markdown, summary_text, terminal_summary
    from autograder.results import GradingResult
    result = GradingResult("hw7_training", "x.ipynb", data_notice="FALLBACK DATA: stand-in")
    markdown = feedback_markdown(result)
    assert markdown.index("FALLBACK DATA") < markdown.index("Score:")
    page = feedback_html(result)
    assert page.index("FALLBACK DATA: stand-in") < page.index("Score:")
    for text in (summary_text(result), terminal_summary(result)):
        assert "FALLBACK DATA: stand-in" in text.splitlines()[1]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the grader's points marks, outside grading
def test_is_the_courses_private_test_set_scored_instead_of_the_public_one(monkeypatch, tmp_path):
    from d2lcourse.data import PRIVATE_FILES, labelled_images, write_idx
    monkeypatch.syspath_prepend(str(ROOT / "graders"))
    from hw7_training import test_build_model as open_part

    from solutions import hw7_training as ref
    images = torch.randint(0, 256, (6, 28, 28), dtype=torch.uint8)
    labels = torch.arange(6, dtype=torch.uint8)
    write_idx(tmp_path / PRIVATE_FILES[0], images)
    write_idx(tmp_path / PRIVATE_FILES[1], labels)
    X, y = labelled_images(tmp_path)
    assert X.shape == (6, 1, 28, 28) and torch.equal(y, labels.long()) and torch.equal(X[0, 0], images[0] / 255)
    public = (torch.rand(4, 1, 28, 28), torch.zeros(4, dtype=torch.int64))
    monkeypatch.setenv(open_part.PRIVATE_ENV, str(tmp_path))
    what, sets, truth = open_part.scored_sets(ref, public, secret=5)
    assert "private test set (6 images" in what and torch.equal(truth["scored"], y)
    assert sets["scored"].shape == X.shape and not torch.equal(sets["scored"], X)  # transformed too
    assert torch.equal(sets["clean"], public[0])  # the memorisation check's public images, as they are
    monkeypatch.delenv(open_part.PRIVATE_ENV)
    what, sets, truth = open_part.scored_sets(ref, public, secret=5)
    assert what.startswith("the test images, transformed") and torch.equal(truth["scored"], public[1])


# ----- hw8's open part: the same rules, scored by the grader's own KNN ----------------------------------------
def test_is_grading_hw8_on_the_fallback_announced_and_refused_when_required(course, no_data, monkeypatch):
    notice = integrity.refuse_without_data(course, "hw8_metric_learning")
    assert notice.startswith("FALLBACK DATA: hw8_metric_learning") and "not Fashion-MNIST" in notice
    monkeypatch.setenv(integrity.REQUIRE_ENV, "1")
    with pytest.raises(UsageError, match="refusing to grade hw8_metric_learning on the fallback data"):
        integrity.refuse_without_data(course, "hw8_metric_learning")


@pytest.fixture
def hw8_open_part(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "graders"))
    from hw8_metric_learning import test_build_embedder
    return test_build_embedder


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")  # the grader's points marks, outside grading
def test_does_hw8s_knn_agree_with_the_reference_and_break_ties_to_the_nearest(hw8_open_part):
    from solutions import hw8_metric_learning as ref
    torch.manual_seed(0)
    gallery, labels = torch.randn(60, 8), torch.randint(0, 4, (60,))
    queries = torch.randn(200, 8)
    for k in (1, 2, 5, 60):
        assert torch.equal(hw8_open_part.knn_predict(gallery, labels, queries, k, chunk=64),
                           ref.knn_predict(gallery, labels, queries, k))
    # two votes each for classes 3 and 1: the nearest neighbour (class 1) wins, not the smaller or larger label
    tied = torch.tensor([[1.0], [2.0], [3.0], [4.0], [9.0]])
    assert hw8_open_part.knn_predict(tied, torch.tensor([1, 3, 3, 1, 0]), torch.tensor([[0.0]]), k=4).item() == 1
    assert hw8_open_part.knn_predict(tied, torch.tensor([3, 1, 1, 3, 0]), torch.tensor([[0.0]]), k=4).item() == 3


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
def test_is_hw8s_gallery_so_many_per_class_drawn_from_the_secret_seed(hw8_open_part):
    y = torch.arange(100) % 10
    y[:3] = 9  # classes 0, 1 and 2 keep 9 images each, class 9 has 13
    picked = hw8_open_part.gallery_indices(y, 5, seed=11)
    assert torch.bincount(y[picked], minlength=10).tolist() == [5] * 10
    assert torch.equal(picked, hw8_open_part.gallery_indices(y, 5, seed=11))
    assert not torch.equal(picked, hw8_open_part.gallery_indices(y, 5, seed=12))
    counts = torch.bincount(y[hw8_open_part.gallery_indices(y, 10, seed=0)], minlength=10).tolist()
    assert counts == [9, 9, 9] + [10] * 7  # all that a class has, where it has fewer


@pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")
def test_are_malformed_hw8_hyperparams_all_named_at_once(hw8_open_part):
    with pytest.raises(CheckFailed) as failed:
        hw8_open_part.validate_hyperparams({"lr": float("nan"), "batch_size": 1, "epochs": True, "margin": 0})
    text = failed.value.comparison
    for part in ("lr should be a number greater than 0", "batch_size should be an integer from 2 to 4096, got 1",
                 "epochs should be an integer from 1 to 500, got True", "margin should be a number greater than 0"):
        assert part in text, text
    good = {"lr": 1e-3, "batch_size": 2, "epochs": 1, "margin": 0.2}
    assert hw8_open_part.validate_hyperparams(good) == good
