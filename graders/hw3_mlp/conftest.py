"""Fixtures for hw3's graders; the checks behind them are in checks.py."""
from __future__ import annotations

import pytest

from hw3_mlp.checks import Activation, explain_errors


@pytest.fixture
def explained():
    """``with explained(checked, where, (pattern, mistake, hint), ...):`` names known mistakes behind errors."""
    return explain_errors


@pytest.fixture
def activation(request, student, ref, device) -> Activation:
    """The activation graded by this file: test_relu.py grades relu."""
    return Activation(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_"), student, ref, device)

