"""sigmoid(X) = 1 / (1 + exp(-X)), elementwise; finite, with finite gradients, for inputs as large as +-1000."""
import pytest
import torch


def value_mistakes(X):
    return {
        "sign error: the result is sigmoid(-x), e.g. 1 / (1 + exp(x))": lambda: torch.sigmoid(-X),
        "tanh instead of sigmoid": lambda: torch.tanh(X),
        "exp(x) / (1 + exp(x)) overflows: inf / inf = NaN for large positive x":
            lambda: torch.exp(X) / (1 + torch.exp(X)),
    }


GRADIENT_MISTAKES = {  # formulas whose gradients are NaN somewhere (the first two: though their values are right)
    "1 / (1 + exp(-x)): exp(-x) overflows to inf for large negative x, and autograd turns 0 * inf into NaN":
        lambda x: 1 / (1 + torch.exp(-x)),
    "torch.where(x >= 0, 1 / (1 + exp(-x)), exp(x) / (1 + exp(x))): the branch not taken still overflows, and its "
    "zero gradient times inf is NaN":
        lambda x: torch.where(x >= 0, 1 / (1 + torch.exp(-x)), torch.exp(x) / (1 + torch.exp(x))),
    "exp(x) / (1 + exp(x)) overflows: inf / inf = NaN for large positive x":
        lambda x: torch.exp(x) / (1 + torch.exp(x)),
}


@pytest.mark.points(3)
def test_values(activation, dtype):
    """Does sigmoid compute 1 / (1 + exp(-x)) for every element, for several shapes?"""
    activation.values(dtype, value_mistakes)


@pytest.mark.points(3)
def test_extremes(activation, dtype):
    """For inputs as large as +-1000, is sigmoid finite, and within rounding of 0 at -1000 and 1 at +1000?"""
    activation.extremes(dtype, value_mistakes)


@pytest.mark.points(3)
def test_gradients(activation, dtype):
    """Is the gradient sigmoid(x) (1 - sigmoid(x)), finite (no NaN) even at +-1000?"""
    activation.gradients(dtype, GRADIENT_MISTAKES)


@pytest.mark.points(1)
@pytest.mark.general_rule
def test_input_unmodified(activation):
    """Is X left unmodified, the result in X's dtype and device, also for an empty, a 0-d, an all-negative and
    a float64 X?"""
    activation.leaves_input()
