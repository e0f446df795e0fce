"""exhaustive_search(x, y, ws) -> (w_best, losses): losses[i] = mean((ws[i] x - y)^2), w_best = ws[argmin]."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_number, expect_tensor, inputs
from hw0_tensors_autograd.checks import line_data

HINT = "losses[i] = ((ws[i] * x - y) ** 2).mean(); w_best = float(ws[losses.argmin()])"


def search(student, x, y, ws):
    got = student.exhaustive_search(x, y, ws)
    expect(isinstance(got, (tuple, list)) and len(got) == 2, "exhaustive_search returns (w_best, losses)",
           inputs=inputs(x=x, y=y, ws=ws), expected="a pair (w_best, losses)", got=type(got).__name__,
           hint="return float(w_best), losses")
    return got


@pytest.mark.points(6)
def test_losses(student, ref, device, dtype):
    """Is losses[i] the mean square error of ws[i] on the whole data set, for the lecture's grid and a finer one?"""
    for n, ws in [(3, torch.arange(0.0, 4.1, 0.1)), (25, torch.linspace(-1.0, 5.0, 61))]:
        x, y = line_data(n, dtype, device)
        ws = ws.to(dtype=dtype, device=device)
        _, losses = search(student, x, y, ws)
        _, expected = ref.exhaustive_search(x, y, ws)
        sq = (ws[:, None] * x[None, :] - y[None, :]) ** 2
        expect_tensor(losses, expected, "losses[i] = mean((ws[i] * x - y)^2)", inputs=inputs(x=x, y=y, ws=ws),
                      hint=HINT, mistakes={"the squared errors are summed, not averaged": lambda: sq.sum(1),
                                           "half the MSE (a factor 1/2 the lecture's cost does not have)":
                                           lambda: sq.mean(1) / 2,
                                           "the absolute error instead of the squared error":
                                           lambda: sq.sqrt().mean(1)})
    # The general rules at the edges: one example, one candidate, a candidate that fits exactly (loss 0).
    x, y = line_data(1, dtype, device)
    edges = [("one example", (x, y, torch.tensor([0.0, 2.0], dtype=dtype, device=device))),
             ("one candidate", (x, y, torch.tensor([1.5], dtype=dtype, device=device))),
             ("a zero loss", (x, 2 * x, torch.tensor([2.0, 3.0], dtype=dtype, device=device)))]
    expect_general_rules(student.exhaustive_search.run, ref.exhaustive_search, edges, ["x", "y", "ws"],
                         "exhaustive_search")


@pytest.mark.points(4)
def test_best_weight(student, ref, device):
    """Is w_best the candidate of smallest cost, as a Python float (not its index, not its loss)?"""
    for slope in (2.0, 3.3, 0.7):
        x, y = line_data(20, torch.float64, device, slope=slope)
        ws = torch.arange(0.0, 4.1, 0.1, dtype=torch.float64, device=device)
        w_best, _ = search(student, x, y, ws)
        expected, losses = ref.exhaustive_search(x, y, ws)
        i = int(losses.argmin())
        expect_number(w_best, expected, "w_best is the weight of smallest MSE", inputs=inputs(x=x, y=y, ws=ws),
                      mistakes={"the index of the best weight, not the weight": float(i),
                                "the smallest loss, not the weight that gives it": float(losses[i]),
                                "the largest loss's weight (argmax instead of argmin)": float(ws[losses.argmax()])},
                      hint=HINT)
