"""cross_entropy(y_hat, y) -> -log(y_hat[i, y[i]]) per example, shape (n,); y_hat holds probabilities."""
import pytest
import torch

from autograder.compare import expect, expect_general_rules, expect_tensor, expect_unchanged, graph_mistake, inputs

SHAPES = [(4, 4), (3, 5), (5, 3), (1, 10), (6, 2)]  # square first: index mix-ups give values, not errors
HINT = "pick each row's probability of its label with y_hat[range(len(y_hat)), y], then take -torch.log"


def probabilities(n, q, dtype, device):
    """Rows of probabilities (a softmax of random logits) and int64 labels, one per row."""
    y_hat = torch.softmax(2 * torch.randn(n, q, dtype=dtype, device=device), dim=1)
    return y_hat, torch.randint(0, q, (n,), device=device)


def mistakes(y_hat, y):
    rows = torch.arange(len(y_hat), device=y_hat.device)
    picked = y_hat[rows, y]
    return {
        "y_hat[:, y] picks the label's column for every row, giving an (n, n) matrix; index with "
        "y_hat[range(n), y]": lambda: -torch.log(y_hat[:, y]),
        "the minus sign is missing: log(probability) is negative, the loss must be positive":
            lambda: torch.log(picked),
        "the losses are averaged over the batch (no reduction is asked for)": lambda: -torch.log(picked).mean(),
        "the losses are summed over the batch (no reduction is asked for)": lambda: -torch.log(picked).sum(),
        "log10 instead of the natural logarithm": lambda: -torch.log10(picked),
        "1 - probability instead of -log(probability)": lambda: 1 - picked,
        "row and label swapped: y_hat[y, range(n)]": lambda: -torch.log(y_hat[y, rows]),
    }


@pytest.mark.points(4)
def test_values(student, ref, device, dtype):
    """Is the loss -log(y_hat[i, y[i]]) for each example, with no reduction, on non-square batches too?"""
    for n, q in SHAPES:
        y_hat, y = probabilities(n, q, dtype, device)
        expect_tensor(student.cross_entropy(y_hat, y), ref.cross_entropy(y_hat, y),
                      "cross_entropy(y_hat, y)[i] = -log(y_hat[i, y[i]])", inputs=inputs(y_hat=y_hat, y=y),
                      mistakes=mistakes(y_hat, y), hint=HINT)


@pytest.mark.points(2)
def test_confident_predictions(student, ref, device, dtype):
    """With probabilities of exactly 1 and as small as 1e-30 at the label, is the loss 0 and about 69.08?"""
    y_hat = torch.tensor([[1.0, 1e-20, 1e-20], [1e-30, 0.5, 0.5], [0.2, 0.3, 0.5]], dtype=dtype, device=device)
    y = torch.tensor([0, 0, 2], device=device)
    expect_tensor(student.cross_entropy(y_hat, y), ref.cross_entropy(y_hat, y),
                  "the loss is 0 for a certain, right prediction and large for a near-impossible one",
                  inputs=inputs(y_hat=y_hat, y=y), mistakes=mistakes(y_hat, y),
                  hint=HINT + "; do not add an epsilon or clamp: the contract asks for -log exactly")


@pytest.mark.points(2)
def test_gradient(student, device):
    """Is the gradient with respect to y_hat -1 / y_hat[i, y[i]] at each label and zero elsewhere?"""
    y_hat, y = probabilities(5, 3, torch.float64, device)
    g = torch.rand(5, dtype=torch.float64, device=device)
    where = inputs(y_hat=y_hat, y=y)
    got = student.cross_entropy.run((y_hat, y), wrt=[0], grad_output=g)
    expect(got.grad_error is None, "the loss is differentiable with respect to y_hat", inputs=where,
           expected="a result connected to the autograd graph", got=got.grad_error or "",
           mistake=graph_mistake(got.grad_error))
    want = torch.zeros_like(y_hat)
    want[torch.arange(5, device=device), y] = -g / y_hat[torch.arange(5, device=device), y]
    expect(got.grads[0] is not None, "the gradient reaches y_hat", inputs=where, expected="a gradient", got="None")
    expect_tensor(got.grads[0], want, "d loss / d y_hat = -1 / y_hat at each label, 0 elsewhere", inputs=where,
                  hint=HINT)


@pytest.mark.points(2)
@pytest.mark.general_rule
def test_inputs_untouched(student, ref, device):
    """Are y_hat and y left unmodified, with the loss on y_hat's device and in its dtype?"""
    y_hat, y = probabilities(4, 6, torch.float64, device)
    where = inputs(y_hat=y_hat, y=y)
    got = student.cross_entropy.run((y_hat, y), return_args=True)
    expect_unchanged(y_hat, got.args_after[0], "y_hat", "cross_entropy leaves y_hat unmodified", inputs=where)
    expect_unchanged(y, got.args_after[1], "y", "cross_entropy leaves y unmodified", inputs=where)
    expect_tensor(got.value, ref.cross_entropy(y_hat, y), "the loss keeps y_hat's dtype and device", inputs=where,
                  mistakes=mistakes(y_hat, y), hint=HINT)
    # The same rules at the edges: one example, one class (probability 1), a float32 batch with a probability 0.
    one, label = probabilities(1, 3, torch.float64, device)
    certain = torch.zeros(3, 2, device=device)
    certain[:, 0] = 1.0
    edges = [("one example", (one, label)),
             ("one class", (torch.ones(3, 1, dtype=torch.float64, device=device), torch.zeros(3, dtype=torch.long,
                                                                                             device=device))),
             ("float32, probabilities 0 and 1", (certain, torch.zeros(3, dtype=torch.long, device=device)))]
    expect_general_rules(student.cross_entropy.run, ref.cross_entropy, edges, ["y_hat", "y"], "cross_entropy")
