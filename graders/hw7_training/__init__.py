"""Hidden graders for hw7_training (d2l 3.6, 5.5, 6.6 and the course's Fashion-MNIST homework). Never shipped.

Nothing is forbidden here: the parts are about using PyTorch's pieces (optimizers, schedulers,
``torch.save``/``torch.load``) correctly, not about rebuilding them. Shared checks are in ``checks.py``;
the open part (``build_model`` and ``HYPERPARAMS``, graded by training) is ``test_build_model.py``. ``DATA``
names the course data set it needs (``autograder.integrity.fallback_notice``).
"""
FORBIDDEN: dict[str, list[str]] = {}
DATA = "Fashion-MNIST"  # the course data the open part needs: missing, grading says so everywhere (integrity.py)
