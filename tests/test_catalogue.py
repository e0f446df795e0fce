"""The graders catch every catalogued wrong implementation, and name the mistake where they can."""
from __future__ import annotations

import pytest

from conftest import load_module
from helpers import ROOT, assignment_ids, fill, named_kind, solution_cells, write

# helpers.named_kind decides what counts as a named mistake (benchmarks/named_rate.py counts the same way); the
# rate per assignment is printed at the end of this module (run it with -n 0 -s, or run named_rate.py).
_RATE: dict[str, list[int]] = {}  # assignment -> [entries graded, caught, named, of them forbidden calls]


@pytest.fixture(scope="module", autouse=True)
def _print_named_rate(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for assignment_id, (entries, caught, named, forbidden) in sorted(_RATE.items()):
        line = (f"named rate {assignment_id}: {entries} entries, {caught} caught, {named} named "
                f"({100 * named / max(caught, 1):.0f} %; {forbidden} of them forbidden calls)")
        print(line) if reporter is None else reporter.write_line(line)


def _cases():
    for assignment_id in assignment_ids():
        path = ROOT / "tests" / "catalogue" / f"{assignment_id}.py"
        if path.is_file():
            for wrong in load_module(path).WRONG:
                yield pytest.param(assignment_id, wrong, id=f"{assignment_id}-{wrong.task}-{wrong.title}")


@pytest.mark.parametrize("assignment_id, wrong", list(_cases()))
def test_is_the_wrong_implementation_caught(grade, tmp_path, assignment_id, wrong):
    answers = {**solution_cells(assignment_id), wrong.task: wrong.source}
    notebook = write(fill(assignment_id, answers), tmp_path / f"{wrong.task}.ipynb")
    result = grade(assignment_id, notebook, tasks=[wrong.task])
    assert not result.harness_errors, [t.detail for t in result.harness_errors]
    kind, rate = named_kind(result), _RATE.setdefault(assignment_id, [0, 0, 0, 0])
    caught = result.score < result.max_score
    rate[0] += 1
    rate[1] += caught
    rate[2] += caught and kind != ""
    rate[3] += caught and kind == "forbidden"
    assert result.score < result.max_score, f"'{wrong.title}' got full marks for {wrong.task}"
    if wrong.points is not None:
        kept = sum(t.points for t in result.tests if t.task == wrong.task)
        assert kept == wrong.points, f"'{wrong.title}' keeps {kept:g} points of {wrong.task}, not {wrong.points:g}"
    if wrong.mistake:
        messages = [t.message.render() for t in result.tests if not t.passed]
        assert any(wrong.mistake in m for m in messages), \
            f"no message says {wrong.mistake!r}:\n" + "\n---\n".join(messages)


def test_what_counts_as_named():
    """A Likely mistake counts as named; a forbidden call counts apart (its message names the call as its mistake
    too); a message that only says which check failed does not count."""
    from types import SimpleNamespace as N

    def failed(comparison, mistake):
        return N(passed=False, message=N(comparison=comparison, mistake=mistake))
    forbidden = "f called torch.cdist, which this exercise forbids"
    assert named_kind(N(tests=[failed(forbidden, "called torch.cdist")])) == "forbidden"
    assert named_kind(N(tests=[failed(forbidden, None), failed("expected 1, got 2", "the factor 2")])) == "named"
    assert named_kind(N(tests=[failed("expected 1, got 2", None)])) == ""
