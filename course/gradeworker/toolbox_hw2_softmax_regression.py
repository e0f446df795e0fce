"""Worker-side helpers for hw2_softmax_regression's graders (plain course code, no grading secrets).

Built in the worker with ``student.construct("gradeworker.toolbox_hw2_softmax_regression.ModeSensitive", ...)``.
"""
from __future__ import annotations

import torch
from torch import nn

from .toolbox import Probe


class ModeSensitive(Probe):
    """A classifier whose scores are right only when it is run the way the loop should run it.

    Wraps a network and records each call as ``Probe`` does. With ``for_training=False`` the right
    way is eval mode with autograd off (an evaluation loop); with ``for_training=True`` it is
    training mode with autograd on (a training loop). Run any other way, it rolls its scores by one
    class for the wrong mode and by two for the wrong autograd setting, so the accuracy a loop
    reports (and the training it does) shows how it ran the network, whatever happens to ``calls``.
    """

    def __init__(self, inner: nn.Module, for_training: bool):
        super().__init__(inner)
        self.for_training = for_training

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        scores = super().forward(X)
        shift = int(self.training != self.for_training) + 2 * int(torch.is_grad_enabled() != self.for_training)
        return scores.roll(shift, dims=1) if shift else scores
