"""tanh(X) = (1 - exp(-2X)) / (1 + exp(-2X)), elementwise; finite, with finite gradients, for inputs up to +-1000."""
import pytest
import torch


def value_mistakes(X):
    return {
        "(exp(2x) - 1) / (exp(2x) + 1) overflows: inf / inf = NaN for large positive x":
            lambda: (torch.exp(2 * X) - 1) / (torch.exp(2 * X) + 1),
        "(exp(x) - exp(-x)) / (exp(x) + exp(-x)) overflows: inf / inf = NaN for large |x|":
            lambda: (torch.exp(X) - torch.exp(-X)) / (torch.exp(X) + torch.exp(-X)),
        "(1 - exp(-2x)) / (1 + exp(-2x)) overflows: inf / inf = NaN for large negative x":
            lambda: (1 - torch.exp(-2 * X)) / (1 + torch.exp(-2 * X)),
        "2 * sigmoid(x) - 1 is tanh(x / 2); tanh(x) = 2 * sigmoid(2x) - 1": lambda: torch.tanh(X / 2),
        "sigmoid instead of tanh": lambda: torch.sigmoid(X),
        "sign error: the result is tanh(-x)": lambda: -torch.tanh(X),
    }


GRADIENT_MISTAKES = {  # formulas whose gradients are NaN somewhere (the first two: though their values are right)
    "2 / (1 + exp(-2x)) - 1: exp(-2x) overflows to inf for large negative x, and autograd turns 0 * inf into NaN":
        lambda x: 2 / (1 + torch.exp(-2 * x)) - 1,
    "torch.where(x >= 0, (1 - exp(-2x)) / (1 + exp(-2x)), (exp(2x) - 1) / (exp(2x) + 1)): the branch not taken "
    "still overflows, and its zero gradient times inf is NaN":
        lambda x: torch.where(x >= 0, (1 - torch.exp(-2 * x)) / (1 + torch.exp(-2 * x)),
                              (torch.exp(2 * x) - 1) / (torch.exp(2 * x) + 1)),
    "(exp(2x) - 1) / (exp(2x) + 1) overflows: inf / inf = NaN for large positive x":
        lambda x: (torch.exp(2 * x) - 1) / (torch.exp(2 * x) + 1),
    "(exp(x) - exp(-x)) / (exp(x) + exp(-x)) overflows: inf / inf = NaN for large |x|":
        lambda x: (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x)),
    "(1 - exp(-2x)) / (1 + exp(-2x)) overflows: inf / inf = NaN for large negative x":
        lambda x: (1 - torch.exp(-2 * x)) / (1 + torch.exp(-2 * x)),
}


@pytest.mark.points(3)
def test_values(activation, dtype):
    """Does tanh compute (1 - exp(-2x)) / (1 + exp(-2x)) for every element, for several shapes?"""
    activation.values(dtype, value_mistakes)


@pytest.mark.points(3)
def test_extremes(activation, dtype):
    """For inputs as large as +-1000, is tanh finite, and within rounding of -1 at -1000 and 1 at +1000?"""
    activation.extremes(dtype, value_mistakes)


@pytest.mark.points(3)
def test_gradients(activation, dtype):
    """Is the gradient 1 - tanh(x)^2, finite (no NaN) even at +-1000?"""
    activation.gradients(dtype, GRADIENT_MISTAKES)


@pytest.mark.points(1)
@pytest.mark.general_rule
def test_input_unmodified(activation):
    """Is X left unmodified, the result in X's dtype and device, also for an empty, a 0-d, an all-negative and
    a float64 X?"""
    activation.leaves_input()
