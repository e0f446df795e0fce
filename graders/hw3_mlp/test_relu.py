"""relu(X) = max(X, 0), elementwise; a new tensor, X unmodified."""
import pytest
import torch


def value_mistakes(X):
    return {
        "min(X, 0) instead of max(X, 0)": lambda: X.clamp(max=0),
        "abs(X) instead of max(X, 0)": lambda: X.abs(),
        "a leaky ReLU: negative inputs are scaled, not zeroed": lambda: torch.where(X > 0, X, 0.01 * X),
    }


@pytest.mark.points(3)
def test_values(activation, dtype):
    """Does relu compute max(x, 0) for every element, for several shapes (a 0-d tensor included)?"""
    activation.values(dtype, value_mistakes)


@pytest.mark.points(2)
def test_extremes(activation, dtype):
    """Is relu finite and right for inputs as large as +-1000?"""
    activation.extremes(dtype, value_mistakes)


@pytest.mark.points(3)
def test_gradients(activation, dtype):
    """Is the gradient 1 for positive and 0 for negative inputs (inputs of exactly 0 left out)?"""
    activation.gradients(dtype, {"the gradient is 1 everywhere, as if X were returned": lambda x: x})


@pytest.mark.points(2)
@pytest.mark.general_rule
def test_input_unmodified(activation):
    """Is X left unmodified (a new tensor returned, not X clamped in place), the result in X's dtype and
    device, also for an empty, a 0-d, an all-negative and a float64 X?"""
    activation.leaves_input()
